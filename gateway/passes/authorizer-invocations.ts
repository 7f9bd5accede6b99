import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import type { Authorizer } from "../../authorizer/authorize";
import { AuthorizerFacts } from "../answer";
import { AuthorizationResult } from "./authorization";

/** The authorizer's status as `$context.authorizer.status` gives it: a thrown "Unauthorized" is a 401, any other failure a 500. */
function statusOfFailure(e: unknown): number {
  return e instanceof Error && e.message === "Unauthorized" ? 401 : 500;
}

/** The most invocations remembered before their requests' log lines take them. */
const MAX_PENDING_INVOCATIONS = 10_000;

/**
 * The Lambda authorizer, watched from outside the pass that calls it (whatever keys its cache): each invocation is
 * remembered under the request id of its event until the request's log line takes it. A request whose caller is
 * known without an invocation had its answer from the result cache.
 */
export function watchAuthorizer(authorizer: Authorizer): {
  readonly authorizer: Authorizer;
  /** What the access log says of the authorizer on a request, once the authorize pass has answered. */
  take(requestId: string, result: AuthorizationResult): AuthorizerFacts | undefined;
} {
  const invocations = new Map<string, AuthorizerFacts>();
  // Bounded: an invocation whose request never reached its log line (a pass that threw after it) is dropped in
  // time, the oldest first, as the gateway's requests in flight are far fewer.
  const remember = (requestId: string, facts: AuthorizerFacts): void => {
    if (invocations.size >= MAX_PENDING_INVOCATIONS) invocations.delete(invocations.keys().next().value as string);
    invocations.set(requestId, facts);
  };
  return {
    async authorizer(event: APIGatewayRequestAuthorizerEvent) {
      const started = performance.now();
      const facts = (status: number): AuthorizerFacts => ({
        cached: false,
        status,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        requestId: randomUUID(),
      });
      try {
        const result = await authorizer(event);
        remember(event.requestContext.requestId, facts(200));
        return result;
      } catch (e) {
        remember(event.requestContext.requestId, facts(statusOfFailure(e)));
        throw e;
      }
    },
    take(requestId, result) {
      const invoked = invocations.get(requestId);
      invocations.delete(requestId);
      if (invoked) return invoked;
      // Only policies are cached: a caller known without an invocation came from the cache.
      const known = "go" in result || result.identity !== undefined;
      return known ? { cached: true, status: 200, latencyMs: 0 } : undefined;
    },
  };
}
