import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { IncomingMessage } from "http";
import type { Authorizer } from "../../authorizer/authorize";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { ParsedPolicy, parsePolicyDocumentOnce } from "../../authorizer/core/evaluate";
import { formatMethodArn } from "../../authorizer/core/method-arn";
import { PolicySet } from "../../authorizer/core/policy-set";
import { ANSWERS } from "../api-responses";
import { refuse } from "../answer";
import { IdentitySource } from "../api-model";
import { AuthorizerCache } from "../authorizer-cache";
import { AuthorizationResult, authorizeByPolicies, Identity } from "./authorization";
import { CONTRACT_IDENTITY_SOURCES, readIdentitySources } from "./identity-source";
import { RoutedRequest } from "./route";
import { Target } from "./target";

export interface CognitoAuthorizationProps {
  readonly policySet: PolicySet;
  /** The same module the Lambda runs (authorizer/authorize.ts). */
  readonly authorizer: Authorizer;
  /** API Gateway's authorizer result cache TTL; 0 disables it. */
  readonly cacheTtlMs: number;
  /** The authorizer's identity sources (the definition's), whose values key its cache. @default CONTRACT_IDENTITY_SOURCES */
  readonly identitySources?: readonly IdentitySource[];
  /** Milliseconds since the epoch (the cache's clock). */
  readonly now: () => number;
}

/** What API Gateway hands the authorizer of a request: its head (the identity sources among it), target and id. */
export interface AuthorizerRequestParts {
  readonly req: Pick<IncomingMessage, "method" | "headers" | "rawHeaders"> & {
    readonly socket?: { readonly remoteAddress?: string | undefined };
  };
  readonly target: Target;
  readonly requestId: string;
}

/** A query string as API Gateway hands it to a REQUEST authorizer: the last value of each name, and all of them. */
function queryParameters(
  rawQuery: string,
): { single: Record<string, string>; multi: Record<string, string[]> } | undefined {
  if (rawQuery === "") return undefined;
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { single, multi };
}

/**
 * The REQUEST authorizer event API Gateway sends for a request: the method ARN, the method's resource and
 * path parameters, every header and query parameter as sent, and the request context.
 */
export function buildAuthorizerEvent(
  req: Pick<IncomingMessage, "method" | "rawHeaders">,
  target: Target,
  routed: Pick<RoutedRequest, "methodArn" | "method" | "pathParameters">,
  requestId: string,
): APIGatewayRequestAuthorizerEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query = queryParameters(target.rawQuery);
  return {
    type: "REQUEST",
    methodArn: formatMethodArn(routed.methodArn),
    resource: routed.method.resourcePath,
    path: target.path,
    httpMethod: req.method ?? "",
    headers,
    multiValueHeaders,
    pathParameters: Object.keys(routed.pathParameters).length > 0 ? { ...routed.pathParameters } : null,
    queryStringParameters: query?.single ?? null,
    multiValueQueryStringParameters: query?.multi ?? null,
    stageVariables: null,
    requestContext: {
      requestId,
      stage: API_GATEWAY.stage,
      apiId: API_GATEWAY.apiId,
      resourcePath: routed.method.resourcePath,
      httpMethod: req.method ?? "",
      path: target.path,
    },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** The caller an authorizer's answer names: its principal, and the username and groups of its context. */
export function identityOfResult(result: APIGatewayAuthorizerResult): Identity {
  const ctx = result.context ?? {};
  const groups = typeof ctx.groups === "string" && ctx.groups !== "" ? ctx.groups.split(",") : [];
  return {
    principal: result.principalId,
    username: typeof ctx.username === "string" ? ctx.username : undefined,
    groups,
  };
}

/**
 * The Lambda authorizer as API Gateway runs it: 401 without calling it when an identity source is missing
 * or empty; its answer cached per identity sources' values (token, verb, resource) for the TTL (a 401 is not
 * cached) and its policy evaluated on every request; a thrown "Unauthorized" is a 401, any other failure a 403.
 */
export function createCognitoAuthorization(
  props: CognitoAuthorizationProps,
): (request: AuthorizerRequestParts, routed: RoutedRequest) => Promise<AuthorizationResult> {
  const cache = new AuthorizerCache(props.cacheTtlMs, props.now);
  const identitySources = props.identitySources ?? CONTRACT_IDENTITY_SOURCES;

  return async ({ req, target, requestId }, routed) => {
    // API Gateway answers 401 without calling the authorizer when an identity source is missing or empty (the
    // gateway asks before it reads the body; asked again here, this pass stands on its own).
    const read = readIdentitySources(identitySources, { req, target, resourcePath: routed.method.resourcePath });
    if ("stop" in read) return read;
    // Keyed by every value in order; of two Authorization headers the first counts (the authorizer itself
    // refuses two values on a miss, and the guard refuses them in both places).
    const values = read.go;
    let result = cache.get(values);
    if (!result) {
      try {
        result = await props.authorizer(buildAuthorizerEvent(req, target, routed, requestId));
      } catch (e) {
        return e instanceof Error && e.message === "Unauthorized"
          ? refuse(ANSWERS.unauthorized, "unauthorized", "authorizer-unauthorized")
          : refuse(ANSWERS.accessDenied, "deny", "authorizer-error");
      }
      cache.set(values, result);
    }
    const identity = identityOfResult(result);
    let statements: ParsedPolicy;
    try {
      statements = parsePolicyDocumentOnce(result.policyDocument);
    } catch {
      return { ...refuse(ANSWERS.accessDenied, "deny", "unreadable-policy"), identity };
    }
    return authorizeByPolicies(props.policySet, routed, identity, [statements]);
  };
}
