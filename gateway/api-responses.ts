import type { RequestDecision } from "../authorizer/core/decide-request";
import { formatMethodArn, MethodArn } from "../authorizer/core/method-arn";

/**
 * The answers API Gateway gives on its own, before or instead of the integration: status, body and
 * the `x-amzn-ErrorType` header its REST APIs send.
 */
export interface GatewayAnswer {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
  /** The body's key: `message`, or `Message` in IAM's own denials. @default "message" */
  readonly messageKey?: "message" | "Message";
}

export const ANSWERS = {
  unauthorized: { status: 401, errorType: "UnauthorizedException", message: "Unauthorized" },
  accessDenied: {
    status: 403,
    errorType: "AccessDeniedException",
    message: "User is not authorized to access this resource",
  },
  explicitDeny: {
    status: 403,
    errorType: "AccessDeniedException",
    message: "User is not authorized to access this resource with an explicit deny",
  },
  missingToken: {
    status: 403,
    errorType: "MissingAuthenticationTokenException",
    message: "Missing Authentication Token",
  },
  tooLarge: { status: 413, errorType: "RequestTooLargeException", message: "Request Too Long" },
  /** API Gateway's throttling answer; the emulator gives it when its own host's body budget is full. */
  tooManyRequests: { status: 429, errorType: "TooManyRequestsException", message: "Too Many Requests" },
  timeout: { status: 504, errorType: "IntegrationTimeoutException", message: "Endpoint request timed out" },
  mlflowDown: {
    status: 502,
    errorType: "BadGatewayException",
    message: "Bad gateway: MLflow is not answering (is it running?)",
  },
  badResponse: { status: 502, errorType: "BadGatewayException", message: "Bad gateway: MLflow's response was cut off" },
  /** INTEGRATION_FAILURE: what API Gateway answers for an integration response it cannot pass on (over 10 MB, buffered). */
  integrationFailure: { status: 502, errorType: "InternalServerErrorException", message: "Internal server error" },
  /** API_CONFIGURATION_ERROR: a method its own configuration keeps from running (a MOCK that cannot map a binary payload). */
  configurationError: { status: 500, errorType: "InternalServerErrorException", message: "Internal server error" },
  badRequest: { status: 400, errorType: "BadRequestException", message: "Bad request" },
  /** AWS documents the status of a method ARN over 1,600 bytes, not its body or error type. */
  uriTooLong: { status: 414, errorType: "RequestUriTooLongException", message: "Request URI too long" },
  notFound: { status: 404, errorType: "NotFoundException", message: "Not Found" },
} as const satisfies Record<string, GatewayAnswer>;

/** An IAM authorization failure with API Gateway's own message (bad signature, unknown key, ...). */
export function iamDenied(message: string): GatewayAnswer {
  return {
    status: 403,
    errorType: message === ANSWERS.missingToken.message ? ANSWERS.missingToken.errorType : "InvalidSignatureException",
    message,
  };
}

/** API Gateway's answer to a request the caller's policies deny: it says so when a Deny statement matched. */
export function deniedAnswer(decision: RequestDecision): GatewayAnswer {
  return decision.evaluation?.decision === "ExplicitDeny" ? ANSWERS.explicitDeny : ANSWERS.accessDenied;
}

/** The account of a resource ARN as IAM's denials print it: its last four digits. */
const maskedAccount = (account: string): string => `${"*".repeat(Math.max(0, account.length - 4))}${account.slice(-4)}`;

/**
 * An AWS_IAM method's answer when the caller's policies do not allow the request: IAM's own words, under
 * `Message`, naming the caller's ARN, the action and the request's method ARN (its account masked to the
 * last four digits), and `with an explicit deny` when a Deny statement matched.
 */
export function iamPolicyDenied(callerArn: string, methodArn: MethodArn, explicit: boolean): GatewayAnswer {
  const resource = formatMethodArn({ ...methodArn, account: maskedAccount(methodArn.account) });
  return {
    status: 403,
    errorType: "AccessDeniedException",
    messageKey: "Message",
    message: `User: ${callerArn} is not authorized to perform: execute-api:Invoke on resource: ${resource}${explicit ? " with an explicit deny" : ""}`,
  };
}
