import { loadRouteCatalog } from "../../authorizer/load-policies";
import { parseGroupFile } from "../../authorizer/core/group-file";
import { PolicySet } from "../../authorizer/core/policy-set";
import { CATALOG_FILE } from "../../project/paths";
import { Caller } from "../../guard/caller";
import {
  checkPromotion,
  groupsOf,
  iamGroupKey,
  PromotionPolicy,
  VersionFacts,
  versionFactsOf,
} from "../../guard/promotion";

const catalog = loadRouteCatalog(CATALOG_FILE);
const file = (name: string, text: string) => parseGroupFile(name, `policies/groups/${name}.yaml`, text);
const policySet = PolicySet.fromFiles(catalog, [
  file("readers", "description: r\nallow: ['class:read']\n"),
  file(
    "model-approvers",
    "description: a\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion, 'prod*'] }\n",
  ),
  file(
    "release-managers",
    "description: m\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Production, Archived] }\n  aliases: { allow: [champion, 'prod*'] }\n  separateFromCreator: true\n",
  ),
  file("admins", "description: a\nallow: ['*']\n"),
]);
const policy: PromotionPolicy = { policySet, iamGroups: new Map([["role/release", "release-managers"]]) };
const route = (action: string, auth: "iam" | "cognito" = "iam") => {
  const r = catalog.routes.find((x) => x.action === action && x.auth === auth);
  if (!r) throw new Error(action);
  return r;
};
const cognito = (name: string, groups: string[]): Caller => ({
  surface: "cognito",
  principal: `sub-${name}`,
  username: name,
  groups,
  name,
  sourceIp: "203.0.113.9",
});
const iam = (name: string): Caller => ({
  surface: "iam",
  principal: `arn:aws:sts::123456789012:${name}`,
  username: `arn:aws:sts::123456789012:${name}`,
  groups: [],
  name,
  sourceIp: "203.0.113.9",
});
const versions = (facts: Record<string, VersionFacts>) => ({
  version: async (name: string, version: string) => facts[`${name}/${version}`],
});
const registry = versions({
  "m/1": { stage: "None", creator: "bob" },
  "m/2": { stage: "Staging", creator: "assumed-role/release/alice" },
});

describe("checkPromotion", () => {
  test("an approver moves a version to Staging; not to Production, in any spelling MLflow accepts", async () => {
    const approver = cognito("ann", ["model-approvers"]);
    const transition = route("TransitionModelVersionStage", "cognito");
    expect(
      await checkPromotion(policy, transition, approver, { name: "m", version: "1", stage: "Staging" }, registry),
    ).toEqual({ ok: true });
    for (const stage of ["Production", "production", "PRODUCTION"])
      expect(await checkPromotion(policy, transition, approver, { name: "m", version: "1", stage }, registry)).toEqual({
        ok: false,
        status: 403,
        reason: "promotion-stage-not-allowed",
        message: "policies/groups/model-approvers.yaml allows no promotion to Production",
      });
  });

  test("an approver sets challenger-2, not champion", async () => {
    const approver = cognito("ann", ["model-approvers"]);
    const alias = route("SetRegisteredModelAlias", "cognito");
    expect(
      await checkPromotion(policy, alias, approver, { name: "m", alias: "challenger-2", version: "1" }, registry),
    ).toEqual({ ok: true });
    expect(
      await checkPromotion(policy, alias, approver, { name: "m", alias: "champion", version: "1" }, registry),
    ).toMatchObject({
      ok: false,
      reason: "promotion-alias-not-allowed",
    });
  });

  test("a release manager (a role session, its group from the role table) promotes someone else's version, not their own", async () => {
    const manager = iam("assumed-role/release/alice");
    const transition = route("TransitionModelVersionStage");
    expect(
      await checkPromotion(policy, transition, manager, { name: "m", version: "1", stage: "Production" }, registry),
    ).toEqual({ ok: true });
    expect(
      await checkPromotion(policy, transition, manager, { name: "m", version: "2", stage: "Production" }, registry),
    ).toMatchObject({
      ok: false,
      reason: "promotion-same-person",
    });
    expect(
      await checkPromotion(
        policy,
        transition,
        manager,
        { name: "m", version: "1", stage: "Production" },
        versions({ "m/1": { stage: "None" } }),
      ),
    ).toMatchObject({
      ok: false,
      reason: "promotion-same-person",
      message: expect.stringMatching(/creator is unknown/),
    });
  });

  test("a SigV4 caller whose role is in no group's table is refused, naming where its group comes from", async () => {
    expect(
      await checkPromotion(
        policy,
        route("TransitionModelVersionStage"),
        iam("assumed-role/other/x"),
        { name: "m", version: "1", stage: "Staging" },
        registry,
      ),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: "promotion-no-group",
      message: expect.stringMatching(/role table/),
    });
  });

  test("a caller in no group with the route right is refused without asking MLflow about the version", async () => {
    const asked: string[] = [];
    const verdict = await checkPromotion(
      policy,
      route("TransitionModelVersionStage", "cognito"),
      cognito("rita", ["readers"]),
      { name: "m", version: "9", stage: "Staging" },
      { version: async (name, version) => void asked.push(`${name}/${version}`) },
    );
    expect(verdict).toEqual({
      ok: false,
      status: 403,
      reason: "promotion-no-group",
      message: "rita is in no group that may TransitionModelVersionStage (Cognito groups)",
    });
    expect(asked).toEqual([]);
  });

  test("a SigV4 caller outside the role table, where no group with the route right restricts promotion: allowed", async () => {
    const open = PolicySet.fromFiles(catalog, [
      file("readers", "description: r\nallow: ['class:read']\n"),
      file("model-approvers", "description: a\nextends: readers\nallow: ['class:registry-promote']\n"),
      file("admins", "description: a\nallow: ['*']\n"),
    ]);
    expect(
      await checkPromotion(
        { policySet: open, iamGroups: new Map() },
        route("TransitionModelVersionStage"),
        iam("assumed-role/unknown/x"),
        { name: "m", version: "1", stage: "Production" },
        registry,
      ),
    ).toEqual({ ok: true });
  });

  test("admins, whose file has no promotion block, may do what the route allows", async () => {
    expect(
      await checkPromotion(
        policy,
        route("TransitionModelVersionStage", "cognito"),
        cognito("root", ["admins"]),
        { name: "m", version: "1", stage: "Production" },
        registry,
      ),
    ).toEqual({ ok: true });
  });

  test("a version MLflow does not have: MLflow answers; a request the guard cannot read: 400", async () => {
    const approver = cognito("ann", ["model-approvers"]);
    const transition = route("TransitionModelVersionStage", "cognito");
    expect(
      await checkPromotion(policy, transition, approver, { name: "m", version: "9", stage: "Production" }, registry),
    ).toEqual({ ok: true });
    expect(
      await checkPromotion(policy, transition, approver, { name: "m", version: " 1", stage: "Staging" }, registry),
    ).toMatchObject({
      ok: false,
      status: 400,
      reason: "promotion-request-unreadable",
    });
  });

  test("other routes pass untouched", async () => {
    expect(await checkPromotion(policy, route("CreateExperiment"), iam("user/x"), {}, registry)).toEqual({ ok: true });
  });
});

test("iamGroupKey and groupsOf: a user by name, a session by its role; Cognito groups as mapped", () => {
  expect(iamGroupKey({ name: "user/mlflow-admin" })).toBe("user/mlflow-admin");
  expect(iamGroupKey({ name: "assumed-role/release/alice" })).toBe("role/release");
  expect(groupsOf(iam("assumed-role/release/alice"), policy.iamGroups)).toEqual(["release-managers"]);
  expect(groupsOf(cognito("ann", ["a", "b"]), policy.iamGroups)).toEqual(["a", "b"]);
});

test("versionFactsOf reads MLflow's GetModelVersion answer", () => {
  expect(
    versionFactsOf({
      model_version: {
        current_stage: "Production",
        tags: [
          { key: "mlflow.user", value: "bob" },
          { key: "x", value: "y" },
        ],
      },
    }),
  ).toEqual({ stage: "Production", creator: "bob" });
  expect(versionFactsOf({ model_version: { current_stage: "None" } })).toEqual({ stage: "None" });
  expect(versionFactsOf({ error_code: "RESOURCE_DOES_NOT_EXIST" })).toBeUndefined();
});
