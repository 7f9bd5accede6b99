import { CatalogRoute, RouteCatalog, routeId, ROUTE_CLASSES } from "./catalog";
import { GroupPolicyError } from "./errors";
import { PromotionRule } from "./promotion";

/** A group file's content, with the line of each pattern for messages. */
export interface GroupFile {
  readonly name: string;
  readonly file: string;
  readonly description: string;
  readonly extends: readonly string[];
  readonly allow: readonly PatternAt[];
  readonly deny: readonly PatternAt[];
  readonly unknownRoutes: "allow" | "deny";
  /**
   * With team files: `all` gives the group's routes in every workspace (admins); `teams` (the default) only where
   * a team file gives it a tier.
   */
  readonly workspaces?: WorkspaceReach;
  /** The file's promotion block and its line; absent: the route right decides alone, or an extended group's block. */
  readonly promotion?: PromotionRule & { readonly line: number };
}

export interface PatternAt {
  readonly pattern: string;
  readonly line: number;
}

/** A group with `extends` resolved: the exact catalog routes it may call. */
export interface ResolvedGroup {
  readonly name: string;
  readonly description: string;
  readonly allowedRouteIds: ReadonlySet<string>;
  readonly unknownRoutes: "allow" | "deny";
  readonly workspaces: WorkspaceReach;
  /** What it may promote once it has the route right; undefined: whatever the route allows. */
  readonly promotion?: PromotionRule;
}

/** Where a group's routes apply once teams exist: every workspace, or only where team files give it a tier. */
export type WorkspaceReach = "all" | "teams";

export const GROUP_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** The catalog routes an action pattern names: `class:read`, `Get*`, `SearchRuns`, `*`. */
export function matchActionPattern(pattern: string, routes: readonly CatalogRoute[]): CatalogRoute[] {
  if (pattern.startsWith("class:")) {
    const cls = pattern.slice("class:".length);
    return routes.filter((r) => r.class === cls);
  }
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return routes.filter((r) => re.test(r.action));
}

/**
 * Resolves `extends` and patterns to each group's exact set of routes. A group starts from what the
 * groups it extends may call, adds its `allow`, then removes its `deny`. Reports every problem at once:
 * unknown groups, cycles, patterns that match no route.
 */
export function resolveGroups(files: readonly GroupFile[], catalog: RouteCatalog): Map<string, ResolvedGroup> {
  const problems: string[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const f of files) {
    for (const base of f.extends) {
      if (!byName.has(base)) problems.push(`${f.file}:1: extends unknown group "${base}"`);
    }
    for (const p of [...f.allow, ...f.deny]) {
      if (p.pattern.startsWith("class:") && !(ROUTE_CLASSES as readonly string[]).includes(p.pattern.slice(6))) {
        problems.push(`${f.file}:${p.line}: unknown class "${p.pattern}"`);
      } else if (matchActionPattern(p.pattern, catalog.routes).length === 0) {
        problems.push(`${f.file}:${p.line}: "${p.pattern}" matches no action of MLflow ${catalog.mlflowVersion}`);
      }
    }
  }
  const resolved = new Map<string, ResolvedGroup>();
  const visiting: string[] = [];
  /**
   * A group's own promotion block wins; without one it takes the block of the groups it extends when they
   * agree (one block, or the same), so extending a restricted group never lifts its restrictions.
   */
  const promotionOf = (f: GroupFile): PromotionRule | undefined => {
    if (f.promotion) {
      const { line: _line, ...rule } = f.promotion;
      return rule;
    }
    const inherited = f.extends
      .map((b) => resolved.get(b)?.promotion)
      .filter((r): r is PromotionRule => r !== undefined);
    const distinct = [...new Map(inherited.map((r) => [JSON.stringify(r), r])).values()];
    if (distinct.length > 1)
      problems.push(
        `${f.file}:1: extends groups with different promotion rules (${f.extends.join(", ")}): state this group's own promotion block`,
      );
    return distinct[0];
  };
  const resolve = (name: string): ReadonlySet<string> | undefined => {
    const done = resolved.get(name);
    if (done) return done.allowedRouteIds;
    const f = byName.get(name);
    if (!f) return undefined;
    if (visiting.includes(name)) {
      problems.push(`${f.file}:1: extends cycle: ${[...visiting.slice(visiting.indexOf(name)), name].join(" -> ")}`);
      return undefined;
    }
    visiting.push(name);
    const allowed = new Set<string>();
    for (const base of f.extends) for (const id of resolve(base) ?? []) allowed.add(id);
    for (const p of f.allow) for (const r of matchActionPattern(p.pattern, catalog.routes)) allowed.add(routeId(r));
    for (const p of f.deny) for (const r of matchActionPattern(p.pattern, catalog.routes)) allowed.delete(routeId(r));
    visiting.pop();
    const promotion = promotionOf(f);
    resolved.set(name, {
      name,
      description: f.description,
      allowedRouteIds: allowed,
      unknownRoutes: f.unknownRoutes,
      workspaces: f.workspaces ?? "teams",
      ...(promotion ? { promotion } : {}),
    });
    return allowed;
  };
  for (const f of files) resolve(f.name);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, [...new Set(problems)]);
  return resolved;
}
