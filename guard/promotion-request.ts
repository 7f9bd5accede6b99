import { canonicalStage, PromotionRequest, Stage } from "../authorizer/core/promotion";
import { Json, JsonObject } from "./json-body";

/**
 * The fields of a promotion request as MLflow 3.17 reads them (`_get_request_message` on the JSON body:
 * the proto name or its camelCase JSON name, both refused together), held to what the guard can decide:
 * a version of digits only (MLflow passes it to `int()`, which also takes " 2", "+2", "02"), a stage MLflow
 * would accept, a boolean flag. Anything looser is refused before MLflow could read it otherwise. Pure.
 */

/** The promotion actions of the catalog, and the body fields each carries. */
export const PROMOTION_ACTIONS = [
  "TransitionModelVersionStage",
  "SetRegisteredModelAlias",
  "DeleteRegisteredModelAlias",
] as const;
export type PromotionAction = (typeof PROMOTION_ACTIONS)[number];

export const isPromotionAction = (action: string): action is PromotionAction =>
  (PROMOTION_ACTIONS as readonly string[]).includes(action);

/** The registry writes that change stages and aliases as a side effect (authorizer/core/promotion-side-effects.ts). */
export const REGISTRY_CHANGE_ACTIONS = [
  "DeleteModelVersion",
  "DeleteRegisteredModel",
  "RenameRegisteredModel",
] as const;
export type RegistryChangeAction = (typeof REGISTRY_CHANGE_ACTIONS)[number];

export const isRegistryChangeAction = (action: string): action is RegistryChangeAction =>
  (REGISTRY_CHANGE_ACTIONS as readonly string[]).includes(action);

/** The routes the guard decides with the promotion rules, whose bodies it reads as MLflow does. */
export const isPromotionDecided = (action: string): boolean =>
  isPromotionAction(action) || isRegistryChangeAction(action);

/** A transition before the version's current stage is known (the guard asks MLflow for it). */
export type PendingPromotion =
  | { readonly kind: "transition"; readonly to: Stage; readonly archiveExisting: boolean }
  | Extract<PromotionRequest, { kind: "set-alias" | "delete-alias" }>;

export interface PromotionTarget {
  readonly name: string;
  /** The version the request names; a delete of an alias names none (the guard looks up its holder). */
  readonly version?: string;
  readonly request: PendingPromotion;
}

export type PromotionRequestResult =
  { readonly ok: true; readonly target: PromotionTarget } | { readonly ok: false; readonly message: string };

const VERSION = /^[1-9][0-9]*$/;

/** One field under either spelling; both at once is refused (MLflow refuses it too, but only after some routes ran). */
function field(body: JsonObject, name: string, jsonName?: string): { value?: Json; problem?: string } {
  const both = jsonName !== undefined && name in body && jsonName in body;
  if (both) return { problem: `${name} is given twice (${name} and ${jsonName})` };
  const value = name in body ? body[name] : jsonName !== undefined ? body[jsonName] : undefined;
  return value === undefined ? {} : { value };
}

function requiredString(body: JsonObject, name: string, problems: string[]): string {
  const { value, problem } = field(body, name);
  if (problem) problems.push(problem);
  else if (typeof value !== "string" || value === "") problems.push(`${name} must be a non-empty string`);
  return typeof value === "string" ? value : "";
}

export function readPromotionRequest(action: PromotionAction, body: JsonObject): PromotionRequestResult {
  const problems: string[] = [];
  const name = requiredString(body, "name", problems);
  const refuse = (): PromotionRequestResult => ({ ok: false, message: problems.join("; ") });

  if (action === "DeleteRegisteredModelAlias") {
    const alias = requiredString(body, "alias", problems);
    return problems.length > 0 ? refuse() : { ok: true, target: { name, request: { kind: "delete-alias", alias } } };
  }
  const version = requiredString(body, "version", problems);
  if (version !== "" && !VERSION.test(version))
    problems.push("version must be a version number (digits, no sign or leading 0)");
  if (action === "SetRegisteredModelAlias") {
    const alias = requiredString(body, "alias", problems);
    return problems.length > 0
      ? refuse()
      : { ok: true, target: { name, version, request: { kind: "set-alias", alias } } };
  }
  const rawStage = requiredString(body, "stage", problems);
  const to = canonicalStage(rawStage);
  if (rawStage !== "" && to === undefined)
    problems.push(
      `stage must be one of None, Staging, Production, Archived (in any letter case), not ${JSON.stringify(rawStage)}`,
    );
  const flag = field(body, "archive_existing_versions", "archiveExistingVersions");
  if (flag.problem) problems.push(flag.problem);
  else if (flag.value !== undefined && typeof flag.value !== "boolean")
    problems.push("archive_existing_versions must be true or false");
  return problems.length > 0 || to === undefined
    ? refuse()
    : {
        ok: true,
        target: { name, version, request: { kind: "transition", to, archiveExisting: flag.value === true } },
      };
}

/** What a registry change names: the model, the version (DeleteModelVersion), the new name (RenameRegisteredModel). */
export type RegistryChangeTarget =
  | { readonly kind: "delete-version"; readonly name: string; readonly version: string }
  | { readonly kind: "delete-model"; readonly name: string }
  | { readonly kind: "rename-model"; readonly name: string; readonly newName: string };

export type RegistryChangeRequestResult =
  { readonly ok: true; readonly target: RegistryChangeTarget } | { readonly ok: false; readonly message: string };

/**
 * The fields of a registry change as MLflow 3.17 reads them (the JSON body, whatever the method), held as
 * strictly as a promotion's: the version in digits only, `new_name` (MLflow requires the proto name; its JSON
 * name `newName` beside it is refused).
 */
export function readRegistryChangeRequest(action: RegistryChangeAction, body: JsonObject): RegistryChangeRequestResult {
  const problems: string[] = [];
  const name = requiredString(body, "name", problems);
  const refuse = (): RegistryChangeRequestResult => ({ ok: false, message: problems.join("; ") });
  if (action === "DeleteRegisteredModel")
    return problems.length > 0 ? refuse() : { ok: true, target: { kind: "delete-model", name } };
  if (action === "RenameRegisteredModel") {
    // MLflow requires the proto name (`_assert_required` reads no other), and takes the JSON name beside it.
    if ("newName" in body && "new_name" in body) problems.push("new_name is given twice (new_name and newName)");
    const newName = requiredString(body, "new_name", problems);
    return problems.length > 0 ? refuse() : { ok: true, target: { kind: "rename-model", name, newName } };
  }
  const version = requiredString(body, "version", problems);
  if (version !== "" && !VERSION.test(version))
    problems.push("version must be a version number (digits, no sign or leading 0)");
  return problems.length > 0 ? refuse() : { ok: true, target: { kind: "delete-version", name, version } };
}
