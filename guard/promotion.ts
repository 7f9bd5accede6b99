import { CatalogRoute } from "../authorizer/core/catalog";
import { PolicySet } from "../authorizer/core/policy-set";
import { decidePromotionRequest, PromotionRefused, unreadablePromotion } from "../authorizer/core/decide-promotion";
import { canonicalStage, PromotionRequest, Stage, UNRESTRICTED } from "../authorizer/core/promotion";
import { Caller } from "./caller";
import { isJsonObject, JsonObject } from "./json-body";
import { isPromotionAction, PendingPromotion, readPromotionRequest } from "./promotion-request";
import { USER_TAG } from "./stamp";

/**
 * Promotion rules in the guard: on TransitionModelVersionStage and the alias routes it reads the stage or
 * the alias from the body, the version's current stage and creator from MLflow, the caller's groups, and
 * decides with the group files' rules (authorizer/core/promotion.ts). The decision is pure; the registry
 * lookup is injected.
 */
export interface PromotionPolicy {
  readonly policySet: PolicySet;
  /**
   * The groups of SigV4 callers, which API Gateway cannot name (`(iam)`): `user/<name>` or `role/<name>`
   * of the MLflow account's principals (the Studio execution roles, the cross-account roles; locally the
   * principals.json entries) to a group.
   */
  readonly iamGroups: ReadonlyMap<string, string>;
}

/** A version as MLflow holds it: its stage, and its creator as the guard stamped it (none on older versions). */
export interface VersionFacts {
  readonly stage: Stage;
  readonly creator?: string;
}

export interface RegistryLookup {
  /** undefined: MLflow has no such version (it answers the request itself). */
  version(name: string, version: string): Promise<VersionFacts | undefined>;
}

/** The key of a SigV4 caller in `iamGroups`: its user, or the role of its session. */
export function iamGroupKey(caller: Pick<Caller, "name">): string | undefined {
  if (caller.name.startsWith("user/")) return caller.name;
  const role = /^assumed-role\/([^/]+)\//.exec(caller.name)?.[1];
  return role === undefined ? undefined : `role/${role}`;
}

export function groupsOf(caller: Caller, iamGroups: ReadonlyMap<string, string>): string[] {
  if (caller.surface === "cognito") return [...caller.groups];
  const key = iamGroupKey(caller);
  const group = key === undefined ? undefined : iamGroups.get(key);
  return group === undefined ? [] : [group];
}

/** The guard's answer: forward, or refuse with the status, reason and message of the shared decision. */
export type PromotionCheck = { readonly ok: true } | PromotionRefused;

/** Reads what MLflow's GetModelVersion answered: the stage, and the `mlflow.user` tag. */
export function versionFactsOf(answer: unknown): VersionFacts | undefined {
  const mv = isJsonObject(answer) ? answer.model_version : undefined;
  if (!isJsonObject(mv) || typeof mv.current_stage !== "string") return undefined;
  const stage = canonicalStage(mv.current_stage);
  if (stage === undefined) return undefined;
  const tags = Array.isArray(mv.tags) ? mv.tags : [];
  const creator = tags.find((t) => isJsonObject(t) && t.key === USER_TAG) as JsonObject | undefined;
  return { stage, ...(typeof creator?.value === "string" ? { creator: creator.value } : {}) };
}

export async function checkPromotion(
  policy: PromotionPolicy,
  route: CatalogRoute,
  caller: Caller,
  body: JsonObject,
  lookup: RegistryLookup,
): Promise<PromotionCheck> {
  if (!isPromotionAction(route.action)) return { ok: true };
  const read = readPromotionRequest(route.action, body);
  if (!read.ok) return unreadablePromotion(read.message);
  const groups = groupsOf(caller, policy.iamGroups);
  // A SigV4 caller outside the role table: IAM allowed the route, so one of the groups with the route right is
  // its own. When none of them restricts promotion, its group cannot change the answer.
  if (groups.length === 0 && caller.surface === "iam") {
    const all = policy.policySet.promotionRules([...policy.policySet.groups.keys()], route);
    if ([...all.values()].every((r) => r === UNRESTRICTED)) return { ok: true };
  }
  const { target } = read;
  let facts: VersionFacts = { stage: "None" };
  // No group of the caller may call the route: the decision refuses without asking MLflow.
  if (target.version !== undefined && policy.policySet.promotionRules(groups, route).size > 0) {
    const found = await lookup.version(target.name, target.version);
    // No such version: MLflow refuses the request itself, and there is nothing to promote.
    if (found === undefined) return { ok: true };
    facts = found;
  }
  const verdict = decidePromotionRequest(policy.policySet, groups, route, promotionOf(target.request, facts.stage), {
    caller: caller.name,
    creator: facts.creator,
  });
  return verdict.ok ? { ok: true } : verdict;
}

/** The request to decide, once the version's current stage is known (only a transition depends on it). */
export function promotionOf(pending: PendingPromotion, from: Stage): PromotionRequest {
  return pending.kind === "transition" ? { ...pending, from } : pending;
}
