import { AnswerKey, scopeToKey } from "./answer-scope";
import { AuthType, authTypeOf, authTypeOfRequest, CatalogRoute, RouteCatalog, RouteMatcher } from "./catalog";
import {
  buildAuthorizerPolicy,
  buildIamPolicies,
  compileGroupUnion,
  CompiledResources,
  PolicyDocument,
  reachesEverything,
  workspaceResources,
} from "./compile";
import { splitWorkspacePath } from "./contract";
import { GroupFile, ResolvedGroup, resolveGroups } from "./groups";
import { resolveTeams, TeamFile, Teams } from "./teams";
import { MethodArnStage, stageArnPrefix } from "./method-arn";
import { PromotionRule, UNRESTRICTED } from "./promotion";

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

/** The most answers' resources a policy set keeps: the API's Cognito methods (about a hundred) for a few group sets. */
const MAX_MEMOISED_ANSWERS = 4096;

/**
 * The catalog, the resolved groups and, when team files exist, the teams: everything a decision needs.
 *
 * Two kinds of names meet here. A group file's name is a **tier**: a set of routes. A **caller group** is what a
 * user (a Cognito group) or a role carries: without teams it is a group file's name, so the two are the same; with
 * teams it is a group the team files give tiers in workspaces (or a group file with `workspaces: all`), and its
 * resources are its tiers' routes placed under `/ws/<team>/` of each workspace it reaches. The public methods
 * take caller groups; a workspace, where given, is the request's.
 *
 * Compiled resources of tiers are memoised per (sorted tier set, surface), so a warm authorizer compiles each
 * combination once; a build can precompile them so that no request pays for it. Placing them in workspaces is
 * string work, memoised per caller group set.
 */
export class PolicySet {
  readonly matcher: RouteMatcher;
  private readonly compiled = new Map<string, CompiledResources>();
  private readonly placed = new Map<string, CompiledResources>();
  private readonly scoped = new Map<string, CompiledResources>();
  private readonly iamDocs = new Map<string, readonly PolicyDocument[]>();
  private readonly callerGroupNames: ReadonlySet<string>;

  constructor(
    readonly catalog: RouteCatalog,
    readonly groups: ReadonlyMap<string, ResolvedGroup>,
    precompiled: readonly PrecompiledResources[] = [],
    /** The teams of the team files; undefined: no team files, one workspace, the API without `/ws/`. */
    readonly teams?: Teams,
  ) {
    this.matcher = new RouteMatcher(catalog);
    this.callerGroupNames = teams ? teams.callerGroupNames() : new Set(groups.keys());
    for (const p of precompiled)
      this.compiled.set(PolicySet.key(this.knownTiers(p.groups), p.surface), { allow: p.allow, deny: p.deny });
  }

  static fromFiles(
    catalog: RouteCatalog,
    files: readonly GroupFile[],
    precompiled?: readonly PrecompiledResources[],
    teamFiles: readonly TeamFile[] = [],
  ): PolicySet {
    const groups = resolveGroups(files, catalog);
    const teams = teamFiles.length > 0 ? resolveTeams(teamFiles, groups) : undefined;
    return new PolicySet(catalog, groups, precompiled, teams);
  }

  /** The group names a user or role may carry to any effect (Cognito groups, the groups of roles). */
  get callerGroups(): ReadonlySet<string> {
    return this.callerGroupNames;
  }

  /**
   * The catalog route of a request, its workspace, and who checks it (authTypeOfRequest of MLflow's path): with
   * teams an authenticated route is only reached under `/ws/<team>/`, whose rest is matched; a path outside that
   * is matched as it is (public routes).
   */
  locate(
    method: string,
    path: string,
  ): { readonly route: CatalogRoute | undefined; readonly workspace?: string; readonly surface: AuthType } {
    if (!this.teams) {
      const route = this.matcher.match(method, path);
      return { route, surface: authTypeOfRequest(route, path) };
    }
    const split = splitWorkspacePath(path);
    const rest = split?.rest ?? path;
    const matched = this.matcher.match(method, rest);
    // Public routes only outside a workspace, authenticated ones only inside.
    const route = matched && (matched.auth === "none") === (split === undefined) ? matched : undefined;
    const surface = route ? route.auth : authTypeOf(rest, "read");
    return split ? { route, workspace: split.workspace, surface } : { route, surface };
  }

  /**
   * The tiers the caller groups hold in a workspace, sorted: without teams, the known groups themselves. With
   * teams and no workspace, the tiers held in any workspace (what a group may do somewhere).
   */
  tiersIn(groupNames: readonly string[], workspace?: string): string[] {
    const known = this.knownGroups(groupNames);
    if (!this.teams) return known;
    if (workspace !== undefined) return this.teams.tiersIn(known, workspace);
    return [...new Set([...this.teams.grants(known).values()].flat())].sort();
  }

  /** The workspaces the caller groups reach: "all" (a global group), or team names; without teams, "all". */
  reachableWorkspaces(groupNames: readonly string[]): "all" | ReadonlySet<string> {
    return this.teams ? this.teams.reachable(this.knownGroups(groupNames)) : "all";
  }

  /** Whether the caller groups may create, change or delete workspaces: a global group that may call CreateWorkspace. */
  mayManageWorkspaces(groupNames: readonly string[]): boolean {
    return this.knownGroups(groupNames).some(
      (g) =>
        this.groups.get(g)?.workspaces === "all" &&
        this.catalog.routes.some((r) => r.action === "CreateWorkspace" && this.intends([g], r)),
    );
  }

  private static key(sortedGroups: readonly string[], surface: Surface): string {
    return `${surface}:${sortedGroups.join(",")}`;
  }

  /** Compiles each tier alone and every combination of tiers, for one surface. */
  precompile(surface: Surface): PrecompiledResources[] {
    const names = [...this.groups.keys()].sort();
    return [...names.map((n) => [n]), ...groupCombinations(names)].map((groups) => ({
      groups,
      surface,
      ...this.tierResources(groups, surface),
    }));
  }

  /** The known caller groups among `names`, sorted and without duplicates; unknown names are dropped. */
  knownGroups(names: readonly string[]): string[] {
    return [...new Set(names.filter((n) => this.callerGroupNames.has(n)))].sort();
  }

  private knownTiers(names: readonly string[]): string[] {
    return [...new Set(names.filter((n) => this.groups.has(n)))].sort();
  }

  /** Resources of the union of tiers (group files) on one surface, for the API without workspaces. */
  tierResources(tierNames: readonly string[], surface: Surface): CompiledResources {
    const names = this.knownTiers(tierNames);
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

  /**
   * Resources of the union of known caller groups on one surface (empty allow list when none is known). With
   * teams: each reached workspace's tiers, placed under `/ws/<workspace>/`; a global group whose routes are
   * everything (admins) keeps `*`, which reaches workspaces made later too.
   */
  resourcesFor(groupNames: readonly string[], surface: Surface): CompiledResources {
    if (!this.teams) return this.tierResources(groupNames, surface);
    const names = this.knownGroups(groupNames);
    const key = PolicySet.key(names, surface);
    let c = this.placed.get(key);
    if (!c) {
      const globals = names.filter((n) => this.teams?.isGlobal(n));
      const everything = globals.length > 0 ? this.tierResources(globals, surface) : undefined;
      if (everything && reachesEverything(everything)) c = everything;
      else {
        const allow = new Set<string>();
        const deny = new Set<string>();
        for (const [workspace, tiers] of this.teams.grants(names)) {
          if (tiers.length === 0) continue;
          const r = workspaceResources(this.tierResources(tiers, surface), workspace);
          for (const g of r.allow) allow.add(g);
          for (const g of r.deny) deny.add(g);
        }
        c = { allow: [...allow].sort(), deny: [...deny].sort() };
      }
      if (this.placed.size >= MAX_MEMOISED_ANSWERS) this.placed.clear();
      this.placed.set(key, c);
    }
    return c;
  }

  /** The authorizer's policy over the groups' whole route set: the union of its answers (`policy render`). */
  authorizerPolicy(groupNames: readonly string[], scope: MethodArnStage): PolicyDocument {
    return buildAuthorizerPolicy(this.resourcesFor(groupNames, "cognito"), scope);
  }

  /** The authorizer's answer for requests of one verb under one API resource (answer-scope.ts). */
  authorizerAnswer(groupNames: readonly string[], scope: MethodArnStage, key: AnswerKey): PolicyDocument {
    return buildAuthorizerPolicy(this.answerResources(groupNames, key), scope);
  }

  /** The resources of an answer, memoised per group set and key (a bounded memo: keys come from the API). */
  private answerResources(groupNames: readonly string[], key: AnswerKey): CompiledResources {
    const memoKey = `${this.knownGroups(groupNames).join(",")}|${key.method} ${key.resource} ${key.workspace ?? ""}`;
    let scoped = this.scoped.get(memoKey);
    if (!scoped) {
      const all = this.resourcesFor(groupNames, "cognito");
      let resources = all;
      if (this.teams && key.workspace !== undefined) {
        resources = this.workspaceResourcesFor(groupNames, key.workspace, "cognito");
        // A workspace the groups do not reach: another's shortest glob, which matches none of its requests, so the
        // refusal reads "not authorized" as the whole policy's would (scopeToKey's rule for such keys).
        if (resources.allow.length === 0 && all.allow.length > 0)
          resources = { allow: [all.allow.reduce((a, b) => (b.length < a.length ? b : a))], deny: [] };
      }
      scoped = scopeToKey(resources, key);
      if (this.scoped.size >= MAX_MEMOISED_ANSWERS) this.scoped.clear();
      this.scoped.set(memoKey, scoped);
    }
    return scoped;
  }

  /** A role's managed policies for the group, memoised per group and stage (a bounded memo). */
  iamPolicies(groupName: string, scope: MethodArnStage): readonly PolicyDocument[] {
    const key = `${groupName}|${stageArnPrefix(scope)}`;
    let docs = this.iamDocs.get(key);
    if (!docs) {
      docs = buildIamPolicies(this.resourcesFor([groupName], "iam"), scope);
      if (this.iamDocs.size >= MAX_MEMOISED_ANSWERS) this.iamDocs.clear();
      this.iamDocs.set(key, docs);
    }
    return docs;
  }

  /**
   * The caller groups' resources in one workspace only: its tiers' routes placed under `/ws/<workspace>/` (admins'
   * `*` as it is). Never more than resourcesFor gives: its part for that workspace.
   */
  workspaceResourcesFor(groupNames: readonly string[], workspace: string, surface: Surface): CompiledResources {
    const all = this.resourcesFor(groupNames, surface);
    if (!this.teams || reachesEverything(all)) return all;
    const tiers = this.tiersIn(groupNames, workspace);
    return tiers.length === 0
      ? { allow: [], deny: [] }
      : workspaceResources(this.tierResources(tiers, surface), workspace);
  }

  /** Whether the groups may call routes the catalog does not list (`unknownRoutes: allow`) in the workspace. */
  mayCallUnknownRoutes(groupNames: readonly string[], workspace?: string): boolean {
    return this.tiersIn(groupNames, workspace).some((t) => this.groups.get(t)?.unknownRoutes === "allow");
  }

  /**
   * The promotion rule of each tier the groups hold in the workspace that may call the route (a tier without a
   * promotion block: whatever the route allows), by tier. The guard decides a promotion from these; tiers
   * without the route right play no part, as API Gateway already refused a caller with none.
   */
  promotionRules(groupNames: readonly string[], route: CatalogRoute, workspace?: string): Map<string, PromotionRule> {
    const rules = new Map<string, PromotionRule>();
    for (const tier of this.tiersIn(groupNames, workspace))
      if (this.tierIntends(tier, route)) rules.set(tier, this.groups.get(tier)?.promotion ?? UNRESTRICTED);
    return rules;
  }

  /** The promotion rule of every tier that may call the route, whoever holds it. */
  allPromotionRules(route: CatalogRoute): Map<string, PromotionRule> {
    const rules = new Map<string, PromotionRule>();
    for (const [tier, g] of this.groups)
      if (this.tierIntends(tier, route)) rules.set(tier, g.promotion ?? UNRESTRICTED);
    return rules;
  }

  /**
   * Whether the groups' own action lists mean to allow the route in the workspace (what compiled policies must
   * equal). With teams and no workspace: in some workspace.
   */
  intends(groupNames: readonly string[], route: CatalogRoute, workspace?: string): boolean {
    if (route.auth === "none") return true;
    return this.tiersIn(groupNames, workspace).some((t) => this.tierIntends(t, route));
  }

  private tierIntends(tier: string, route: CatalogRoute): boolean {
    return this.groups.get(tier)?.allowedRouteIds.has(`${route.method} ${route.path}`) ?? false;
  }
}

/**
 * The scope of a Lambda authorizer's policy: the API id exactly; region, account and stage as `*`.
 * API Gateway evaluates an authorizer's policy only for calls to the API that invoked it, and a
 * group's rights are the same on every stage, so those parts carry nothing but bytes.
 */
export function authorizerScope(arn: Pick<MethodArnStage, "partition" | "apiId">): MethodArnStage {
  return { partition: arn.partition, region: "*", account: "*", apiId: arn.apiId, stage: "*" };
}
