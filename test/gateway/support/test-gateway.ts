// The settings every in-process gateway of the unit tests shares: the local stack's defaults.
export const TEST_GATEWAY = {
  region: "us-east-1",
  authorizerCacheTtlSeconds: 300,
  integrationTimeoutMs: 5000,
} as const;
