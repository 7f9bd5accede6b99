import { AnswerKey } from "./answer-scope";
import { apiRouteTreeOf } from "./api-definition";
import { AuthType, CatalogRoute } from "./catalog";
import { splitWorkspacePath } from "./contract";
import { evaluatePolicies, Evaluation, ParsedPolicy, parsePolicyDocumentOnce } from "./evaluate";
import { formatMethodArn, MethodArn, MethodArnStage, stageRelativeResource } from "./method-arn";
import { authorizerScope, PolicySet } from "./policy-set";
import { ResourceTree } from "./resource-tree";

/**
 * Why a request is allowed or denied: one vocabulary for the gateway's access log, the authorizer's
 * log and the CLI.
 */
export type DecisionReason =
  /** A statement allows the request and none denies it. */
  | "allowed"
  /** A public route of the catalog (the UI shell, health): nothing to authorize. */
  | "public-route"
  /** A Deny statement matches: it wins over any Allow. */
  | "explicit-deny"
  /** No statement allows the request. */
  | "not-allowed"
  /** The caller is in no group the policies know. */
  | "no-known-group"
  /** The catalog does not list the route, and none of the caller's groups has `unknownRoutes: allow`. */
  | "unknown-route"
  /** The methodArn is not of the form API Gateway sends (an authorizer only). */
  | "malformed-method-arn"
  /** The event names no API resource of the form API Gateway sends (an authorizer only). */
  | "malformed-resource"
  /** The API has no method for the request (a path outside its resources): Missing Authentication Token. */
  | "no-api-method";

export interface RequestToDecide {
  /** The request's resource, read; undefined when it could not be read (denied). */
  readonly methodArn: MethodArn | undefined;
  /**
   * The API resource the request matched (`context.resourcePath`): the authorizer's answer is for the requests of
   * its verb under that resource. Needed on the Cognito surface without `policies` (denied when missing).
   */
  readonly resource?: string | undefined;
  /** The catalog route the request's method and path match; undefined when the catalog does not list it. */
  readonly route: CatalogRoute | undefined;
  /** Who checks the request (authTypeOfRequest). */
  readonly surface: AuthType;
  /** The caller's groups; names the policies do not know count for nothing. */
  readonly groups: readonly string[];
  /**
   * The policies that decide, already parsed: a role's managed policies (`iam`), an authorizer's
   * answer (`cognito`). @default the compiled policies of the known groups on the surface, scoped to
   * the methodArn's stage (the authorizer's answer to its API id and the request's verb and resource), as the
   * deployed system has them
   */
  readonly policies?: readonly ParsedPolicy[];
}

export interface RequestDecision {
  readonly decision: "allow" | "deny";
  readonly reason: DecisionReason;
  /**
   * How IAM evaluated the policies, with the resource pattern that decided (absent when no policy
   * was evaluated: a public or unknown route, a malformed methodArn). API Gateway's answer to a
   * denied request depends on it: an explicit Deny says so.
   */
  readonly evaluation?: Evaluation;
}

function compiledPolicies(
  set: PolicySet,
  groups: readonly string[],
  surface: AuthType,
  methodArn: MethodArn,
  resource: string,
) {
  const docs =
    surface === "iam"
      ? groups.flatMap((g) => set.iamPolicies(g, methodArn))
      : [set.authorizerAnswer(groups, authorizerScope(methodArn), answerKeyOf(set, methodArn, resource))];
  return docs.map(parsePolicyDocumentOnce);
}

/**
 * The authorizer's cache key of a request, as its identity sources make it: the verb and the resource, and with
 * teams the team of its path (TEAM_AUTHORIZER_IDENTITY_SOURCES).
 */
export function answerKeyOf(set: PolicySet, methodArn: MethodArn, resource: string): AnswerKey {
  const workspace = set.teams ? splitWorkspacePath(methodArn.path)?.workspace : undefined;
  return { method: methodArn.method, resource, ...(workspace !== undefined ? { workspace } : {}) };
}

/**
 * Decides one request the way the deployed system does, and says why: public routes pass; a route
 * the catalog does not list is denied unless one of the caller's groups has `unknownRoutes: allow`;
 * otherwise the policies of the request's surface are evaluated against its methodArn (explicit deny
 * wins). The only decision of its kind: the gateway, the authorizer and the CLI all call it.
 */
export function decideRequest(set: PolicySet, request: RequestToDecide): RequestDecision {
  const { methodArn, route, surface } = request;
  if (!methodArn) return { decision: "deny", reason: "malformed-method-arn" };
  if (surface === "none") return { decision: "allow", reason: "public-route" };
  const groups = set.knownGroups(request.groups);
  const workspace = set.teams ? splitWorkspacePath(methodArn.path)?.workspace : undefined;
  if (!route && !set.mayCallUnknownRoutes(groups, workspace)) return { decision: "deny", reason: "unknown-route" };
  if (!request.policies && surface === "cognito" && request.resource === undefined)
    return { decision: "deny", reason: "malformed-resource" };
  const policies = request.policies ?? compiledPolicies(set, groups, surface, methodArn, request.resource ?? "");
  const evaluation = evaluatePolicies(policies, "execute-api:Invoke", formatMethodArn(methodArn));
  if (evaluation.decision === "Allow") return { decision: "allow", reason: "allowed", evaluation };
  const reason =
    groups.length === 0 ? "no-known-group" : evaluation.decision === "ExplicitDeny" ? "explicit-deny" : "not-allowed";
  return { decision: "deny", reason, evaluation };
}

/** Placeholder stage where only decisions relative to the stage matter (the CLI, the decision matrix, tests). */
export const EXAMPLE_STAGE: MethodArnStage = {
  partition: "aws",
  region: "us-east-1",
  account: "123456789012",
  apiId: "mlflowgate0",
  stage: "prod",
};

/** A request given by method and decoded path (no query string), with what decideRequest made of it. */
export interface PathDecision extends RequestDecision {
  readonly route?: CatalogRoute;
  readonly surface: AuthType;
}

/** The deployed API's resources and methods (the API definition's, from the catalog), per catalog and layout. */
const apiResources = [
  new WeakMap<readonly CatalogRoute[], ResourceTree<true>>(),
  new WeakMap<readonly CatalogRoute[], ResourceTree<true>>(),
] as const;
export function apiResourcesOf(routes: readonly CatalogRoute[], workspaces = false): ResourceTree<true> {
  const memo = apiResources[workspaces ? 1 : 0];
  let tree = memo.get(routes);
  if (!tree) {
    tree = new ResourceTree<true>();
    const api = apiRouteTreeOf(routes, undefined, workspaces);
    for (const m of api.rootMethods) tree.add("/", m.httpMethod, true);
    for (const r of api.resources) for (const m of r.methods) tree.add(r.path, m.httpMethod, true);
    memo.set(routes, tree);
  }
  return tree;
}

/**
 * Decides `METHOD path` for members of `groups`: the route is matched as the gateway matches it and
 * the compiled policies decide (`mlflow-gate policy check`, the decision matrix, policy lint). An
 * authenticated path the deployed API has no method for is denied before any policy, as API Gateway
 * answers it (Missing Authentication Token).
 */
export function decidePath(
  set: PolicySet,
  groups: readonly string[],
  method: string,
  path: string,
  stage: MethodArnStage = EXAMPLE_STAGE,
): PathDecision {
  const { route, surface } = set.locate(method, path);
  const resource = apiResourcesOf(set.catalog.routes, set.teams !== undefined).resolve(method, path)?.resourcePath;
  if (surface !== "none" && resource === undefined)
    return { decision: "deny", reason: "no-api-method", ...(route ? { route } : {}), surface };
  const decision = decideRequest(set, { methodArn: { ...stage, method, path }, resource, route, surface, groups });
  return { ...decision, ...(route ? { route } : {}), surface };
}

/** A decision in a few words, resources relative to the stage: what `mlflow-gate policy check` prints after the colon. */
export function explainDecision(d: RequestDecision): string {
  const matched = stageRelativeResource(d.evaluation?.matched ?? "");
  switch (d.reason) {
    case "allowed":
      return `allowed by ${matched}`;
    case "explicit-deny":
      return `explicitly denied by ${matched}`;
    case "not-allowed":
      return "no statement allows it";
    case "no-known-group":
      return "no known group";
    case "unknown-route":
      return "unknown route";
    case "public-route":
      return "public route";
    case "malformed-method-arn":
      return "malformed methodArn";
    case "malformed-resource":
      return "malformed resource";
    case "no-api-method":
      return "the API has no such method (Missing Authentication Token)";
  }
}
