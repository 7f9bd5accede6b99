// Promotion rules of the group files: which model-version stages a group may move versions to (and from), which
// aliases it may set or delete, and whether the caller must be someone else than the version's creator. API
// Gateway decides the route (TransitionModelVersionStage, SetRegisteredModelAlias, ...); the guard, which reads
// the body, decides these. Pure: the guard, `policy check` and lint share every decision here.

/** MLflow's stages, as it stores them (mlflow/entities/model_registry/model_version_stages.py). */
export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];

/**
 * The stages a version serves from: MLflow's "active" stages (DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS, the only
 * targets `archive_existing_versions` takes). None and Archived are where versions rest.
 */
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];

/**
 * The stage MLflow reads from a client's string: ASCII case-insensitive, never trimmed
 * (`get_canonical_stage`: `stage.lower()` looked up among the four). Anything else MLflow refuses (400).
 */
export function canonicalStage(raw: string): Stage | undefined {
  const lower = raw.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return STAGES.find((s) => s.toLowerCase() === lower);
}

/**
 * An alias name the rules can decide: MLflow also accepts Unicode word characters and a trailing newline
 * (`^[\w\-]*$`), which would let a look-alike of a protected name through; the guard refuses those.
 */
export const DECIDABLE_ALIAS = /^[A-Za-z0-9_-]{1,255}$/;

/** A glob of alias names (`*` any run of characters), compared case-insensitively. */
export function aliasMatches(pattern: string, alias: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(alias);
}

/** A group's promotion rights, as its file states them (or inherits them). */
export interface PromotionRule {
  /** Stages a version may be moved to. */
  readonly stagesTo: readonly Stage[];
  /** Stages a version may be moved out of; @default every stage */
  readonly stagesFrom?: readonly Stage[];
  /** Alias names it may set or delete (globs)... */
  readonly aliasesAllow: readonly string[];
  /** ...but not these (globs; a deny wins). */
  readonly aliasesDeny: readonly string[];
  /** The caller must not be the version's creator; a version without a known creator is refused. */
  readonly separateFromCreator: boolean;
}

/** What a group without a promotion block may do once it has the route right: what the route allows. */
export const UNRESTRICTED: PromotionRule = {
  stagesTo: STAGES,
  aliasesAllow: ["*"],
  aliasesDeny: [],
  separateFromCreator: false,
};

export type PromotionRequest =
  | {
      readonly kind: "transition";
      readonly to: Stage;
      /** The version's stage now, as MLflow holds it. */
      readonly from: Stage;
      /** `archive_existing_versions`: every other version in `to` moves to Archived. */
      readonly archiveExisting: boolean;
    }
  | { readonly kind: "set-alias" | "delete-alias"; readonly alias: string };

/** Who asks, and who created the version (the `mlflow.user` tag the guard stamped), when it is known. */
export interface PromotionParties {
  readonly caller: string;
  readonly creator: string | undefined;
}

export type PromotionDecision =
  | { readonly allowed: true; readonly group: string }
  | { readonly allowed: false; readonly reason: PromotionRefusal; readonly message: string };

export type PromotionRefusal = "stage-not-allowed" | "alias-not-allowed" | "alias-undecidable" | "same-person";

/**
 * Whether two stamped names are one person for the two-person rule. A role's sessions are one person: whoever
 * may assume the role chooses the session name, so a new session must not count as someone else.
 */
export function samePerson(a: string, b: string): boolean {
  const person = (name: string): string => /^(assumed-role\/[^/]+)\//.exec(name)?.[1] ?? name;
  return person(a) === person(b);
}

/** Why one group's rule refuses the request, or undefined when it allows it. */
function refusalOf(
  rule: PromotionRule,
  request: PromotionRequest,
  parties: PromotionParties,
): { reason: PromotionRefusal; why: string } | undefined {
  if (request.kind === "transition") {
    if (!rule.stagesTo.includes(request.to)) return { reason: "stage-not-allowed", why: `promotion to ${request.to}` };
    if (rule.stagesFrom && !rule.stagesFrom.includes(request.from))
      return { reason: "stage-not-allowed", why: `move out of ${request.from}` };
    if (request.archiveExisting && !rule.stagesTo.includes("Archived"))
      return {
        reason: "stage-not-allowed",
        why: `archiving (archive_existing_versions moves the other ${request.to} versions to Archived)`,
      };
  } else {
    if (!DECIDABLE_ALIAS.test(request.alias))
      return { reason: "alias-undecidable", why: "alias named otherwise than with letters, digits, _ and -" };
    const allowed = rule.aliasesAllow.some((p) => aliasMatches(p, request.alias));
    const denied = rule.aliasesDeny.some((p) => aliasMatches(p, request.alias));
    if (!allowed || denied)
      return {
        reason: "alias-not-allowed",
        why: `${request.kind === "set-alias" ? "setting" : "deleting"} alias ${request.alias}`,
      };
  }
  // Removing an alias promotes nothing: the two-person rule guards what a version becomes.
  if (rule.separateFromCreator && request.kind !== "delete-alias") {
    if (parties.creator === undefined)
      return { reason: "same-person", why: "promotion of a version whose creator is unknown (the two-person rule)" };
    if (samePerson(parties.creator, parties.caller))
      return {
        reason: "same-person",
        why: `promotion of a version you created (${parties.creator}): the two-person rule`,
      };
  }
  return undefined;
}

/** One promotion a request amounts to, with the creator of the version it concerns. */
export interface PromotionStep {
  readonly request: PromotionRequest;
  readonly creator: string | undefined;
  /** Why the request amounts to it, for the refusal message (a route with side effects); absent: it is the request. */
  readonly because?: string;
}

/**
 * Decides a promotion for a caller in several groups, each of which has the route right: allowed when one of
 * their rules allows it (as routes are: the union of the groups), else refused with every group's reason.
 */
export function decidePromotion(
  rules: ReadonlyMap<string, PromotionRule>,
  request: PromotionRequest,
  parties: PromotionParties,
): PromotionDecision {
  return decidePromotionSteps(rules, [{ request, creator: parties.creator }], parties.caller);
}

/**
 * Decides a request that amounts to several promotions (removing a version takes its stage and its aliases):
 * allowed when one group's rule allows every step, so that no step rides on another group's right; else refused
 * with each group's first refusal. No steps: allowed (a group has the route right).
 */
export function decidePromotionSteps(
  rules: ReadonlyMap<string, PromotionRule>,
  steps: readonly PromotionStep[],
  caller: string,
): PromotionDecision {
  const refusals: { group: string; reason: PromotionRefusal; why: string }[] = [];
  for (const [group, rule] of [...rules].sort(([a], [b]) => a.localeCompare(b))) {
    let refused: { reason: PromotionRefusal; why: string } | undefined;
    for (const step of steps) {
      const refusal = refusalOf(rule, step.request, { caller, creator: step.creator });
      if (refusal !== undefined) {
        refused = step.because === undefined ? refusal : { ...refusal, why: `${refusal.why} (${step.because})` };
        break;
      }
    }
    if (refused === undefined) return { allowed: true, group };
    refusals.push({ group, ...refused });
  }
  if (refusals.length === 0)
    return { allowed: false, reason: "stage-not-allowed", message: "no group of the caller may promote" };
  return {
    allowed: false,
    reason: (refusals[0] as { reason: PromotionRefusal }).reason,
    message: refusals.map((r) => `policies/groups/${r.group}.yaml allows no ${r.why}`).join("; "),
  };
}
