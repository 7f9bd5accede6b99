import { CatalogRoute } from "../authorizer/core/catalog";
import { PolicySet } from "../authorizer/core/policy-set";
import {
  decidePromotionRequest,
  noPromotionGroup,
  PromotionRefused,
  unreadablePromotion,
} from "../authorizer/core/decide-promotion";
import {
  ACTIVE_STAGES,
  canonicalStage,
  PromotionDecision,
  PromotionRequest,
  PromotionRule,
  Stage,
  UNRESTRICTED,
} from "../authorizer/core/promotion";
import {
  carriesPromotion,
  decideRegistryChange,
  RegistryVersion,
  unrestrictedGroupOf,
} from "../authorizer/core/promotion-side-effects";
import { Caller } from "./caller";
import { isJsonObject, JsonObject } from "./json-body";
import {
  isPromotionAction,
  isRegistryChangeAction,
  PendingPromotion,
  PromotionTarget,
  readPromotionRequest,
  readRegistryChangeRequest,
  RegistryChangeTarget,
} from "./promotion-request";
import { USER_TAG } from "./stamp";

/**
 * Promotion rules in the guard: on TransitionModelVersionStage and the alias routes it reads the stage or
 * the alias from the body, the version's current stage and creator from MLflow, the caller's groups, and
 * decides with the group files' rules (authorizer/core/promotion.ts). On the registry writes that change
 * stages and aliases as a side effect (deleting a version or a model, renaming a model) it reads what they
 * would take from MLflow and decides the same way (authorizer/core/promotion-side-effects.ts). The decisions
 * are pure; the registry lookup is injected.
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

/** A version as MLflow holds it: its stage, its aliases, and its creator as the guard stamped it (none on older versions). */
export interface VersionFacts {
  readonly stage: Stage;
  readonly aliases: readonly string[];
  readonly creator?: string;
}

/** A registered model as MLflow's GetRegisteredModel holds it: its aliases, and its newest version in each stage. */
export interface ModelFacts {
  readonly aliases: readonly { readonly alias: string; readonly version: string }[];
  readonly latest: readonly { readonly version: string; readonly stage: Stage }[];
}

export interface RegistryLookup {
  /** undefined: MLflow has no such version (it answers the request itself). */
  version(name: string, version: string): Promise<VersionFacts | undefined>;
  /** undefined: MLflow has no such model (it answers the request itself). */
  model(name: string): Promise<ModelFacts | undefined>;
}

/**
 * The most versions the guard reads to decide what deleting or renaming a model takes (one GetModelVersion
 * each, a few at a time); past it, a group with a promotion block is refused and one without decides.
 */
export const MAX_READ_VERSIONS = 1000;
const PARALLEL_READS = 8;

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

const VERSION_NUMBER = /^[1-9][0-9]*$/;

/** A repeated field of MLflow's JSON answer: absent when empty (proto3), else an array; undefined: unreadable. */
const listOf = (value: unknown): unknown[] | undefined =>
  value === undefined ? [] : Array.isArray(value) ? value : undefined;

/** Reads what MLflow's GetModelVersion answered: the stage, the aliases, and the `mlflow.user` tag. */
export function versionFactsOf(answer: unknown): VersionFacts | undefined {
  const mv = isJsonObject(answer) ? answer.model_version : undefined;
  if (!isJsonObject(mv) || typeof mv.current_stage !== "string") return undefined;
  const stage = canonicalStage(mv.current_stage);
  const aliases = listOf(mv.aliases);
  if (stage === undefined || aliases === undefined || !aliases.every((a) => typeof a === "string")) return undefined;
  const tags = Array.isArray(mv.tags) ? mv.tags : [];
  const creator = tags.find((t) => isJsonObject(t) && t.key === USER_TAG) as JsonObject | undefined;
  return { stage, aliases, ...(typeof creator?.value === "string" ? { creator: creator.value } : {}) };
}

/** Reads what MLflow's GetRegisteredModel answered: the aliases and the newest version of each stage. */
export function modelFactsOf(answer: unknown): ModelFacts | undefined {
  const rm = isJsonObject(answer) ? answer.registered_model : undefined;
  if (!isJsonObject(rm)) return undefined;
  const aliases = listOf(rm.aliases);
  const latest = listOf(rm.latest_versions);
  if (aliases === undefined || latest === undefined) return undefined;
  const held: { alias: string; version: string }[] = [];
  for (const a of aliases) {
    if (!isJsonObject(a) || typeof a.alias !== "string" || typeof a.version !== "string") return undefined;
    if (!VERSION_NUMBER.test(a.version)) return undefined;
    held.push({ alias: a.alias, version: a.version });
  }
  const newest: { version: string; stage: Stage }[] = [];
  for (const v of latest) {
    const stage = isJsonObject(v) && typeof v.current_stage === "string" ? canonicalStage(v.current_stage) : undefined;
    if (!isJsonObject(v) || stage === undefined || typeof v.version !== "string") return undefined;
    if (!VERSION_NUMBER.test(v.version)) return undefined;
    newest.push({ version: v.version, stage });
  }
  return { aliases: held, latest: newest };
}

export type ModelVersionsRead =
  | { readonly kind: "missing" }
  | { readonly kind: "too-many"; readonly highest: number }
  | { readonly kind: "read"; readonly versions: readonly RegistryVersion[] };

/**
 * Every version of a model that holds an active stage or an alias, read fresh. MLflow lists the model's aliases
 * and only the newest version of each stage (dbmodels/models.py, SqlRegisteredModel.to_mlflow_entity), and its
 * search of versions hides a model as soon as one of its versions carries the prompt tag, so when a version is in
 * an active stage the guard reads every version up to the newest one (at most MAX_READ_VERSIONS); else only the
 * alias holders. Each version's own answer (stage, aliases, creator) is what is decided.
 */
export async function readModelVersions(
  lookup: RegistryLookup,
  name: string,
  maxVersions = MAX_READ_VERSIONS,
): Promise<ModelVersionsRead> {
  const model = await lookup.model(name);
  if (model === undefined) return { kind: "missing" };
  let numbers: string[];
  if (model.latest.some((v) => ACTIVE_STAGES.includes(v.stage))) {
    const highest = Math.max(
      ...model.latest.map((v) => Number(v.version)),
      ...model.aliases.map((a) => Number(a.version)),
    );
    if (highest > maxVersions) return { kind: "too-many", highest };
    numbers = Array.from({ length: highest }, (_, i) => String(i + 1));
  } else numbers = [...new Set(model.aliases.map((a) => a.version))];
  const facts: (VersionFacts | undefined)[] = new Array(numbers.length);
  let next = 0;
  const worker = async () => {
    while (next < numbers.length) {
      const i = next++;
      facts[i] = await lookup.version(name, numbers[i] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, numbers.length) }, worker));
  const versions = numbers.flatMap((version, i) => {
    const f = facts[i];
    // A version MLflow no longer has (deleted, or never was) takes nothing.
    return f !== undefined && carriesPromotion(f) ? [{ version, ...f }] : [];
  });
  return { kind: "read", versions };
}

/**
 * MLflow has no such version or model now: the guard answers MLflow's 404 itself. Forwarding would let a request
 * for the version about to be created (numbers are predictable) reach MLflow undecided once it exists.
 */
const versionNotFound = (name: string, version: string): PromotionRefused => ({
  ok: false,
  status: 404,
  reason: "promotion-not-found",
  message: `Model Version (name=${name}, version=${version}) not found`,
});
const modelNotFound = (name: string): PromotionRefused => ({
  ok: false,
  status: 404,
  reason: "promotion-not-found",
  message: `Registered Model with name=${name} not found`,
});

const refused = (reason: PromotionRefused["reason"], message: string): PromotionRefused => ({
  ok: false,
  status: 403,
  reason,
  message,
});

/**
 * A SigV4 caller outside the role table: IAM allowed the route, so one of the groups with the route right is its
 * own. When none of them restricts promotion, its group cannot change the answer.
 */
function openToUnlisted(
  policy: PromotionPolicy,
  route: CatalogRoute,
  caller: Caller,
  groups: readonly string[],
): boolean {
  if (groups.length > 0 || caller.surface !== "iam") return false;
  const all = policy.policySet.allPromotionRules(route);
  return [...all.values()].every((r) => r === UNRESTRICTED);
}

/**
 * The rules of the caller's groups that have the route right; "open" when the caller may do whatever the route
 * allows; a refusal when no group of theirs has it.
 */
function rulesFor(
  policy: PromotionPolicy,
  route: CatalogRoute,
  caller: Caller,
  workspace: string | undefined,
): Map<string, PromotionRule> | "open" | PromotionRefused {
  const groups = groupsOf(caller, policy.iamGroups);
  if (openToUnlisted(policy, route, caller, groups)) return "open";
  const rules = policy.policySet.promotionRules(groups, route, workspace);
  return rules.size === 0 ? noPromotionGroup(caller.name, route) : rules;
}

export async function checkPromotion(
  policy: PromotionPolicy,
  route: CatalogRoute,
  caller: Caller,
  body: JsonObject,
  lookup: RegistryLookup,
  /** The request's team (its workspace): the tiers the caller holds there decide; undefined without teams. */
  workspace?: string,
): Promise<PromotionCheck> {
  if (isPromotionAction(route.action)) {
    const read = readPromotionRequest(route.action, body);
    if (!read.ok) return unreadablePromotion(read.message);
    const groups = groupsOf(caller, policy.iamGroups);
    if (openToUnlisted(policy, route, caller, groups)) return { ok: true };
    return checkDirectPromotion(policy, groups, route, read.target, caller, lookup, workspace);
  }
  if (isRegistryChangeAction(route.action)) {
    const read = readRegistryChangeRequest(route.action, body);
    if (!read.ok) return unreadablePromotion(read.message);
    const rules = rulesFor(policy, route, caller, workspace);
    if (rules === "open") return { ok: true };
    if (!(rules instanceof Map)) return rules;
    return checkRegistryChange(rules, read.target, caller, lookup);
  }
  return { ok: true };
}

/** A transition or an alias change: the shared decision (authorizer/core/decide-promotion.ts), as `policy check`'s. */
async function checkDirectPromotion(
  policy: PromotionPolicy,
  groups: readonly string[],
  route: CatalogRoute,
  target: PromotionTarget,
  caller: Caller,
  lookup: RegistryLookup,
  workspace: string | undefined,
): Promise<PromotionCheck> {
  let facts: Pick<VersionFacts, "stage" | "creator"> = { stage: "None" };
  // No group of the caller may call the route: the decision refuses without asking MLflow.
  if (target.version !== undefined && policy.policySet.promotionRules(groups, route, workspace).size > 0) {
    const found = await lookup.version(target.name, target.version);
    if (found === undefined) return versionNotFound(target.name, target.version);
    facts = found;
  }
  const verdict = decidePromotionRequest(
    policy.policySet,
    groups,
    route,
    promotionOf(target.request, facts.stage),
    { caller: caller.name, creator: facts.creator },
    workspace,
  );
  return verdict.ok ? { ok: true } : verdict;
}

/** The request to decide, once the version's current stage is known (only a transition depends on it). */
export function promotionOf(pending: PendingPromotion, from: Stage): PromotionRequest {
  return pending.kind === "transition" ? { ...pending, from } : pending;
}

/** Deleting a version or a model, renaming a model: decided on what it would take, read fresh from MLflow. */
async function checkRegistryChange(
  rules: Map<string, PromotionRule>,
  target: RegistryChangeTarget,
  caller: Caller,
  lookup: RegistryLookup,
): Promise<PromotionCheck> {
  // A group without a block decides before anything is read (admins pay no lookup, and no bound).
  if (unrestrictedGroupOf(rules) !== undefined) return { ok: true };
  let decision: PromotionDecision;
  if (target.kind === "delete-version") {
    const facts = await lookup.version(target.name, target.version);
    if (facts === undefined) return versionNotFound(target.name, target.version);
    decision = decideRegistryChange(
      rules,
      { kind: "delete-version", name: target.name, version: { version: target.version, ...facts } },
      caller.name,
    );
  } else {
    const read = await readModelVersions(lookup, target.name);
    if (read.kind === "missing") return modelNotFound(target.name);
    if (read.kind === "too-many")
      return refused(
        "promotion-undecidable",
        `model ${JSON.stringify(target.name)} has versions up to ${read.highest}, and one in an active stage; the guard reads at most ${MAX_READ_VERSIONS} to decide what ${target.kind === "delete-model" ? "deleting" : "renaming"} it takes, so only a group without a promotion block may`,
      );
    decision = decideRegistryChange(
      rules,
      target.kind === "delete-model"
        ? { kind: "delete-model", name: target.name, versions: read.versions }
        : { kind: "rename-model", name: target.name, newName: target.newName, versions: read.versions },
      caller.name,
    );
  }
  return decision.allowed ? { ok: true } : refused(`promotion-${decision.reason}`, decision.message);
}

/** MLflow's error code for each status of a promotion refusal. */
export const PROMOTION_ERROR_CODES = {
  400: "INVALID_PARAMETER_VALUE",
  403: "PERMISSION_DENIED",
  404: "RESOURCE_DOES_NOT_EXIST",
} as const;
