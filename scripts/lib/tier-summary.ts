// What a tier (a group file) may do, in a few words, for `mlflow-gate teams show`: asked of the same decisions the
// decision matrix shows (the gateway's per route, the guard's per promotion), never read off the files.
import { ROUTE_CLASSES, RouteClass } from "../../authorizer/core/catalog";
import { PolicySet } from "../../authorizer/core/policy-set";
import { STAGES } from "../../authorizer/core/promotion";
import { isAllowed, PromotionRights, promotionRightsOf } from "../../authorizer/core/promotion-rights";

export interface TierSummary {
  readonly tier: string;
  /** Routes the tier may call, of all the catalog's. */
  readonly allowed: number;
  readonly total: number;
  /** Per class with an allowed route: how many of the class's routes. */
  readonly classes: readonly { readonly class: RouteClass; readonly allowed: number; readonly total: number }[];
  /** Its promotion rights, in words. */
  readonly promotion: string;
}

/**
 * The tiers' own policy set: the same group files without teams, in which a group file's name is a caller group
 * and its decisions are the decision matrix's columns (which a holder gets in its team's workspace:
 * test/authorizer/core/teams.test.ts).
 */
export function tierSet(set: PolicySet): PolicySet {
  return set.teams ? new PolicySet(set.catalog, set.groups) : set;
}

/** What a tier may do: its routes by class and its promotion rights. */
export function summarizeTier(tiers: PolicySet, tier: string): TierSummary {
  const routes = tiers.catalog.routes;
  const allowed = routes.filter((r) => isAllowed(tiers, tier, r));
  const classes = ROUTE_CLASSES.map((c) => ({
    class: c,
    allowed: allowed.filter((r) => r.class === c).length,
    total: routes.filter((r) => r.class === c).length,
  })).filter((c) => c.allowed > 0);
  return {
    tier,
    allowed: allowed.length,
    total: routes.length,
    classes,
    promotion: describePromotion(promotionRightsOf(tiers, tier)),
  };
}

/** "read (all 61), registry-write (28 of 30)". */
export function describeClasses(s: TierSummary): string {
  return s.classes
    .map(
      (c) =>
        `${c.class} (${c.allowed === c.total ? "all " : ""}${c.allowed}${c.allowed === c.total ? "" : ` of ${c.total}`})`,
    )
    .join(", ");
}

/** A tier's promotion rights in words, as the matrix's Promotion rights tables say them. */
export function describePromotion(r: PromotionRights | undefined): string {
  if (r === undefined) return "promotes nothing (may call no promotion route)";
  const parts: string[] = [];
  if (r.transition) {
    const from = r.stagesFrom.length === STAGES.length ? "any stage" : r.stagesFrom.join(", ") || "none";
    parts.push(
      r.stagesTo.length === 0
        ? "moves versions to no stage"
        : `moves versions to ${r.stagesTo.join(", ")} (out of ${from})`,
    );
  }
  const aliasVerbs = [r.setAlias ? "sets" : "", r.deleteAlias ? "deletes" : ""].filter(Boolean).join(" and ");
  if (aliasVerbs !== "") {
    const deny = r.aliasesDeny.length > 0 ? ` but not ${r.aliasesDeny.join(", ")}` : "";
    parts.push(`${aliasVerbs} aliases ${r.aliasesAllow.join(", ") || "none"}${deny}`);
  }
  if (r.separateFromCreator) parts.push("never on a version it created (two-person rule)");
  return parts.join("; ");
}
