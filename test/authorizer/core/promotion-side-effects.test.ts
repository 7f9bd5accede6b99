import { decidePromotionSteps, PromotionRule, UNRESTRICTED } from "../../../authorizer/core/promotion";
import {
  carriesPromotion,
  decideRegistryChange,
  promotionStepsOf,
  RegistryVersion,
} from "../../../authorizer/core/promotion-side-effects";

// Approvers: Staging and Archived, not out of Production; any alias but champion and prod*.
const approvers: PromotionRule = {
  stagesTo: ["Staging", "Archived"],
  stagesFrom: ["None", "Staging", "Archived"],
  aliasesAllow: ["*"],
  aliasesDeny: ["champion", "prod*"],
  separateFromCreator: false,
};
// Release managers: Production and Archived, the protected aliases, never their own versions.
const managers: PromotionRule = {
  stagesTo: ["Production", "Archived"],
  aliasesAllow: ["champion", "prod*"],
  aliasesDeny: [],
  separateFromCreator: true,
};
const v = (version: string, stage: RegistryVersion["stage"], aliases: string[] = [], creator?: string) => ({
  version,
  stage,
  aliases,
  ...(creator !== undefined ? { creator } : {}),
});

describe("promotionStepsOf: what a deletion or a rename takes and gives", () => {
  test("deleting a version: out of its active stage to Archived, and each alias deleted, with its creator", () => {
    expect(
      promotionStepsOf({ kind: "delete-version", name: "m", version: v("3", "Production", ["champion"], "bob") }),
    ).toEqual([
      {
        request: { kind: "transition", to: "Archived", from: "Production", archiveExisting: false },
        creator: "bob",
        because: 'deleting version 3 of "m" takes version 3 out of Production',
      },
      {
        request: { kind: "delete-alias", alias: "champion" },
        creator: "bob",
        because: 'deleting version 3 of "m" removes alias champion of version 3',
      },
    ]);
  });

  test("a version at rest (None, Archived) without aliases takes nothing", () => {
    for (const stage of ["None", "Archived"] as const) {
      expect(promotionStepsOf({ kind: "delete-version", name: "m", version: v("1", stage) })).toEqual([]);
      expect(carriesPromotion(v("1", stage))).toBe(false);
    }
    expect(carriesPromotion(v("1", "None", ["a"]))).toBe(true);
    expect(carriesPromotion(v("1", "Staging"))).toBe(true);
  });

  test("deleting a model takes every version's stage and aliases", () => {
    const steps = promotionStepsOf({
      kind: "delete-model",
      name: "m",
      versions: [v("1", "Production"), v("2", "None", ["challenger"])],
    });
    expect(steps.map((s) => s.request)).toEqual([
      { kind: "transition", to: "Archived", from: "Production", archiveExisting: false },
      { kind: "delete-alias", alias: "challenger" },
    ]);
  });

  test("renaming a model takes them from the old name and gives them to the new one", () => {
    const steps = promotionStepsOf({
      kind: "rename-model",
      name: "m",
      newName: "n",
      versions: [v("1", "Production", ["champion"], "bob")],
    });
    expect(steps.map((s) => [s.request, s.because])).toEqual([
      [
        { kind: "transition", to: "Archived", from: "Production", archiveExisting: false },
        'renaming "m" to "n" takes version 1 out of Production under "m"',
      ],
      [
        { kind: "delete-alias", alias: "champion" },
        'renaming "m" to "n" removes alias champion of version 1 under "m"',
      ],
      [
        { kind: "transition", to: "Production", from: "Production", archiveExisting: false },
        'renaming "m" to "n" puts version 1 in Production under "n"',
      ],
      [{ kind: "set-alias", alias: "champion" }, 'renaming "m" to "n" sets alias champion on version 1 under "n"'],
    ]);
  });
});

describe("decideRegistryChange", () => {
  test("an approver may not delete a version holding champion, nor one in Production; the refusal names the rule", () => {
    const rules = new Map([["model-approvers", approvers]]);
    expect(
      decideRegistryChange(rules, { kind: "delete-version", name: "m", version: v("2", "None", ["champion"]) }, "ann"),
    ).toEqual({
      allowed: false,
      reason: "alias-not-allowed",
      message:
        'policies/groups/model-approvers.yaml allows no deleting alias champion (deleting version 2 of "m" removes alias champion of version 2)',
    });
    expect(
      decideRegistryChange(rules, { kind: "delete-version", name: "m", version: v("2", "Production") }, "ann"),
    ).toMatchObject({
      allowed: false,
      reason: "stage-not-allowed",
      message: expect.stringContaining("move out of Production"),
    });
    expect(
      decideRegistryChange(
        rules,
        { kind: "delete-version", name: "m", version: v("2", "Staging", ["challenger-1"]) },
        "ann",
      ),
    ).toEqual({ allowed: true, group: "model-approvers" });
  });

  test("an approver may not rename a model whose version is in Production: the new name would gain it", () => {
    const mayLeaveProduction: PromotionRule = { ...approvers, stagesFrom: undefined };
    expect(
      decideRegistryChange(
        new Map([["model-approvers", mayLeaveProduction]]),
        { kind: "rename-model", name: "m", newName: "n", versions: [v("1", "Production")] },
        "ann",
      ),
    ).toEqual({
      allowed: false,
      reason: "stage-not-allowed",
      message:
        'policies/groups/model-approvers.yaml allows no promotion to Production (renaming "m" to "n" puts version 1 in Production under "n")',
    });
  });

  test("the two-person rule holds for what a removal or a rename takes, with each version's creator", () => {
    const rules = new Map([["release-managers", managers]]);
    const change = (creator?: string) =>
      ({ kind: "delete-model", name: "m", versions: [v("4", "Production", [], creator)] }) as const;
    expect(decideRegistryChange(rules, change("bob"), "alice")).toEqual({ allowed: true, group: "release-managers" });
    expect(decideRegistryChange(rules, change("alice"), "alice")).toMatchObject({
      allowed: false,
      reason: "same-person",
    });
    expect(decideRegistryChange(rules, change(), "alice")).toMatchObject({
      allowed: false,
      message: expect.stringContaining("creator is unknown"),
    });
  });

  test("one group must allow every step: an alias right in one group and a stage right in another do not add up", () => {
    const aliasOnly: PromotionRule = { ...managers, stagesTo: [], separateFromCreator: false };
    const stageOnly: PromotionRule = { ...approvers, stagesFrom: undefined, aliasesAllow: [] };
    const r = decideRegistryChange(
      new Map([
        ["alias-keepers", aliasOnly],
        ["stage-keepers", stageOnly],
      ]),
      { kind: "delete-version", name: "m", version: v("1", "Production", ["champion"]) },
      "x",
    );
    expect(r).toMatchObject({ allowed: false });
    expect(r.allowed === false && r.message).toBe(
      'policies/groups/alias-keepers.yaml allows no promotion to Archived (deleting version 1 of "m" takes version 1 out of Production); ' +
        'policies/groups/stage-keepers.yaml allows no deleting alias champion (deleting version 1 of "m" removes alias champion of version 1)',
    );
  });

  test("a group without a promotion block allows whatever the change takes, even an alias the rules could not decide", () => {
    expect(
      decideRegistryChange(
        new Map([
          ["model-approvers", approvers],
          ["admins", UNRESTRICTED],
        ]),
        { kind: "delete-model", name: "m", versions: [v("1", "Production", ["chámpion"])] },
        "root",
      ),
    ).toEqual({ allowed: true, group: "admins" });
  });

  test("a change that takes nothing is allowed; no group with the route right is refused", () => {
    expect(
      decideRegistryChange(
        new Map([["model-approvers", approvers]]),
        { kind: "delete-model", name: "m", versions: [] },
        "a",
      ),
    ).toEqual({
      allowed: true,
      group: "model-approvers",
    });
    expect(decidePromotionSteps(new Map(), [], "a")).toMatchObject({ allowed: false });
  });
});
