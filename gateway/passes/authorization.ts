import { decideRequest, RequestDecision } from "../../authorizer/core/decide-request";
import { ParsedPolicy } from "../../authorizer/core/evaluate";
import { PolicySet } from "../../authorizer/core/policy-set";
import { deniedAnswer, GatewayAnswer } from "../api-responses";
import { RequestFacts, Refusal } from "../answer";
import { RoutedRequest } from "./route";

/** Who the caller is, as the access log and the integration's identity mappings see it. */
export interface Identity {
  readonly principal?: string;
  readonly username?: string;
  /** SigV4 only: joins a request to the STS log line that issued a session's key (key ids are not secrets). */
  readonly accessKeyId?: string;
  readonly groups: readonly string[];
  /** SigV4 only: the caller's ARN (`context.identity.userArn`). */
  readonly arn?: string;
}

/** What an authorize pass returns: go on as the caller, or a refusal (naming the caller when it is known). */
export type AuthorizationResult = { readonly go: Identity } | { readonly stop: Refusal; readonly identity?: Identity };

/** What the access log records of a caller. */
export function identityFacts(identity: Identity): Partial<RequestFacts> {
  return {
    principal: identity.principal,
    username: identity.username,
    groups: identity.groups,
    ...(identity.accessKeyId ? { accessKeyId: identity.accessKeyId } : {}),
  };
}

/** The core's decision on the request under the caller's policies, as API Gateway answers it. */
export function authorizeByPolicies(
  policySet: PolicySet,
  routed: RoutedRequest,
  identity: Identity,
  policies: readonly ParsedPolicy[],
  answerOf: (decision: RequestDecision) => GatewayAnswer = deniedAnswer,
): AuthorizationResult {
  const d = decideRequest(policySet, { ...routed, groups: identity.groups, policies });
  if (d.decision === "allow") return { go: identity };
  return { stop: { answer: answerOf(d), decision: "deny", reason: d.reason }, identity };
}
