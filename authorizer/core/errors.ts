/**
 * Every error the core throws, as one taxonomy. Callers branch on the class, logs carry its name;
 * messages never contain tokens or secrets.
 */
export abstract class MlflowGateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The route catalog is malformed. */
export class CatalogError extends MlflowGateError {}

/** A group file is malformed or inconsistent; `problems` lists each one as `file:line: message`. */
export class GroupPolicyError extends MlflowGateError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** A policy cannot be compiled within the limits, or would grant more than intended. */
export class CompileError extends MlflowGateError {}

/** A policy document uses an IAM feature the evaluator does not implement (treated as deny). */
export class UnsupportedPolicyError extends MlflowGateError {}

/** A methodArn is not of the form API Gateway sends. */
export class MethodArnError extends MlflowGateError {}

/**
 * A configuration is invalid; the program stops at start (the authorizer's cold start fails) with this
 * message. `problems` lists each one, for a caller that reports them together with its own.
 */
export class ConfigError extends MlflowGateError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}
