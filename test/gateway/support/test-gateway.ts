import type { ApiDefinition } from "../../../authorizer/core/api-definition";
import { API_GATEWAY } from "../../../authorizer/core/contract";
import type { MethodArnStage } from "../../../authorizer/core/method-arn";
import type { PolicySet } from "../../../authorizer/core/policy-set";
import { renderLocalApiDefinition } from "../../../gateway/local-api";

// The settings every in-process gateway of the unit tests shares: the local stack's defaults.
export const TEST_GATEWAY = { region: "us-east-1" } as const;
export const TEST_TIMEOUTS = { authorizerCacheTtlSeconds: 300, integrationTimeoutMs: 5000 } as const;

/** A login shell config for the API's MOCK, as a local stack's. */
export const TEST_UI_CONFIG = {
  userPoolId: "us-east-1_test",
  userPoolClientId: "testclient",
  region: TEST_GATEWAY.region,
  authFlow: "USER_PASSWORD_AUTH",
} as const;

/**
 * The API definition a test gateway runs: the local rendering of the catalog (under `/ws/{workspace}/` when the
 * policy set has teams), its integrations to `upstream`.
 */
export function testApi(
  policySet: PolicySet,
  upstream: URL,
  options: { integrationTimeoutMs?: number; authorizerCacheTtlSeconds?: number } = {},
): ApiDefinition {
  return renderLocalApiDefinition(policySet.catalog.routes, {
    upstream,
    uiConfigJson: JSON.stringify(TEST_UI_CONFIG),
    integrationTimeoutMs: options.integrationTimeoutMs ?? TEST_TIMEOUTS.integrationTimeoutMs,
    authorizerTtlSeconds: options.authorizerCacheTtlSeconds ?? TEST_TIMEOUTS.authorizerCacheTtlSeconds,
    version: policySet.catalog.mlflowVersion,
    workspaces: policySet.teams !== undefined,
  });
}

/** The stage the passes' unit tests decide on (the emulator's API id and stage). */
export const TEST_STAGE: MethodArnStage = {
  partition: "aws",
  region: TEST_GATEWAY.region,
  account: API_GATEWAY.account,
  apiId: "mlflowgate",
  stage: "local",
};
