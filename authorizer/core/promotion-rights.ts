import { CatalogRoute, samplePath } from "./catalog";
import { decidePath } from "./decide-request";
import { decidePromotionRequest } from "./decide-promotion";
import { PolicySet } from "./policy-set";
import { Stage, STAGES } from "./promotion";

// What each group may promote, as the decision matrix shows it: asked of the gateway's decision (may the group
// call the route) and of the guard's (which stages and aliases), never read off the files beside them.

/** Whether the deployed gateway lets a group call a route (its sample path). */
export function isAllowed(set: PolicySet, group: string, route: Pick<CatalogRoute, "method" | "path">): boolean {
  return decidePath(set, [group], route.method, samplePath(route.path)).decision === "allow";
}

/** A group's promotion rights, as the guard decides them once the gateway let the group call the route. */
export interface PromotionRights {
  /** Whether the gateway lets the group call each promotion route (on one mount at least). */
  readonly transition: boolean;
  readonly setAlias: boolean;
  readonly deleteAlias: boolean;
  /** Stages the guard lets it move a version to (from some stage), and out of (to some stage). */
  readonly stagesTo: readonly Stage[];
  readonly stagesFrom: readonly Stage[];
  readonly aliasesAllow: readonly string[];
  readonly aliasesDeny: readonly string[];
  readonly separateFromCreator: boolean;
}

/** The group's routes of an action that the gateway lets it call. */
const allowedRoutes = (set: PolicySet, group: string, action: string): CatalogRoute[] =>
  set.catalog.routes.filter((r) => r.action === action && isAllowed(set, group, r));

/**
 * What a group may promote, or undefined when it may call none of the promotion routes. The stages are asked of
 * the guard's own decision (someone else's version), so the table cannot say more than the guard allows.
 */
export function promotionRightsOf(set: PolicySet, group: string): PromotionRights | undefined {
  const [transition] = allowedRoutes(set, group, "TransitionModelVersionStage");
  const [setAlias] = allowedRoutes(set, group, "SetRegisteredModelAlias");
  const [deleteAlias] = allowedRoutes(set, group, "DeleteRegisteredModelAlias");
  const route = transition ?? setAlias ?? deleteAlias;
  if (route === undefined) return undefined;
  const rule = set.promotionRules([group], route).get(group);
  const moves = (to: Stage, from: Stage): boolean =>
    transition !== undefined &&
    decidePromotionRequest(
      set,
      [group],
      transition,
      { kind: "transition", to, from, archiveExisting: false },
      { caller: "someone", creator: "someone else" },
    ).ok;
  return {
    transition: transition !== undefined,
    setAlias: setAlias !== undefined,
    deleteAlias: deleteAlias !== undefined,
    stagesTo: STAGES.filter((to) => STAGES.some((from) => moves(to, from))),
    stagesFrom: STAGES.filter((from) => STAGES.some((to) => moves(to, from))),
    aliasesAllow: rule?.aliasesAllow ?? [],
    aliasesDeny: rule?.aliasesDeny ?? [],
    separateFromCreator: rule?.separateFromCreator ?? false,
  };
}
