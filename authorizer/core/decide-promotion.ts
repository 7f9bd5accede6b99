import { CatalogRoute } from "./catalog";
import { PolicySet } from "./policy-set";
import { decidePromotion, PromotionParties, PromotionRefusal, PromotionRequest } from "./promotion";

/**
 * The guard's answer to a promotion (a stage transition, an alias set or delete) once the route is allowed: go
 * on, a 400 when the body cannot be decided on, or a 403 naming the rule and the group files. The guard sends the
 * refusals as they are; `mlflow-gate policy check` prints them.
 */
export type PromotionVerdict = { readonly ok: true; readonly group: string } | PromotionRefused;

export interface PromotionRefused {
  readonly ok: false;
  readonly status: 400 | 403 | 404;
  readonly reason: `promotion-${PromotionRefusal | "no-group" | "request-unreadable" | "undecidable" | "not-found"}`;
  readonly message: string;
}

/** A promotion body the guard cannot decide on (guard/promotion-request.ts says why): MLflow never reads it. */
export function unreadablePromotion(message: string): PromotionRefused {
  return { ok: false, status: 400, reason: "promotion-request-unreadable", message };
}

/** Where the caller's groups come from, for a refusal that names none: a SigV4 caller has no Cognito groups. */
const GROUPS_SOURCE = {
  iam: "a SigV4 caller's group comes from the deployment's role table",
  cognito: "Cognito groups",
} as const;

/** The refusal of a caller none of whose groups may call the route (the gateway let it through as another's). */
export function noPromotionGroup(caller: string, route: Pick<CatalogRoute, "action" | "auth">): PromotionRefused {
  return {
    ok: false,
    status: 403,
    reason: "promotion-no-group",
    message: `${caller} is in no group that may ${route.action} (${GROUPS_SOURCE[route.auth === "iam" ? "iam" : "cognito"]})`,
  };
}

/**
 * Decides a promotion read from its body, for a caller in `groups` on `route` (one of the promotion routes), the
 * version's current stage and creator known: each group with the route right brings its rule (a group without a
 * promotion block: whatever the route allows), and one rule allowing it is enough; with teams, the tiers the groups
 * hold in the request's `workspace` bring theirs, and no other. The only decision of its kind:
 * the guard (guard/promotion.ts) and `mlflow-gate policy check` both call it, so they cannot drift apart.
 */
export function decidePromotionRequest(
  set: PolicySet,
  groups: readonly string[],
  route: CatalogRoute,
  request: PromotionRequest,
  parties: PromotionParties,
  /** The request's workspace (`/ws/<team>/`): the tiers the groups hold there bring their rules. */
  workspace?: string,
): PromotionVerdict {
  const rules = set.promotionRules(groups, route, workspace);
  if (rules.size === 0) return noPromotionGroup(parties.caller, route);
  const decision = decidePromotion(rules, request, parties);
  return decision.allowed
    ? { ok: true, group: decision.group }
    : { ok: false, status: 403, reason: `promotion-${decision.reason}`, message: decision.message };
}
