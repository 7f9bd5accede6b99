import { ServerResponse } from "http";

/**
 * What the guard answers itself: MLflow's error shape (`error_code`, `message`), so MLflow's clients
 * show the message, plus the guard's reason code. Never a stack trace, never a header value back.
 */
export interface GuardAnswer {
  readonly status: number;
  readonly errorCode: string;
  readonly message: string;
  /** Seconds a client should wait before it retries (a 503): the Retry-After header. */
  readonly retryAfterSeconds?: number;
}

/** Thrown on the way to MLflow: the guard answers it, with its reason in the audit line. */
export class Refusal {
  constructor(
    readonly reason: string,
    readonly answer: GuardAnswer,
  ) {}
}

const bad = (message: string): GuardAnswer => ({ status: 400, errorCode: "BAD_REQUEST", message });

/** Refusals by reason code; the message says what to change. */
export const REFUSALS: Readonly<Record<string, GuardAnswer>> = {
  "absolute-form": bad("the request target must be a path (origin form)"),
  "bad-encoding": bad("the path is not valid percent-encoding"),
  "encoded-separator": bad("the path may not encode '/', '\\' or '.' (%2F, %5C, %2E)"),
  "empty-segment": bad("the path may not contain '//'"),
  "dot-segment": bad("the path may not contain '.' or '..' segments"),
  "control-character": bad("the path may not contain control characters or '\\'"),
  "path-parameter": bad("the path may not contain ';'"),
  "identity-header-spelling": bad("a request may not send x-mlflow-gate-* headers: API Gateway sets them"),
  "identity-header-repeated": bad("a request may not send x-mlflow-gate-* headers: API Gateway sets them"),
  "two-credentials": bad("Authorization, X-Amz-Security-Token and X-Amz-Date may each carry one value"),
  "method-override": bad("method override headers are not accepted"),
  "workspace-header": bad("X-MLflow-Workspace is not accepted: the workspace is chosen by the path"),
  "presigned-query": bad(
    "credentials in the query string (presigned SigV4) are not accepted; sign the Authorization header",
  ),
  "identity-missing": bad("this route needs the caller's identity, which only API Gateway sets"),
  "identity-incomplete": bad("the caller's identity is incomplete"),
  "identity-malformed": bad("the caller's identity is malformed"),
  "source-ip-malformed": bad("the caller's source address, which only API Gateway sets, is not an IP address"),
  "identity-on-public-route": bad("a public route takes no x-mlflow-gate-* headers: API Gateway maps none there"),
  "surface-mismatch": bad("the caller was authorized on another surface than this route's"),
  "method-mismatch": bad("the method differs from the one API Gateway authorized"),
  "path-mismatch": bad("the path differs from the one API Gateway authorized"),
  "authorized-path-unreadable": bad("the path API Gateway authorized cannot be read unambiguously"),
  "workspace-path-required": {
    status: 404,
    errorCode: "ENDPOINT_NOT_FOUND",
    message: "with teams, MLflow's routes are under /ws/<team>/",
  },
  "workspace-path-malformed": {
    status: 404,
    errorCode: "ENDPOINT_NOT_FOUND",
    message: "a team route is /ws/<team>/<MLflow's route>, the team in lower case (a-z, 0-9, '-')",
  },
  "workspace-on-public-route": {
    status: 404,
    errorCode: "ENDPOINT_NOT_FOUND",
    message: "public routes (/health, /version, the UI's files) are not under /ws/<team>/",
  },
  "workspace-identity-missing": bad("a team route needs the team API Gateway maps from the path, which is missing"),
  "workspace-identity-mismatch": bad("the team API Gateway authorized differs from the path's team"),
  "workspace-identity-unexpected": bad("this deployment has no teams: a request may not send x-mlflow-gate-workspace"),
  "workspace-manage-denied": {
    status: 403,
    errorCode: "PERMISSION_DENIED",
    message: "only administrators may create, update or delete workspaces",
  },
  "workspace-not-reachable": {
    status: 403,
    errorCode: "PERMISSION_DENIED",
    message: "the caller's groups do not reach this workspace",
  },
  "artifact-path-unsafe": {
    status: 400,
    errorCode: "INVALID_PARAMETER_VALUE",
    message:
      "an artifact path may not hold '.' or '..' segments, '\\', control characters or a leading '/' (also percent-encoded)",
  },
  "artifact-path-workspace": {
    status: 403,
    errorCode: "PERMISSION_DENIED",
    message: "an artifact path may only enter workspaces/<ws>/ of the request's own workspace",
  },
  "get-with-body": bad("a GET or HEAD request must not have a body (MLflow would read it as its parameters)"),
  "not-utf8": bad("the body must be UTF-8 JSON"),
  "not-json": bad("the body must be JSON"),
  "not-an-object": bad("the body must be a JSON object"),
  "non-finite-number": bad("the body holds a number JSON cannot carry exactly (an overflow to infinity)"),
  "inexact-number": bad(
    "the body holds an integer beyond 2^53, which mlflow-gate cannot keep exact in a body it rewrites; send it as a string or a float",
  ),
  "graphql-get": {
    status: 405,
    errorCode: "BAD_REQUEST",
    message: "GraphQL takes POST only (MLflow answers a GET with a 500)",
  },
  "otlp-encoding": bad("the OTLP export's Content-Encoding must be gzip, deflate or none, and valid"),
  "otlp-not-json": bad("the OTLP JSON export is not JSON"),
  "payload-too-large": { status: 413, errorCode: "RESOURCE_LIMIT_EXCEEDED", message: "the body exceeds 10 MB" },
  "otlp-too-large": {
    status: 413,
    errorCode: "RESOURCE_LIMIT_EXCEEDED",
    message: "the OTLP export exceeds 10 MB decompressed",
  },
  "guard-busy": {
    status: 503,
    errorCode: "TEMPORARILY_UNAVAILABLE",
    message: "the guard holds as many request bodies as it may; retry shortly",
    retryAfterSeconds: 1,
  },
  "upstream-unreachable": { status: 502, errorCode: "TEMPORARILY_UNAVAILABLE", message: "MLflow is not answering" },
  "error-answer-unreadable": {
    status: 502,
    errorCode: "INTERNAL_ERROR",
    message: "MLflow's error answer was too large to check for database details, so it is not passed on",
  },
  "workspace-list-unreadable": {
    status: 502,
    errorCode: "TEMPORARILY_UNAVAILABLE",
    message: "MLflow's list of workspaces could not be read to keep only the caller's",
  },
  "guard-error": { status: 400, errorCode: "BAD_REQUEST", message: "the guard could not read the request" },
};

/** A GraphQL request the guard does not pass on: 400, or 413 for one over its size limit. */
export const graphqlRefusal = (message: string, status: 400 | 413 = 400): GuardAnswer => ({
  status,
  errorCode: status === 413 ? "RESOURCE_LIMIT_EXCEEDED" : "BAD_REQUEST",
  message,
});

/** A refusal by a stamping rule: its own message, 400 INVALID_PARAMETER_VALUE as MLflow says for a bad field. */
export const stampRefusal = (message: string): GuardAnswer => ({
  status: 400,
  errorCode: "INVALID_PARAMETER_VALUE",
  message,
});

export function sendAnswer(res: ServerResponse, answer: GuardAnswer, reason: string): void {
  const body = JSON.stringify({ error_code: answer.errorCode, message: `mlflow-gate: ${answer.message}`, reason });
  res.writeHead(answer.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-mlflow-gate-refused-by": "guard",
    ...(answer.retryAfterSeconds !== undefined ? { "retry-after": String(answer.retryAfterSeconds) } : {}),
  });
  res.end(body);
}
