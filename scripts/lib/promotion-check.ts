// What `mlflow-gate policy check` makes of a promotion route's body fields, given as flags: the body the guard
// would read, read by the guard's own reader (guard/promotion-request.ts), and decided by the one decision
// (authorizer/core/decide-promotion.ts). Pure.
import { CatalogRoute } from "../../authorizer/core/catalog";
import { decidePromotionRequest, PromotionVerdict, unreadablePromotion } from "../../authorizer/core/decide-promotion";
import { PolicySet } from "../../authorizer/core/policy-set";
import { Stage } from "../../authorizer/core/promotion";
import { JsonObject } from "../../guard/json-body";
import { promotionOf } from "../../guard/promotion";
import { PROMOTION_ACTIONS, PromotionAction, readPromotionRequest } from "../../guard/promotion-request";

/** The promotion fields of one request: what its body says, and what MLflow holds about the version. */
export interface PromotionFields {
  /** The stage the body names, as the client spells it (TransitionModelVersionStage). */
  readonly stage?: string;
  /** `archive_existing_versions` (TransitionModelVersionStage). @default false */
  readonly archiveExisting?: boolean;
  /** The alias the body names (SetRegisteredModelAlias, DeleteRegisteredModelAlias). */
  readonly alias?: string;
  /** The version's current stage. @default "None" (a new version's) */
  readonly fromStage?: Stage;
  /** The version's creator as the guard stamped it. @default unknown (a version older than the stamping) */
  readonly creator?: string;
  /**
   * The caller's name as the guard knows it (a Cognito username, `assumed-role/<role>/<session>`, `user/<name>`).
   * @default someone other than the creator: the two-person rule then refuses only an unknown creator
   */
  readonly caller?: string;
}

/** The flags of `policy check` that carry the fields, the actions each applies to, and the one each action needs. */
export const PROMOTION_FLAGS = {
  stage: ["TransitionModelVersionStage"],
  "from-stage": ["TransitionModelVersionStage"],
  "archive-existing": ["TransitionModelVersionStage"],
  alias: ["SetRegisteredModelAlias", "DeleteRegisteredModelAlias"],
  // Removing an alias promotes nothing (no two-person rule), and the guard looks no version up for it.
  creator: ["TransitionModelVersionStage", "SetRegisteredModelAlias"],
  caller: ["TransitionModelVersionStage", "SetRegisteredModelAlias"],
} as const satisfies Record<string, readonly PromotionAction[]>;
export type PromotionFlag = keyof typeof PROMOTION_FLAGS;

const REQUIRED: Record<PromotionAction, PromotionFlag> = {
  TransitionModelVersionStage: "stage",
  SetRegisteredModelAlias: "alias",
  DeleteRegisteredModelAlias: "alias",
};

/**
 * What is wrong with the promotion flags given for a route's action (undefined: not a promotion route), or
 * undefined when nothing is: a flag the action does not read, or the one field its body must name.
 */
export function promotionFlagProblem(action: string | undefined, given: readonly PromotionFlag[]): string | undefined {
  const promotion = PROMOTION_ACTIONS.find((a) => a === action);
  for (const flag of given) {
    const applies: readonly string[] = PROMOTION_FLAGS[flag];
    if (promotion === undefined || !applies.includes(promotion))
      return `--${flag} does not apply to ${action ?? "a route outside the catalog"} (only to ${applies.join(" and ")})`;
  }
  if (promotion !== undefined && !given.includes(REQUIRED[promotion]))
    return `${promotion} is decided by its body too: give --${REQUIRED[promotion]}`;
  return undefined;
}

/** The body the guard would read; the name and version are placeholders, which the decision never reads. */
function bodyOf(action: PromotionAction, f: PromotionFields): JsonObject {
  const target: JsonObject =
    action === "DeleteRegisteredModelAlias" ? { name: "model" } : { name: "model", version: "1" };
  if (action !== "TransitionModelVersionStage")
    return { ...target, ...(f.alias !== undefined ? { alias: f.alias } : {}) };
  return {
    ...target,
    ...(f.stage !== undefined ? { stage: f.stage } : {}),
    archive_existing_versions: f.archiveExisting === true,
  };
}

/** A caller's name that is not the creator's (longer than it), for the default of `caller`. */
const someoneOtherThan = (creator: string | undefined): string =>
  creator === undefined ? "someone" : `someone other than ${creator}`;

/**
 * Decides a promotion from its fields as the guard decides the same request: the guard's 400 when it could not
 * read the body, its 403 naming the rule and the group files, or the group whose rule allows it.
 */
export function decidePromotionFields(
  set: PolicySet,
  groups: readonly string[],
  route: CatalogRoute & { readonly action: PromotionAction },
  fields: PromotionFields,
  /** The request's workspace, with teams: the rules are those of the tiers the groups hold there. */
  workspace?: string,
): PromotionVerdict {
  const read = readPromotionRequest(route.action, bodyOf(route.action, fields));
  if (!read.ok) return unreadablePromotion(read.message);
  // As in the guard: the version's facts only for a request that names a version.
  const named = read.target.version !== undefined;
  const creator = named ? fields.creator : undefined;
  return decidePromotionRequest(
    set,
    groups,
    route,
    promotionOf(read.target.request, named ? (fields.fromStage ?? "None") : "None"),
    { caller: fields.caller ?? someoneOtherThan(creator), creator },
    workspace,
  );
}
