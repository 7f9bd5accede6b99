import { AnswerKey, scopeToKey } from "./answer-scope";
import { AuthType, CatalogRoute, RouteCatalog, RouteMatcher } from "./catalog";
import {
  buildAuthorizerPolicy,
  buildIamPolicies,
  compileGroupUnion,
  CompiledResources,
  PolicyDocument,
} from "./compile";
import { GroupFile, ResolvedGroup, resolveGroups } from "./groups";
import { MethodArnStage } from "./method-arn";
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
 * The catalog and the resolved groups: everything a decision needs. Compiled resources are memoised
 * per (sorted group set, surface), so a warm authorizer compiles each combination once; a build can
 * precompile them so that no request pays for it.
 */
export class PolicySet {
  readonly matcher: RouteMatcher;
  private readonly compiled = new Map<string, CompiledResources>();
  private readonly scoped = new Map<string, CompiledResources>();

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
    const memoKey = `${this.knownGroups(groupNames).join(",")}|${key.method} ${key.resource}`;
    let scoped = this.scoped.get(memoKey);
    if (!scoped) {
      scoped = scopeToKey(this.resourcesFor(groupNames, "cognito"), key);
      if (this.scoped.size >= MAX_MEMOISED_ANSWERS) this.scoped.clear();
      this.scoped.set(memoKey, scoped);
    }
    return scoped;
  }

  iamPolicies(groupName: string, scope: MethodArnStage): PolicyDocument[] {
    return buildIamPolicies(this.resourcesFor([groupName], "iam"), scope);
  }

  /** Whether one of the groups may call routes the catalog does not list (`unknownRoutes: allow`). */
  mayCallUnknownRoutes(groupNames: readonly string[]): boolean {
    return this.knownGroups(groupNames).some((g) => this.groups.get(g)?.unknownRoutes === "allow");
  }

  /**
   * The promotion rule of each of the groups that may call the route (a group without a promotion block:
   * whatever the route allows). The guard decides a promotion from these; groups without the route right
   * play no part, as API Gateway already refused a caller with none.
   */
  promotionRules(groupNames: readonly string[], route: CatalogRoute): Map<string, PromotionRule> {
    const rules = new Map<string, PromotionRule>();
    for (const name of this.knownGroups(groupNames))
      if (this.intends([name], route)) rules.set(name, this.groups.get(name)?.promotion ?? UNRESTRICTED);
    return rules;
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
 * group's rights are the same on every stage, so those parts carry nothing but bytes.
 */
export function authorizerScope(arn: Pick<MethodArnStage, "partition" | "apiId">): MethodArnStage {
  return { partition: arn.partition, region: "*", account: "*", apiId: arn.apiId, stage: "*" };
}
