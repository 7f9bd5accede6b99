/**
 * The contract between the local stack and AWS: what API Gateway fixes, and what both places send
 * the guard. The CDK constructs and the emulator both read it, so the two cannot drift apart.
 */

/** What API Gateway fixes and the local stage imitates. */
export const API_GATEWAY = {
  /** Payload limit of a REST API. */
  maxPayloadBytes: 10 * 1024 * 1024,
  /** The methodArn of a local request: a fixed account, API id and stage. */
  account: "000000000000",
  apiId: "mlflowgate",
  stage: "local",
} as const;
