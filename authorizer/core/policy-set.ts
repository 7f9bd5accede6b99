import { AuthType, CatalogRoute, RouteCatalog, RouteMatcher, authTypeOf } from "./catalog";
import {
  buildAuthorizerPolicy,
  buildIamPolicies,
  compileGroupUnion,
  CompiledResources,
  PolicyDocument,
} from "./compile";
import { evaluatePolicies, Evaluation, parsePolicyDocument } from "./evaluate";
import { GroupFile, ResolvedGroup, resolveGroups } from "./groups";
import { formatMethodArn, MethodArnStage } from "./method-arn";

export type Surface = Exclude<AuthType, "none">;

/** Compiled resources of one group set on one surface, as a build ships them. */
export interface PrecompiledResources extends CompiledResources {
  readonly groups: readonly string[];
  readonly surface: Surface;
}

/**
 * Every set of two or more groups while there are at most `maxGroups` groups (a user in several
 * groups gets their union), else none: 2^n grows fast and most sets never occur.
 */
export function groupCombinations(names: readonly string[], maxGroups = 5): string[][] {
  const sorted = [...names].sort();
  if (sorted.length > maxGroups) return [];
  const out: string[][] = [];
  for (let mask = 1; mask < 1 << sorted.length; mask++) {
    const combo = sorted.filter((_n, i) => mask & (1 << i));
    if (combo.length >= 2) out.push(combo);
  }
  return out;
}

/**
 * The catalog and the resolved groups: everything a decision needs. Compiled resources are memoised
 * per (sorted group set, surface), so a warm authorizer compiles each combination once; a build can
 * precompile them so that no request pays for it.
 */
export class PolicySet {
  readonly matcher: RouteMatcher;
  private readonly compiled = new Map<string, CompiledResources>();

  constructor(
    readonly catalog: RouteCatalog,
    readonly groups: ReadonlyMap<string, ResolvedGroup>,
    precompiled: readonly PrecompiledResources[] = [],
  ) {
    this.matcher = new RouteMatcher(catalog);
    for (const p of precompiled)
      this.compiled.set(PolicySet.key(this.knownGroups(p.groups), p.surface), { allow: p.allow, deny: p.deny });
  }

  static fromFiles(
    catalog: RouteCatalog,
    files: readonly GroupFile[],
    precompiled?: readonly PrecompiledResources[],
  ): PolicySet {
    return new PolicySet(catalog, resolveGroups(files, catalog), precompiled);
  }

  private static key(sortedGroups: readonly string[], surface: Surface): string {
    return `${surface}:${sortedGroups.join(",")}`;
  }

  /** Compiles each group alone and every combination of groups, for one surface. */
  precompile(surface: Surface): PrecompiledResources[] {
    const names = [...this.groups.keys()].sort();
    return [...names.map((n) => [n]), ...groupCombinations(names)].map((groups) => ({
      groups,
      surface,
      ...this.resourcesFor(groups, surface),
    }));
  }

  /** The known groups among `names`, sorted and without duplicates; unknown names are dropped. */
  knownGroups(names: readonly string[]): string[] {
    return [...new Set(names.filter((n) => this.groups.has(n)))].sort();
  }

  /** Resources of the union of known groups on one surface (empty allow list when none is known). */
  resourcesFor(groupNames: readonly string[], surface: Surface): CompiledResources {
    const names = this.knownGroups(groupNames);
    const key = PolicySet.key(names, surface);
    let c = this.compiled.get(key);
    if (!c) {
      c = compileGroupUnion(
        this.catalog,
        names.map((n) => this.groups.get(n) as ResolvedGroup),
        surface,
      );
      this.compiled.set(key, c);
    }
    return c;
  }

  authorizerPolicy(groupNames: readonly string[], scope: MethodArnStage): PolicyDocument {
    return buildAuthorizerPolicy(this.resourcesFor(groupNames, "cognito"), scope);
  }

  iamPolicies(groupName: string, scope: MethodArnStage): PolicyDocument[] {
    return buildIamPolicies(this.resourcesFor([groupName], "iam"), scope);
  }

  /** Whether one of the groups may call routes the catalog does not list (`unknownRoutes: allow`). */
  mayCallUnknownRoutes(groupNames: readonly string[]): boolean {
    return this.knownGroups(groupNames).some((g) => this.groups.get(g)?.unknownRoutes === "allow");
  }

  /** Whether the group's own action list means to allow the route (what compiled policies must equal). */
  intends(groupNames: readonly string[], route: CatalogRoute): boolean {
    if (route.auth === "none") return true;
    return this.knownGroups(groupNames).some((n) =>
      this.groups.get(n)?.allowedRouteIds.has(`${route.method} ${route.path}`),
    );
  }
}

/**
 * The scope of a Lambda authorizer's policy: the API id exactly; region, account and stage as `*`.
 * API Gateway evaluates an authorizer's policy only for calls to the API that invoked it, and a
 * group's rights are the same on every stage, so those parts carry nothing but bytes (the response
 * must stay under 8 KB).
 */
export function authorizerScope(arn: Pick<MethodArnStage, "partition" | "apiId">): MethodArnStage {
  return { partition: arn.partition, region: "*", account: "*", apiId: arn.apiId, stage: "*" };
}

/** Placeholder stage used where only relative decisions matter (CLI, tests). */
export const EXAMPLE_SCOPE: MethodArnStage = {
  partition: "aws",
  region: "us-east-1",
  account: "123456789012",
  apiId: "mlflowgate0",
  stage: "prod",
};

export interface RequestCheck {
  readonly decision: "ALLOW" | "DENY";
  /** The catalog route MLflow would serve, if any. */
  readonly route?: CatalogRoute;
  readonly surface: AuthType;
  readonly evaluation?: Evaluation;
  readonly reason: string;
}

/**
 * Decides a request the way the deployed system does: public routes pass; routes the catalog does not
 * list are denied unless a group has `unknownRoutes: allow`; otherwise the compiled policy of the
 * path's surface (role policy for `iam`, authorizer policy for `cognito`) is evaluated against the
 * request's methodArn. `path` is the decoded path without query string.
 */
export function checkRequest(
  set: PolicySet,
  groupNames: readonly string[],
  method: string,
  path: string,
  scope: MethodArnStage = EXAMPLE_SCOPE,
): RequestCheck {
  const route = set.matcher.match(method, path);
  const surface: AuthType = route ? route.auth : authTypeOf(path, "read");
  if (surface === "none") return { decision: "ALLOW", route, surface, reason: "public route" };
  // A route MLflow may serve but the catalog does not list: only groups that opt in (admins) may call it.
  const known = set.knownGroups(groupNames);
  if (!route && !set.mayCallUnknownRoutes(known)) {
    return { decision: "DENY", surface, reason: "unknown route" };
  }
  const docs =
    surface === "iam"
      ? groupNames.flatMap((g) => (set.groups.has(g) ? set.iamPolicies(g, scope) : []))
      : [set.authorizerPolicy(groupNames, authorizerScope(scope))];
  const arn = formatMethodArn({ ...scope, method, path });
  const evaluation = evaluatePolicies(docs.map(parsePolicyDocument), "execute-api:Invoke", arn);
  const decision = evaluation.decision === "Allow" ? "ALLOW" : "DENY";
  const reason =
    known.length === 0
      ? "no known group"
      : evaluation.decision === "Allow"
        ? `allowed by ${evaluation.matched}`
        : evaluation.decision === "ExplicitDeny"
          ? `explicitly denied by ${evaluation.matched}`
          : "no statement allows it";
  return { decision, route, surface, evaluation, reason };
}
