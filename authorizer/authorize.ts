import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { AuthorizerConfig } from "./config";
import { AnswerKey, isResourceTemplate } from "./core/answer-scope";
import { buildDenyAllPolicy, PolicyDocument } from "./core/compile";
import { answerKeyOf, decideRequest, RequestDecision } from "./core/decide-request";
import { ParsedPolicy, parsePolicyDocument } from "./core/evaluate";
import { MethodArn, parseMethodArn } from "./core/method-arn";
import { authorizerScope, PolicySet } from "./core/policy-set";
import { BearerTokenError, extractBearerToken, TokenVerifier } from "./token";

/** Where the authorizer writes its one JSON line per call (decision-log.ts in Lambda). */
export interface DecisionLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface AuthorizerProps {
  readonly config: Pick<AuthorizerConfig, "maxTokenBytes">;
  readonly policySet: PolicySet;
  readonly verifier: TokenVerifier;
  readonly logger: DecisionLogger;
}

export type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** What API Gateway turns into a 401; the only value this authorizer ever throws. */
const UNAUTHORIZED = "Unauthorized";

interface Identity {
  readonly sub: string;
  readonly username: string;
  /** Known groups only, sorted. */
  readonly groups: readonly string[];
}

function reasonOf(err: unknown): string {
  if (err instanceof BearerTokenError) return err.reason;
  // aws-jwt-verify's errors do not set `name`; their class is what tells them apart.
  return (err as object | null)?.constructor?.name ?? "unknown";
}

function identityOf(payload: JwtPayload, policySet: PolicySet): Identity {
  const sub = payload.sub as string;
  const claimed = payload["cognito:groups"];
  const names = Array.isArray(claimed) && claimed.every((g): g is string => typeof g === "string") ? claimed : [];
  return {
    sub,
    username: typeof payload.username === "string" ? payload.username : sub,
    groups: policySet.knownGroups(names),
  };
}

function readMethodArn(methodArn: unknown): MethodArn | undefined {
  try {
    return parseMethodArn(methodArn);
  } catch {
    return undefined;
  }
}

/**
 * The answer for the request's cache key (its verb and API resource, answer-scope.ts), scoped to the methodArn's
 * API; a deny-all when the methodArn or the resource cannot be read. With the decision on the request that invoked
 * the authorizer, for the log.
 */
function answer(
  groups: readonly string[],
  rawMethodArn: unknown,
  rawResource: unknown,
  policies: PolicyMemo,
): { policyDocument: PolicyDocument; decision: RequestDecision } {
  const methodArn = readMethodArn(rawMethodArn);
  const resource = isResourceTemplate(rawResource) ? rawResource : undefined;
  if (methodArn && !resource)
    return { policyDocument: buildDenyAllPolicy(), decision: { decision: "deny", reason: "malformed-resource" } };
  const policy =
    methodArn && resource ? policies.of(groups, methodArn, answerKeyOf(policies.set, methodArn, resource)) : undefined;
  const policyDocument = policy?.document ?? buildDenyAllPolicy();
  const located = methodArn && policies.set.locate(methodArn.method, methodArn.path);
  const route = located ? located.route : undefined;
  const decision = decideRequest(policies.set, {
    methodArn,
    resource,
    route,
    surface: located ? located.surface : "cognito",
    groups,
    policies: [policy?.parsed ?? parsePolicyDocument(policyDocument)],
  });
  return { policyDocument, decision };
}

/**
 * The most answers a warm authorizer keeps: one per set of known groups, API and cache key (verb and resource),
 * so a few hundred in practice (the API has about a hundred Cognito methods).
 */
const MAX_MEMOISED_POLICIES = 4096;

/**
 * The answer and the decision for one set of known groups, methodArn and resource: a pure function of the three,
 * kept so that a warm authorizer decides a repeated request once (the token is verified on every call all the
 * same). A few thousand requests' worth; the oldest half goes when it is full.
 */
class AnswerMemo {
  private readonly memo = new Map<string, ReturnType<typeof answer>>();

  constructor(private readonly policies: PolicyMemo) {}

  of(groups: readonly string[], rawMethodArn: unknown, rawResource: unknown): ReturnType<typeof answer> {
    // Only what API Gateway sends (strings) is kept; anything else is decided afresh (a deny).
    if (typeof rawMethodArn !== "string" || typeof rawResource !== "string")
      return answer(groups, rawMethodArn, rawResource, this.policies);
    // Unambiguous whatever the strings hold: known group names match GROUP_NAME (no "|"); the resource's length is given.
    const key = `${groups.join(",")}|${rawResource.length}|${rawResource}${rawMethodArn}`;
    let found = this.memo.get(key);
    if (!found) {
      found = answer(groups, rawMethodArn, rawResource, this.policies);
      if (this.memo.size >= MAX_MEMOISED_POLICIES)
        for (const k of [...this.memo.keys()].slice(0, MAX_MEMOISED_POLICIES / 2)) this.memo.delete(k);
      this.memo.set(key, found);
    }
    return found;
  }
}

/**
 * The authorizer's answer per set of known groups, API and cache key, built and parsed once: a warm Lambda answers
 * the members of one group alike. The answers are never changed after they are built.
 */
class PolicyMemo {
  private readonly memo = new Map<string, { document: PolicyDocument; parsed: ParsedPolicy }>();

  constructor(readonly set: PolicySet) {}

  of(
    groups: readonly string[],
    methodArn: MethodArn,
    key: AnswerKey,
  ): { document: PolicyDocument; parsed: ParsedPolicy } {
    const scope = authorizerScope(methodArn);
    const memoKey = `${scope.partition}:${scope.apiId}:${groups.join(",")}:${key.method} ${key.resource} ${key.workspace ?? ""}`;
    let policy = this.memo.get(memoKey);
    if (!policy) {
      const document = this.set.authorizerAnswer(groups, scope, key);
      policy = { document, parsed: parsePolicyDocument(document) };
      if (this.memo.size >= MAX_MEMOISED_POLICIES) this.memo.clear();
      this.memo.set(memoKey, policy);
    }
    return policy;
  }
}

/**
 * The Lambda REQUEST authorizer: 401 (throws "Unauthorized") for any token that is not a valid
 * Cognito access token; otherwise the part of the policy of the caller's known groups that decides requests of
 * this verb under this API resource (API Gateway caches it per token, verb and resource, and applies it to every
 * request with the same three), or a Deny when there is none.
 * Fails closed: nothing after verification can produce an Allow from an error.
 */
export function createAuthorizer({ config, policySet, verifier, logger }: AuthorizerProps): Authorizer {
  const answers = new AnswerMemo(new PolicyMemo(policySet));
  const log = (level: "info" | "error", fields: Record<string, unknown>): void => {
    try {
      logger[level]("authorizer decision", fields);
    } catch {
      // A failing logger must not change the decision.
    }
  };

  return async (event) => {
    const methodArn: unknown = event?.methodArn;
    const meta = {
      methodArn: typeof methodArn === "string" ? methodArn.slice(0, 1024) : undefined,
      requestId: event?.requestContext?.requestId,
    };

    let payload: JwtPayload;
    try {
      payload = await verifier.verify(extractBearerToken(event, config.maxTokenBytes));
    } catch (err) {
      log("info", { decision: "unauthorized", reason: reasonOf(err), ...meta });
      throw new Error(UNAUTHORIZED);
    }

    let identity: Identity | undefined;
    try {
      identity = identityOf(payload, policySet);
      const { policyDocument, decision } = answers.of(identity.groups, methodArn, event?.resource);
      log("info", {
        decision: decision.decision,
        // Why a request is refused; an allowed one needs no reason.
        reason: decision.decision === "deny" ? decision.reason : undefined,
        principal: identity.sub,
        username: identity.username,
        groups: identity.groups,
        ...meta,
      });
      return {
        principalId: identity.sub,
        policyDocument,
        context: { username: identity.username, groups: identity.groups.join(","), tokenUse: "access" },
      };
    } catch (err) {
      const e = err as Error | undefined;
      log("error", {
        decision: "deny",
        reason: reasonOf(err),
        error: String(e?.message ?? e).slice(0, 500),
        principal: identity?.sub,
        username: identity?.username,
        groups: identity?.groups,
        ...meta,
      });
      const sub = typeof payload.sub === "string" ? payload.sub : "unknown";
      return { principalId: sub, policyDocument: buildDenyAllPolicy() };
    }
  };
}
