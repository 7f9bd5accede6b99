// The authorizer's answer for one entry of API Gateway's result cache. The authorizer's identity sources are the
// token, the request's verb and the API resource it matched (contract.ts), so a cached answer is only ever applied
// to requests of that verb under that resource: the answer carries the part of the group set's policy that
// decides them, whose size is bounded by the routes under one resource, not by the group's whole route set. Pure.
import { apiRouteTreeOf } from "./api-definition";
import { CatalogRoute, parsePathTemplate } from "./catalog";
import { CompiledResources } from "./compile";
import { globIntersectsResource, globsIntersect } from "./glob";

/**
 * What the cache key holds besides the token: the request's HTTP verb and API resource (`context.resourcePath`), and
 * with teams its path (`context.path`), which holds the team.
 */
export interface AnswerKey {
  /** The request's verb, as in its methodArn (`context.httpMethod`). */
  readonly method: string;
  /** The template of the API resource the request matched, `/ajax-api/2.0/mlflow/runs/{proxy+}` (the event's `resource`). */
  readonly resource: string;
  /**
   * With teams: the request's team (`/ws/<team>/` of its path). The answer then carries that workspace's part only,
   * so its size does not grow with the teams a user is in; the cache keys on the path, so it is never applied to
   * another team's request. Undefined: every workspace the groups reach (and no teams at all).
   */
  readonly workspace?: string;
}

/**
 * The part of a group set's compiled resources that decides the requests of one key: each allow glob that can
 * match a request of that verb under that resource, and each deny glob that can match a request one of those
 * allow globs matches. On the key's requests it decides exactly as the whole policy does (an allow glob that
 * matches one is kept, and so is every deny glob that matches it too); on any request at all it allows no more
 * than the whole policy (an allow glob it keeps brings along every deny that could take part of it away). So an
 * answer applied where it was not meant to be can only deny more.
 *
 * A key none of whose requests the groups may call keeps the shortest allow glob of the whole policy all the
 * same: it matches none of the key's requests, so they are denied as "not authorized", as the whole policy
 * denies them. An answer of Deny statements only would make API Gateway say "with an explicit deny" instead.
 */
export function scopeToKey(resources: CompiledResources, key: AnswerKey): CompiledResources {
  let allow = resources.allow.filter((g) => globIntersectsResource(g, key.method, key.resource));
  if (allow.length === 0 && resources.allow.length > 0)
    allow = [resources.allow.reduce((a, b) => (b.length < a.length ? b : a))];
  const deny = resources.deny.filter((d) => allow.some((a) => globsIntersect(a, d)));
  return { allow, deny };
}

/** Whether a value is an API resource template API Gateway could send as the event's `resource`. */
export function isResourceTemplate(resource: unknown): resource is string {
  if (typeof resource !== "string" || resource.length > 1024) return false;
  try {
    parsePathTemplate(resource);
    return true;
  } catch {
    return false;
  }
}

/** Every key the deployed API can ask its authorizer about: each Cognito method of each resource. */
const keysOfRoutes = [
  new WeakMap<readonly CatalogRoute[], readonly AnswerKey[]>(),
  new WeakMap<readonly CatalogRoute[], readonly AnswerKey[]>(),
] as const;
export function authorizerKeys(routes: readonly CatalogRoute[], workspaces = false): readonly AnswerKey[] {
  const memo = keysOfRoutes[workspaces ? 1 : 0];
  let keys = memo.get(routes);
  if (!keys) {
    const tree = apiRouteTreeOf(routes, undefined, workspaces);
    keys = [
      ...tree.rootMethods.map((m) => ({ method: m.httpMethod, resource: "/", auth: m.auth })),
      ...tree.resources.flatMap((r) =>
        r.methods.map((m) => ({ method: m.httpMethod, resource: r.path, auth: m.auth })),
      ),
    ]
      .filter((k) => k.auth === "cognito")
      .map(({ method, resource }) => ({ method, resource }));
    memo.set(routes, keys);
  }
  return keys;
}
