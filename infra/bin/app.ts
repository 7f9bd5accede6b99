// The CDK app (cdk.json): `npx cdk synth` (every stack), `npx cdk deploy --all`. It builds the patched UI first
// (MLflow's prebuilt UI from the pinned wheel in .venv, plus the login shell) into dist/ui, unless dist/ui
// already holds the build of the same sources: then `cdk diff` and `cdk destroy` install and build nothing.
import { App } from "aws-cdk-lib";
import { ConfigError } from "../../authorizer/core/errors";
import { UI_BUILD_DIR } from "../../project/paths";
import { ensureMlflowVenv } from "../../project/mlflow-venv";
import { fingerprintOf, isCurrentBuild, stampBuild, uiSourceFiles } from "../../ui-patch/build-stamp";
import { buildUi } from "../../ui-patch/build-ui";
import { buildMlflowGateApp } from "../app";
import { parseInfraConfig } from "../config";
import { loadDeployedPolicies, policyDirsOf } from "../policy-dirs";

async function main(): Promise<void> {
  const app = new App();
  // policies/groups and policies/teams, unless the context names others (`-c teamsDir=policies/examples/teams`).
  const policyDirs = policyDirsOf((key) => app.node.tryGetContext(key));
  const policySet = loadDeployedPolicies(policyDirs);
  const config = parseInfraConfig(app.node.tryGetContext("mlflow-gate"), policySet.callerGroups);
  const fingerprint = fingerprintOf(uiSourceFiles());
  if (isCurrentBuild(UI_BUILD_DIR, fingerprint)) {
    process.stderr.write(`mlflow-gate: reusing the patched UI in ${UI_BUILD_DIR} (built from the same sources)\n`);
  } else {
    ensureMlflowVenv();
    const ui = await buildUi(UI_BUILD_DIR);
    stampBuild(ui.outDir, fingerprint);
    process.stderr.write(`mlflow-gate: patched UI built in ${ui.outDir}\n`);
  }
  buildMlflowGateApp(app, config, policySet, { uiDirectory: UI_BUILD_DIR, policyDirs });
}

main().catch((e: Error) => {
  // A config problem is the user's to fix: its message alone; anything else with its stack.
  process.stderr.write(`mlflow-gate: ${e instanceof ConfigError ? e.message : (e.stack ?? e.message)}\n`);
  process.exit(1);
});
