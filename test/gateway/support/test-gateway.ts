import { API_GATEWAY } from "../../../authorizer/core/contract";
import type { MethodArnStage } from "../../../authorizer/core/method-arn";

// The settings every in-process gateway of the unit tests shares: the local stack's defaults.
export const TEST_GATEWAY = {
  region: "us-east-1",
  authorizerCacheTtlSeconds: 300,
  integrationTimeoutMs: 5000,
} as const;

/** The stage the passes' unit tests decide on (the emulator's API id and stage). */
export const TEST_STAGE: MethodArnStage = {
  partition: "aws",
  region: TEST_GATEWAY.region,
  account: API_GATEWAY.account,
  apiId: "mlflowgate",
  stage: "local",
};
