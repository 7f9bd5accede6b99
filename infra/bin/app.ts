// The CDK app (cdk.json): `npx cdk synth --all`, `npx cdk deploy --all`. It builds the patched UI first
// (MLflow's prebuilt UI from the pinned wheel in .venv, plus the login shell) into dist/ui, unless dist/ui
// already holds the build of the same sources: then `cdk diff` and `cdk destroy` install and build nothing.
import { App } from "aws-cdk-lib";
import { ConfigError } from "../../authorizer/core/errors";
import { loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR, UI_BUILD_DIR } from "../../project/paths";
import { ensureMlflowVenv } from "../../project/mlflow-venv";
import { fingerprintOf, isCurrentBuild, stampBuild, uiSourceFiles } from "../../ui-patch/build-stamp";
import { buildUi } from "../../ui-patch/build-ui";
import { buildMlflowGateApp } from "../app";
import { parseInfraConfig } from "../config";

async function main(): Promise<void> {
  const app = new App();
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const config = parseInfraConfig(app.node.tryGetContext("mlflow-gate"), new Set(policySet.groups.keys()));
  const fingerprint = fingerprintOf(uiSourceFiles());
  if (isCurrentBuild(UI_BUILD_DIR, fingerprint)) {
    process.stderr.write(`mlflow-gate: reusing the patched UI in ${UI_BUILD_DIR} (built from the same sources)\n`);
  } else {
    ensureMlflowVenv();
    const ui = await buildUi(UI_BUILD_DIR);
    stampBuild(ui.outDir, fingerprint);
    process.stderr.write(`mlflow-gate: patched UI built in ${ui.outDir}\n`);
  }
  buildMlflowGateApp(app, config, policySet, { uiDirectory: UI_BUILD_DIR });
}

main().catch((e: Error) => {
  // A config problem is the user's to fix: its message alone; anything else with its stack.
  process.stderr.write(`mlflow-gate: ${e instanceof ConfigError ? e.message : (e.stack ?? e.message)}\n`);
  process.exit(1);
});
