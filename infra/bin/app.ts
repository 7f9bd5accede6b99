// The CDK app (cdk.json): `npx cdk synth --all`, `npx cdk deploy --all`.
import { App } from "aws-cdk-lib";
import { ConfigError } from "../../authorizer/core/errors";
import { loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../scripts/lib/mlflow-env";
import { buildMlflowGateApp } from "../app";
import { parseInfraConfig } from "../config";

const app = new App();
try {
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const config = parseInfraConfig(app.node.tryGetContext("mlflow-gate"), new Set(policySet.groups.keys()));
  buildMlflowGateApp(app, config, policySet);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`mlflow-gate: ${e.message}\n`);
  process.exit(1);
}
