// The registry writes that change stages and aliases as a side effect, decided with the promotion rules so that
// they are no way around them (MLflow 3.17, store/model_registry/sqlalchemy_store.py):
// - DeleteModelVersion removes the version's aliases and takes it out of its stage (delete_model_version);
// - DeleteRegisteredModel removes every version and alias of the model (delete_registered_model);
// - RenameRegisteredModel moves every version, with its stage and aliases, to the new name
//   (rename_registered_model): the old name loses them, the new name gains them.
// Pure: the guard reads the versions from MLflow and decides here.
import {
  ACTIVE_STAGES,
  decidePromotionSteps,
  PromotionDecision,
  PromotionRule,
  PromotionStep,
  Stage,
  UNRESTRICTED,
} from "./promotion";

/** A version as MLflow holds it now: its stage, its aliases and its stamped creator (none on older versions). */
export interface RegistryVersion {
  readonly version: string;
  readonly stage: Stage;
  readonly aliases: readonly string[];
  readonly creator?: string;
}

export type RegistryChange =
  | { readonly kind: "delete-version"; readonly name: string; readonly version: RegistryVersion }
  | { readonly kind: "delete-model"; readonly name: string; readonly versions: readonly RegistryVersion[] }
  | {
      readonly kind: "rename-model";
      readonly name: string;
      readonly newName: string;
      readonly versions: readonly RegistryVersion[];
    };

/** Whether a version carries anything the rules govern: an active stage or an alias. */
export const carriesPromotion = (v: Pick<RegistryVersion, "stage" | "aliases">): boolean =>
  ACTIVE_STAGES.includes(v.stage) || v.aliases.length > 0;

/**
 * What taking a version away from a name amounts to: the same right as moving it out of its active stage to
 * Archived (with its creator, so that the two-person rule holds as it does for archiving) and as deleting each
 * of its aliases. A version at rest (None, Archived) without aliases takes nothing.
 */
function removalSteps(v: RegistryVersion, what: (taken: string) => string): PromotionStep[] {
  return [
    ...(ACTIVE_STAGES.includes(v.stage)
      ? [
          {
            request: { kind: "transition", to: "Archived", from: v.stage, archiveExisting: false },
            creator: v.creator,
            because: what(`takes version ${v.version} out of ${v.stage}`),
          } as const,
        ]
      : []),
    ...v.aliases.map(
      (alias) =>
        ({
          request: { kind: "delete-alias", alias },
          creator: v.creator,
          because: what(`removes alias ${alias} of version ${v.version}`),
        }) as const,
    ),
  ];
}

/**
 * What a version arriving under a new name amounts to: the right to put it in its active stage and to set each
 * of its aliases (the two-person rule with its creator): a model that serves under one name must not start
 * serving under another (a protected name) by a rename.
 */
function arrivalSteps(v: RegistryVersion, what: (given: string) => string): PromotionStep[] {
  return [
    ...(ACTIVE_STAGES.includes(v.stage)
      ? [
          {
            request: { kind: "transition", to: v.stage, from: v.stage, archiveExisting: false },
            creator: v.creator,
            because: what(`puts version ${v.version} in ${v.stage}`),
          } as const,
        ]
      : []),
    ...v.aliases.map(
      (alias) =>
        ({
          request: { kind: "set-alias", alias },
          creator: v.creator,
          because: what(`sets alias ${alias} on version ${v.version}`),
        }) as const,
    ),
  ];
}

/** The promotions a registry change amounts to, each with why. */
export function promotionStepsOf(change: RegistryChange): PromotionStep[] {
  const name = JSON.stringify(change.name);
  switch (change.kind) {
    case "delete-version":
      return removalSteps(change.version, (taken) => `deleting version ${change.version.version} of ${name} ${taken}`);
    case "delete-model":
      return change.versions.flatMap((v) => removalSteps(v, (taken) => `deleting model ${name} ${taken}`));
    case "rename-model": {
      const to = JSON.stringify(change.newName);
      return [
        ...change.versions.flatMap((v) =>
          removalSteps(v, (taken) => `renaming ${name} to ${to} ${taken} under ${name}`),
        ),
        ...change.versions.flatMap((v) => arrivalSteps(v, (given) => `renaming ${name} to ${to} ${given} under ${to}`)),
      ];
    }
  }
}

/** The first of the groups without a promotion block: it allows a registry change whatever the change takes. */
export function unrestrictedGroupOf(rules: ReadonlyMap<string, PromotionRule>): string | undefined {
  return [...rules]
    .filter(([, r]) => r === UNRESTRICTED)
    .map(([g]) => g)
    .sort()[0];
}

/**
 * Decides a registry change for a caller whose groups with the route right have these rules: a group without a
 * promotion block allows whatever the route allows (it decides no stage or alias, so none of MLflow's stored
 * alias names is in question); otherwise one group must allow every step (decidePromotionSteps).
 */
export function decideRegistryChange(
  rules: ReadonlyMap<string, PromotionRule>,
  change: RegistryChange,
  caller: string,
): PromotionDecision {
  const open = unrestrictedGroupOf(rules);
  if (open !== undefined) return { allowed: true, group: open };
  return decidePromotionSteps(rules, promotionStepsOf(change), caller);
}
