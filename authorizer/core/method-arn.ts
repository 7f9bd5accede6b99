import { MethodArnError } from "./errors";

/**
 * The execute-api ARN of one request, as API Gateway names it to IAM and to a Lambda authorizer:
 * `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}`. This module is the
 * one home of that shape: whatever builds or reads such an ARN (policies, the emulator, the
 * authorizer, the CLI) goes through it.
 */
export interface MethodArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly apiId: string;
  readonly stage: string;
  readonly method: string;
  /** The request path with its leading "/" (API Gateway drops it from the ARN). */
  readonly path: string;
}

/**
 * The stage part of a MethodArn: what a policy's resources are scoped to. Where policies are built,
 * values may be `*` or placeholders such as `${AWS::Region}` or CDK tokens.
 */
export type MethodArnStage = Omit<MethodArn, "method" | "path">;

const METHOD_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):execute-api:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([a-zA-Z0-9]{1,64})\/([A-Za-z0-9_-]{1,128})\/([A-Z]+|\*)\/(.*)$/s;

/** Reads a methodArn as API Gateway sends it to an authorizer; throws MethodArnError for anything else. */
export function parseMethodArn(arn: unknown): MethodArn {
  if (typeof arn !== "string" || arn.length > 4096)
    throw new MethodArnError("methodArn must be a string of at most 4096 characters");
  const m = METHOD_ARN.exec(arn);
  if (!m)
    throw new MethodArnError(
      "methodArn is not arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<VERB>/<path>",
    );
  const [, partition, region, account, apiId, stage, method, rest] = m as unknown as string[];
  return {
    partition: partition!,
    region: region!,
    account: account!,
    apiId: apiId!,
    stage: stage!,
    method: method!,
    path: `/${rest}`,
  };
}

/** `arn:…:{apiId}/{stage}/`: what every resource of one API stage starts with. */
export function stageArnPrefix(stage: MethodArnStage): string {
  return `arn:${stage.partition}:execute-api:${stage.region}:${stage.account}:${stage.apiId}/${stage.stage}/`;
}

export function formatMethodArn(arn: MethodArn): string {
  return `${stageArnPrefix(arn)}${arn.method}${arn.path}`;
}

const STAGE_PREFIX = /^arn:[^:]*:execute-api:[^:]*:[^:]*:[^/]*\/[^/]*\//;

/**
 * A resource (or resource pattern) relative to its stage, `VERB/path`, as people read it: the account
 * and API id say nothing about a decision. Anything that is not an execute-api ARN comes back unchanged.
 */
export function stageRelativeResource(resource: string): string {
  return resource.replace(STAGE_PREFIX, "");
}
