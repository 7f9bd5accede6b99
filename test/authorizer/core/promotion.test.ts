import {
  aliasMatches,
  canonicalStage,
  decidePromotion,
  PromotionRule,
  samePerson,
  UNRESTRICTED,
} from "../../../authorizer/core/promotion";

const APPROVERS: PromotionRule = {
  stagesTo: ["Staging", "Archived"],
  aliasesAllow: ["*"],
  aliasesDeny: ["champion", "prod*"],
  separateFromCreator: false,
};
const RELEASE: PromotionRule = {
  stagesTo: ["Production", "Archived"],
  aliasesAllow: ["champion", "prod*"],
  aliasesDeny: [],
  separateFromCreator: true,
};
const alice = { caller: "alice", creator: "bob" };

describe("canonicalStage: as MLflow reads a stage", () => {
  test.each([
    ["Production", "Production"],
    ["production", "Production"],
    ["PRODUCTION", "Production"],
    ["none", "None"],
    ["ArChIvEd", "Archived"],
  ])("%s is %s", (raw, stage) => expect(canonicalStage(raw)).toBe(stage));

  test.each([" Production", "Production ", "Staging\n", "Prod", "Deleted_Internal", "", "PRODUCTİON"])(
    "%j is no stage (MLflow refuses it)",
    (raw) => expect(canonicalStage(raw)).toBeUndefined(),
  );
});

test("aliasMatches: globs, case-insensitive", () => {
  expect(aliasMatches("prod*", "production-eu")).toBe(true);
  expect(aliasMatches("champion", "Champion")).toBe(true);
  expect(aliasMatches("challenger-*", "challenger-2")).toBe(true);
  expect(aliasMatches("champion", "champion-2")).toBe(false);
  expect(aliasMatches("a.b", "axb")).toBe(false);
});

describe("decidePromotion", () => {
  const transition = (to: "None" | "Staging" | "Production" | "Archived", archiveExisting = false) =>
    ({ kind: "transition", to, from: "None", archiveExisting }) as const;

  test("an approver moves a version to Staging, not to Production; the refusal names the file and the stage", () => {
    const rules = new Map([["model-approvers", APPROVERS]]);
    expect(decidePromotion(rules, transition("Staging"), alice)).toEqual({ allowed: true, group: "model-approvers" });
    expect(decidePromotion(rules, transition("Production"), alice)).toEqual({
      allowed: false,
      reason: "stage-not-allowed",
      message: "policies/groups/model-approvers.yaml allows no promotion to Production",
    });
  });

  test("archive_existing_versions needs the right to archive", () => {
    const stagingOnly = new Map([["g", { ...APPROVERS, stagesTo: ["Staging" as const] }]]);
    expect(decidePromotion(stagingOnly, transition("Staging", true), alice)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/allows no archiving \(archive_existing_versions/),
    });
  });

  test("a from rule refuses moving a version out of a stage", () => {
    const rules = new Map([["g", { ...APPROVERS, stagesFrom: ["None" as const, "Staging" as const] }]]);
    expect(
      decidePromotion(rules, { kind: "transition", to: "Archived", from: "Production", archiveExisting: false }, alice),
    ).toMatchObject({
      allowed: false,
      message: "policies/groups/g.yaml allows no move out of Production",
    });
  });

  test("aliases: challenger-2 yes, champion and prod-eu no, a look-alike name never decided", () => {
    const rules = new Map([["model-approvers", APPROVERS]]);
    expect(decidePromotion(rules, { kind: "set-alias", alias: "challenger-2" }, alice).allowed).toBe(true);
    for (const alias of ["champion", "CHAMPION", "prod-eu"])
      expect(decidePromotion(rules, { kind: "delete-alias", alias }, alice)).toMatchObject({
        allowed: false,
        reason: "alias-not-allowed",
      });
    for (const alias of ["champion\n", "сhampion", "a.b", ""])
      expect(decidePromotion(rules, { kind: "set-alias", alias }, alice)).toMatchObject({
        allowed: false,
        reason: "alias-undecidable",
      });
  });

  test("the two-person rule: someone else's version yes, one's own or one of unknown creator no", () => {
    const rules = new Map([["release-managers", RELEASE]]);
    expect(decidePromotion(rules, transition("Production"), alice).allowed).toBe(true);
    expect(decidePromotion(rules, transition("Production"), { caller: "bob", creator: "bob" })).toMatchObject({
      allowed: false,
      reason: "same-person",
      message: expect.stringMatching(/a version you created \(bob\): the two-person rule/),
    });
    expect(decidePromotion(rules, transition("Production"), { caller: "bob", creator: undefined })).toMatchObject({
      allowed: false,
      reason: "same-person",
    });
  });

  test("the two-person rule: another session of the same role is the same person; another role or user is not", () => {
    const rules = new Map([["release-managers", RELEASE]]);
    const creator = "assumed-role/ml-team/alice-session";
    expect(
      decidePromotion(rules, transition("Production"), { caller: "assumed-role/ml-team/other-session", creator }),
    ).toMatchObject({ allowed: false, reason: "same-person" });
    expect(
      decidePromotion(rules, transition("Production"), { caller: "assumed-role/release/any", creator }).allowed,
    ).toBe(true);
    expect(samePerson("user/ml-team", "assumed-role/ml-team/s")).toBe(false);
  });

  test("several groups: the union, as with routes; every group's reason when all refuse", () => {
    const rules = new Map([
      ["release-managers", RELEASE],
      ["model-approvers", APPROVERS],
    ]);
    expect(decidePromotion(rules, transition("Staging"), alice)).toEqual({ allowed: true, group: "model-approvers" });
    expect(decidePromotion(rules, transition("Production"), alice)).toEqual({
      allowed: true,
      group: "release-managers",
    });
    expect(decidePromotion(rules, transition("None"), alice)).toMatchObject({
      allowed: false,
      message:
        "policies/groups/model-approvers.yaml allows no promotion to None; policies/groups/release-managers.yaml allows no promotion to None",
    });
  });

  test("a group without a promotion block keeps what the route allows; no group at all refuses", () => {
    expect(
      decidePromotion(new Map([["admins", UNRESTRICTED]]), transition("Production"), { caller: "a", creator: "a" }),
    ).toEqual({
      allowed: true,
      group: "admins",
    });
    expect(decidePromotion(new Map(), transition("Staging"), alice)).toMatchObject({ allowed: false });
  });
});
