import { AuthType, CatalogRoute, HTTP_METHODS, RouteCatalog, routeId } from "./catalog";
import { WORKSPACE_PATH_PART } from "./contract";
import { CompileError } from "./errors";
import { globIntersectsRoute } from "./glob";
import { ResolvedGroup } from "./groups";
import { MethodArnStage, stageArnPrefix } from "./method-arn";

/**
 * Resource globs relative to a stage (`VERB/path`). A request of an allowed route matches an `allow`
 * glob and no `deny` glob; a request of any other catalog route matches no `allow` glob or some `deny`
 * glob (explicit deny wins). Both are proven with the exact intersection test of glob.ts.
 */
export interface CompiledResources {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** A route's own glob: its verb and path with each parameter as `*`. */
export function routeGlob(route: Pick<CatalogRoute, "method" | "path">): string {
  return route.method + route.path.replace(/\{[A-Za-z_][A-Za-z0-9_]*\+?\}/g, "*");
}

class RouteSetChecker {
  private readonly cache = new Map<string, CatalogRoute[]>();
  constructor(private readonly routes: readonly CatalogRoute[]) {}
  /** The routes of this set that some request matching the glob belongs to. */
  hits(glob: string): CatalogRoute[] {
    let hit = this.cache.get(glob);
    if (hit === undefined) {
      hit = this.routes.filter((r) => globIntersectsRoute(glob, r.method, r.path));
      this.cache.set(glob, hit);
    }
    return hit;
  }
  touches(glob: string): boolean {
    return this.hits(glob).length > 0;
  }
}

/**
 * Widens allow globs by merging those that share a key into the key itself. Each key rewrites one
 * piece whose alternatives are all known: the mount (`api` | `ajax-api` → `*api`) and the API major
 * version (`2.0` | `3.0` → `?.0`), so a compacted glob still ends in a known route's own path. (A `*`
 * verb would span the whole path and reach far more than it saves.)
 *
 * A merged glob may reach denied routes (`POST/*api/2.0/mlflow/runs/search` reaches
 * `POST /ajax-api/2.0/mlflow-artifacts/mpu/create/x/api/2.0/mlflow/runs/search`); each such route is
 * carved out again by its own glob in a Deny, as long as that carve-out reaches no allowed route.
 * Merges are taken as a batch when they save more globs than the carve-outs they add, since many
 * merges share the same few carve-outs; otherwise only those that need no new carve-out.
 */
class Compaction {
  readonly carveOuts = new Set<string>();
  constructor(
    private readonly allowedSet: RouteSetChecker,
    private readonly deniedSet: RouteSetChecker,
  ) {}

  mergeBy(globs: readonly string[], keyOf: (g: string) => string | undefined): string[] {
    const groups = new Map<string, string[]>();
    const out: string[] = [];
    for (const g of globs) {
      const key = keyOf(g);
      if (key === undefined || key === g) out.push(g);
      else groups.set(key, [...(groups.get(key) ?? []), g]);
    }
    const candidates: { key: string; saves: number; carve: string[] }[] = [];
    for (const [key, members] of groups) {
      const carve = this.deniedSet.hits(key).map(routeGlob);
      if (members.length > 1 && !carve.some((g) => this.allowedSet.touches(g))) {
        candidates.push({ key, saves: members.length - 1, carve });
      } else out.push(...members);
    }
    const added = new Set(candidates.flatMap((c) => c.carve).filter((g) => !this.carveOuts.has(g)));
    const saves = candidates.reduce((n, c) => n + c.saves, 0);
    const batch = added.size < saves;
    for (const c of candidates) {
      if (batch || c.carve.every((g) => this.carveOuts.has(g))) {
        out.push(c.key);
        for (const g of c.carve) this.carveOuts.add(g);
      } else out.push(...(groups.get(c.key) ?? []));
    }
    return [...new Set(out)];
  }

  compact(globs: readonly string[]): string[] {
    return this.mergeBy(this.mergeBy(globs, mountKey), versionKey);
  }
}

const mountKey = (g: string): string | undefined => {
  const m = /^([A-Z]+)\/(?:ajax-api|api)\//.exec(g);
  return m ? `${m[1]}/*api/${g.slice(m[0].length)}` : undefined;
};
const versionKey = (g: string): string | undefined =>
  /^[A-Z]+\/[^/]*api\/[23]\.0\//.test(g) ? g.replace(/api\/[23]\.0\//, "api/?.0/") : undefined;

/**
 * Top-down over the path prefixes ending in "/": the shortest `prefix*` that reaches no denied route
 * covers its whole subtree. Only for groups that may call unknown routes (it grants paths the catalog lacks).
 */
function prefixCompact(globs: readonly string[], denied: RouteSetChecker): string[] {
  if (!denied.touches("*")) return ["*"];
  const out = new Set<string>();
  const visit = (prefix: string, members: readonly string[]) => {
    if (members.length > 1 && !denied.touches(`${prefix}*`)) {
      out.add(`${prefix}*`);
      return;
    }
    const children = new Map<string, string[]>();
    for (const m of members) {
      const next = m.indexOf("/", prefix.length);
      if (next < 0) out.add(m);
      else {
        const child = m.slice(0, next + 1);
        children.set(child, [...(children.get(child) ?? []), m]);
      }
    }
    for (const [child, ms] of children) {
      if (ms.length === 1 && ms[0] !== undefined) out.add(ms[0]);
      else visit(child, ms);
    }
  };
  visit("", globs);
  return [...out];
}

/**
 * Compiles the routes of one auth surface to resource globs: `iam` for role policies, `cognito` for
 * the Lambda authorizer. The globs never reach a route the group may not call, on any surface; they
 * may reach routes the group may call on the other surface, and public routes. Throws when a route
 * cannot be told apart from a denied one (its own glob already reaches the other, as with two
 * templates that overlap).
 */
export function compileRouteSet(
  catalog: RouteCatalog,
  routeIds: ReadonlySet<string>,
  unknownRoutes: "allow" | "deny",
  surface: Exclude<AuthType, "none">,
): CompiledResources {
  const allowedRouteIds = new Set(
    catalog.routes.filter((r) => r.auth === surface && routeIds.has(routeId(r))).map(routeId),
  );
  const allowed = catalog.routes.filter((r) => allowedRouteIds.has(routeId(r)));
  const denied = catalog.routes.filter((r) => r.auth !== "none" && !routeIds.has(routeId(r)));
  const allowedSet = new RouteSetChecker(allowed);
  const deniedSet = new RouteSetChecker(denied);
  const exact = [...new Set(allowed.map(routeGlob))];
  const clashes = exact.filter((g) => deniedSet.touches(g));
  if (clashes.length > 0) {
    const detail = clashes.map((g) => `${g} (also reaches ${deniedSet.hits(g).map(routeId).join(", ")})`);
    throw new CompileError(`cannot grant these routes without granting denied ones: ${detail.join("; ")}`);
  }
  const compaction = new Compaction(allowedSet, deniedSet);
  let allow = unknownRoutes === "allow" ? prefixCompact(exact, deniedSet) : exact;
  allow = compaction.compact(allow);
  // Carve-outs compact the same way, as long as they stay clear of every allowed route.
  const deny = new Compaction(new RouteSetChecker([]), allowedSet).compact([...compaction.carveOuts]);
  return { allow: allow.sort(), deny: deny.sort() };
}

/** Resources that reach every request of the API (admins'): `*`, nothing carved out. */
export function reachesEverything(r: CompiledResources): boolean {
  return r.deny.length === 0 && r.allow.includes("*");
}

/**
 * One workspace's copy of resources compiled for the unprefixed API: each `VERB/path` glob becomes
 * `VERB/ws/<workspace>/path`. Sound because the team part is literal and ends in `/`: a prefixed glob matches
 * exactly the requests of that workspace whose rest its unprefixed glob matches, and the API serves the same
 * routes under every workspace. A whole `*` becomes one glob per verb, never `* /ws/<workspace>/*` (whose first
 * `*` would span another workspace's path).
 */
export function workspaceResources(r: CompiledResources, workspace: string): CompiledResources {
  const prefix = (glob: string): string[] => {
    if (glob === "*") return HTTP_METHODS.map((m) => `${m}/${WORKSPACE_PATH_PART}/${workspace}/*`);
    const m = /^([A-Z]+)\//.exec(glob);
    if (!m) throw new CompileError(`cannot place "${glob}" in a workspace: it does not start with a verb`);
    return [`${m[1]}/${WORKSPACE_PATH_PART}/${workspace}/${glob.slice(m[0].length)}`];
  };
  return { allow: r.allow.flatMap(prefix), deny: r.deny.flatMap(prefix) };
}

/** The union of several groups: membership only ever adds routes. */
export function compileGroupUnion(
  catalog: RouteCatalog,
  groups: readonly ResolvedGroup[],
  surface: Exclude<AuthType, "none">,
): CompiledResources {
  const ids = new Set<string>();
  for (const g of groups) for (const id of g.allowedRouteIds) ids.add(id);
  const unknownRoutes = groups.some((g) => g.unknownRoutes === "allow") ? "allow" : "deny";
  return compileRouteSet(catalog, ids, unknownRoutes, surface);
}

export interface PolicyStatement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string;
  readonly Resource: string | string[];
  readonly Sid?: string;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

/** The policy a Lambda authorizer returns (no allowed resource: deny everything). */
export function buildAuthorizerPolicy(resources: CompiledResources, scope: MethodArnStage): PolicyDocument {
  const prefix = stageArnPrefix(scope);
  if (resources.allow.length === 0) return buildDenyAllPolicy(scope);
  const statements: PolicyStatement[] = [
    { Effect: "Allow", Action: "execute-api:Invoke", Resource: resources.allow.map((r) => prefix + r) },
  ];
  if (resources.deny.length > 0) {
    statements.push({ Effect: "Deny", Action: "execute-api:Invoke", Resource: resources.deny.map((r) => prefix + r) });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The one deny-all policy: an explicit Deny of every resource of the stage, or of every resource at
 * all when there is no stage to name (an authorizer that cannot read its methodArn, or fails). Built
 * afresh each time: callers (the local gateway) may keep or change what they get.
 */
export function buildDenyAllPolicy(scope?: MethodArnStage): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: scope ? `${stageArnPrefix(scope)}*` : "*" }],
  };
}

/** IAM counts a managed policy's size without whitespace (IAM quotas: not adjustable). */
export const IAM_MANAGED_POLICY_MAX_CHARS = 6144;
/** IAM's default quota of managed policies per role (adjustable to 20 on request). */
export const IAM_MANAGED_POLICIES_PER_ROLE = 10;
/**
 * The most managed policies mlflow-gate attaches to a role besides its execute-api ones: a Studio execution
 * role's own Studio policy (test/infra asserts it of every synthesized role).
 */
export const OTHER_MANAGED_POLICIES_PER_ROLE = 1;
/** How many execute-api managed policies a role may take. */
export const EXECUTE_API_POLICIES_PER_ROLE = IAM_MANAGED_POLICIES_PER_ROLE - OTHER_MANAGED_POLICIES_PER_ROLE;

export function iamPolicySize(doc: PolicyDocument): number {
  return iamStringSize(doc);
}

/** The characters IAM counts of a value's JSON: whitespace is not counted. */
function iamStringSize(value: unknown): number {
  return JSON.stringify(value).replace(/\s+/g, "").length;
}

/**
 * IAM identity policies for a role, split into as few managed policies as the 6,144-character limit
 * allows. Sizes are measured with the scope as given: pass the longest values you will deploy with.
 */
export function buildIamPolicies(
  resources: CompiledResources,
  scope: MethodArnStage,
  sidPrefix = "MlflowGate",
): PolicyDocument[] {
  const prefix = stageArnPrefix(scope);
  const docs: PolicyDocument[] = [];
  let current: string[] = [];
  // The carve-outs go into every document: a Deny must hold whichever policy carries the Allow.
  const denyStatement: PolicyStatement[] =
    resources.deny.length > 0
      ? [
          {
            Sid: `${sidPrefix}CarveOut`,
            Effect: "Deny",
            Action: "execute-api:Invoke",
            Resource: resources.deny.map((r) => prefix + r),
          },
        ]
      : [];
  const make = (res: string[], i: number): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: [
      { Sid: `${sidPrefix}${i}`, Effect: "Allow", Action: "execute-api:Invoke", Resource: res },
      ...denyStatement,
    ],
  });
  // A document's size grows by each added resource's own JSON and a comma, so it is counted, not re-serialised.
  const charsOf = (resource: string) => iamStringSize(resource) + 1;
  let size = 0;
  for (const r of resources.allow) {
    const resource = prefix + r;
    if (current.length > 0 && size + charsOf(resource) > IAM_MANAGED_POLICY_MAX_CHARS) {
      docs.push(make(current, docs.length));
      current = [];
    }
    if (current.length === 0) {
      current = [resource];
      size = iamPolicySize(make(current, docs.length));
    } else {
      current.push(resource);
      size += charsOf(resource);
    }
  }
  if (current.length > 0) docs.push(make(current, docs.length));
  for (const d of docs) {
    if (iamPolicySize(d) > IAM_MANAGED_POLICY_MAX_CHARS)
      throw new CompileError(`one resource alone exceeds the IAM policy size limit`);
  }
  if (docs.length > EXECUTE_API_POLICIES_PER_ROLE) {
    throw new CompileError(
      `needs ${docs.length} managed policies; a role holds ${IAM_MANAGED_POLICIES_PER_ROLE} by default, ${OTHER_MANAGED_POLICIES_PER_ROLE} of them taken by a Studio execution role's own policy`,
    );
  }
  return docs;
}
