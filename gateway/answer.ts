import { ServerResponse } from "http";
import type { AuthType } from "../authorizer/core/catalog";
import { LogHead, LogLevel } from "../common/log";
import { GatewayAnswer } from "./api-responses";

/** One JSON line per request, in the common log shape; never a token, a signature or a body. */
export interface AccessLogEntry extends LogHead {
  readonly event: "request";
  /** `context.requestId` (x-amzn-RequestId). */
  readonly requestId: string;
  /** `context.extendedRequestId` (x-amz-apigw-id): the guard's audit trail names the request by it. */
  readonly extendedRequestId?: string;
  readonly method: string;
  readonly path: string;
  /** `context.resourcePath`: the API resource the request matched (`/ajax-api/2.0/mlflow/runs/{proxy+}`). */
  readonly resourcePath?: string;
  readonly status: number;
  readonly decision: "allow" | "deny" | "unauthorized" | "public" | "error";
  readonly reason?: string;
  readonly surface?: AuthType;
  readonly action?: string;
  readonly principal?: string;
  readonly username?: string;
  readonly groups?: readonly string[];
  /** The SigV4 access key id (never its secret). */
  readonly accessKeyId?: string;
  /** The Lambda authorizer on a Cognito request that reached it or its result cache. */
  readonly authorizer?: AuthorizerFacts;
  readonly latencyMs: number;
}

/**
 * What the access log says of the Lambda authorizer, after API Gateway's `$context.authorizer.*` variables:
 * `requestId` (`$context.authorizer.requestId`) only when it was invoked, `cached` when the answer came from
 * the result cache instead (`latencyMs` 0 then).
 */
export interface AuthorizerFacts {
  readonly cached: boolean;
  /** `$context.authorizer.status`: 200 with a policy, 401 on "Unauthorized", 500 on any other failure. */
  readonly status: number;
  /** `$context.authorizer.latency`, in ms. */
  readonly latencyMs: number;
  /** `$context.authorizer.requestId`: the invocation's id. */
  readonly requestId?: string;
}

/** What the passes have learned of a request for its log line, before it ends. */
export type RequestFacts = Omit<
  AccessLogEntry,
  "time" | "level" | "component" | "event" | "status" | "decision" | "reason" | "latencyMs"
>;

/** How bad a request's end is: refused or unauthorized ones warn, failures are errors. */
export function levelOf(decision: AccessLogEntry["decision"]): LogLevel {
  return decision === "error" ? "error" : decision === "deny" || decision === "unauthorized" ? "warn" : "info";
}

/** A request the gateway answers itself, with API Gateway's error body, and what the log says of it. */
export interface Refusal {
  readonly answer: GatewayAnswer;
  readonly decision: AccessLogEntry["decision"];
  readonly reason?: string;
  /** The client may still be sending (a body past the limit): the connection closes after the answer. */
  readonly closeConnection?: boolean;
}

/** A request someone else has answered (the integration, a file): its status and what the log says of it. */
export interface Answered {
  readonly status: number;
  readonly decision: AccessLogEntry["decision"];
  readonly reason?: string;
}

/** What a pass returns: go on with what it learned, or stop with the gateway's answer. */
export type PassResult<T> = { readonly go: T } | { readonly stop: Refusal };

export const refuse = (answer: GatewayAnswer, decision: Refusal["decision"], reason: string): { stop: Refusal } => ({
  stop: { answer, decision, reason },
});

/** One request in flight: its ids (x-amzn-RequestId, and x-amz-apigw-id for API Gateway's) and when it arrived. */
export interface RequestClock {
  readonly requestId: string;
  /** API Gateway's `context.extendedRequestId`; none for what the local front answers in Amplify's place. */
  readonly extendedRequestId?: string;
  /** performance.now() at arrival. */
  readonly started: number;
}

/** API Gateway's own answer: its JSON error body, x-amzn-RequestId, x-amz-apigw-id and x-amzn-ErrorType. */
function sendAnswer(res: ServerResponse, clock: RequestClock, refusal: Refusal): void {
  const body = JSON.stringify({ [refusal.answer.messageKey ?? "message"]: refusal.answer.message });
  if (refusal.closeConnection) res.setHeader("connection", "close");
  res.writeHead(refusal.answer.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": clock.requestId,
    ...(clock.extendedRequestId !== undefined ? { "x-amz-apigw-id": clock.extendedRequestId } : {}),
    "x-amzn-errortype": refusal.answer.errorType,
  });
  res.end(body);
}

/**
 * The one writer of a request's end: API Gateway's answer when the gateway answers (a response that
 * has begun already can only be cut off), then the request's access-log line, in every case.
 */
export function createRequestEnd(
  log: (entry: AccessLogEntry) => void,
): (res: ServerResponse, clock: RequestClock, facts: RequestFacts, end: Refusal | Answered) => void {
  return (res, clock, facts, end) => {
    let status: number;
    if ("answer" in end) {
      try {
        if (!res.headersSent) sendAnswer(res, clock, end);
        else res.destroy();
      } catch {
        // An answer that cannot be written (the connection is gone) leaves nothing but to cut it.
        res.destroy();
      }
      status = end.answer.status;
    } else status = end.status;
    try {
      log({
        time: new Date().toISOString(),
        level: levelOf(end.decision),
        component: "gateway",
        event: "request",
        ...facts,
        decision: end.decision,
        ...(end.reason !== undefined ? { reason: end.reason } : {}),
        status,
        latencyMs: Math.round((performance.now() - clock.started) * 10) / 10,
      });
    } catch {
      // A failing log sink (a closed stdout) must not take the gateway down with an unhandled rejection.
    }
  };
}
