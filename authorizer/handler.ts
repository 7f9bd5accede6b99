// The Lambda entry. Everything is built once at cold start; a bad configuration or policy bundle
// throws a ConfigError here, so the function fails to start instead of answering requests.
import { createAuthorizer } from "./authorize";
import { parseAuthorizerConfig } from "./config";
import { createDecisionLog } from "./decision-log";
import { loadPolicyBundle } from "./policy-bundle";
import { createTokenVerifier } from "./token";

const config = parseAuthorizerConfig(process.env);

export const handler = createAuthorizer({
  config,
  policySet: loadPolicyBundle(config.policyBundlePath),
  verifier: createTokenVerifier(config),
  logger: createDecisionLog({ service: "mlflow-gate-authorizer" }),
});
