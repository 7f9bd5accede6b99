import { loadRouteCatalog } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { CATALOG_FILE } from "../../project/paths";
import { Caller } from "../../guard/caller";
import {
  checkPromotion,
  groupsOf,
  iamGroupKey,
  ModelFacts,
  modelFactsOf,
  PromotionPolicy,
  VersionFacts,
  versionFactsOf,
} from "../../guard/promotion";
import {
  ADMINS,
  APPROVERS,
  groupFile as file,
  READERS,
  RELEASE_MANAGERS,
  routeOf,
} from "../authorizer/support/promotion-tiers";

const catalog = loadRouteCatalog(CATALOG_FILE);
const policySet = PolicySet.fromFiles(catalog, [
  READERS,
  APPROVERS,
  RELEASE_MANAGERS,
  file(
    "registry-stewards",
    "description: s\nextends: readers\nallow: ['class:registry-write', 'class:registry-promote']\npromotion:\n  stages: { to: [Staging, Archived], from: [None, Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion, 'prod*'] }\n",
  ),
  file(
    "release-stewards",
    "description: m\nextends: readers\nallow: ['class:registry-write', 'class:registry-promote']\npromotion:\n  stages: { to: [Production, Archived] }\n  aliases: { allow: ['*'] }\n  separateFromCreator: true\n",
  ),
  ADMINS,
]);
const policy: PromotionPolicy = { policySet, iamGroups: new Map([["role/release", "release-managers"]]) };
const route = (action: string, auth: "iam" | "cognito" = "iam") => routeOf(catalog, action, auth);
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
type Held = Omit<VersionFacts, "aliases"> & { readonly aliases?: readonly string[] };
/** A registry as MLflow holds it, by "<model>/<version>"; it counts what the guard reads. */
const versions = (facts: Record<string, Held>) => {
  const reads: string[] = [];
  const held = (key: string): VersionFacts | undefined => {
    const f = facts[key];
    return f === undefined ? undefined : { aliases: [], ...f };
  };
  const lookup = {
    reads,
    version: async (name: string, version: string) => {
      reads.push(`version ${name}/${version}`);
      return held(`${name}/${version}`);
    },
    model: async (name: string): Promise<ModelFacts | undefined> => {
      reads.push(`model ${name}`);
      const mine = Object.keys(facts)
        .filter((k) => k.startsWith(`${name}/`))
        .map((k) => ({ version: k.slice(name.length + 1), ...held(k)! }));
      if (mine.length === 0) return undefined;
      const latest = new Map<string, string>();
      for (const v of mine) if (Number(v.version) > Number(latest.get(v.stage) ?? 0)) latest.set(v.stage, v.version);
      return {
        aliases: mine.flatMap((v) => v.aliases.map((alias) => ({ alias, version: v.version }))),
        latest: [...latest].map(([stage, version]) => ({ stage: stage as VersionFacts["stage"], version })),
      };
    },
  };
  return lookup;
};
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
      {
        version: async (name, version) => void asked.push(`${name}/${version}`),
        model: async (name) => void asked.push(name),
      },
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
      READERS,
      file("model-approvers", "description: a\nextends: readers\nallow: ['class:registry-promote']\n"),
      ADMINS,
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

describe("checkPromotion on the registry writes that take stages and aliases along", () => {
  const steward = cognito("sam", ["registry-stewards"]);
  const held = () =>
    versions({
      "m/1": { stage: "Archived" },
      "m/2": { stage: "Production", creator: "bob" },
      "m/3": { stage: "None", aliases: ["champion"], creator: "bob" },
      "m/4": { stage: "Staging", aliases: ["challenger-1"], creator: "sam" },
      "m/6": { stage: "None" },
      "quiet/1": { stage: "None", aliases: ["challenger-1"] },
      "quiet/2": { stage: "Archived" },
    });

  test("deleting a version: decided on its own stage and aliases, read with one lookup", async () => {
    const del = route("DeleteModelVersion", "cognito");
    const registry = held();
    expect(await checkPromotion(policy, del, steward, { name: "m", version: "3" }, registry)).toEqual({
      ok: false,
      status: 403,
      reason: "promotion-alias-not-allowed",
      message:
        'policies/groups/registry-stewards.yaml allows no deleting alias champion (deleting version 3 of "m" removes alias champion of version 3)',
    });
    expect(registry.reads).toEqual(["version m/3"]);
    expect(await checkPromotion(policy, del, steward, { name: "m", version: "2" }, registry)).toMatchObject({
      ok: false,
      reason: "promotion-stage-not-allowed",
      message: expect.stringContaining("allows no move out of Production"),
    });
    for (const version of ["1", "4", "6", "9"])
      expect(await checkPromotion(policy, del, steward, { name: "m", version }, registry)).toEqual({ ok: true });
  });

  test("deleting a model: every version in an active stage read, with the alias holders; refused on what it takes", async () => {
    const registry = held();
    expect(
      await checkPromotion(policy, route("DeleteRegisteredModel", "cognito"), steward, { name: "m" }, registry),
    ).toMatchObject({
      ok: false,
      reason: "promotion-stage-not-allowed",
      message: expect.stringContaining('(deleting model "m" takes version 2 out of Production)'),
    });
    expect(registry.reads).toEqual(["model m", ...[1, 2, 3, 4, 5, 6].map((n) => `version m/${n}`)]);
  });

  test("a model without an active stage: only the alias holders are read", async () => {
    const registry = held();
    expect(
      await checkPromotion(policy, route("DeleteRegisteredModel", "cognito"), steward, { name: "quiet" }, registry),
    ).toEqual({ ok: true });
    expect(registry.reads).toEqual(["model quiet", "version quiet/1"]);
  });

  test("renaming a model: refused when the new name would gain a stage or an alias the group may not give", async () => {
    const rename = route("RenameRegisteredModel", "cognito");
    expect(await checkPromotion(policy, rename, steward, { name: "m", new_name: "n" }, held())).toMatchObject({
      ok: false,
      status: 403,
    });
    const registry = versions({ "s/1": { stage: "Staging", aliases: ["challenger-1"] } });
    expect(await checkPromotion(policy, rename, steward, { name: "s", new_name: "t" }, registry)).toEqual({ ok: true });
    expect(
      await checkPromotion(
        policy,
        rename,
        cognito("rita", ["release-stewards"]),
        { name: "m", new_name: "n" },
        versions({ "m/2": { stage: "Production", creator: "rita" } }),
      ),
    ).toMatchObject({ ok: false, reason: "promotion-same-person" });
  });

  test("a group without a promotion block: nothing is read", async () => {
    const registry = held();
    const admin = cognito("root", ["admins", "registry-stewards"]);
    expect(
      await checkPromotion(policy, route("DeleteRegisteredModel", "cognito"), admin, { name: "m" }, registry),
    ).toEqual({ ok: true });
    expect(
      await checkPromotion(policy, route("DeleteModelVersion"), iam("user/x"), { name: "m", version: "3" }, registry),
    ).toMatchObject({ ok: false, reason: "promotion-no-group" });
    expect(registry.reads).toEqual([]);
  });

  test("a model with more versions than the guard reads: refused before any version is read", async () => {
    const registry = versions({ "big/1001": { stage: "Production" } });
    expect(
      await checkPromotion(policy, route("DeleteRegisteredModel", "cognito"), steward, { name: "big" }, registry),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: "promotion-undecidable",
      message: expect.stringMatching(/at most 1000/),
    });
    expect(registry.reads).toEqual(["model big"]);
  });

  test.each([
    ["DeleteModelVersion", { name: "m", version: "03" }, /version must be a version number/],
    ["DeleteModelVersion", { name: "m" }, /version must be a non-empty string/],
    ["DeleteRegisteredModel", {}, /name must be a non-empty string/],
    ["RenameRegisteredModel", { name: "m", new_name: "n", newName: "o" }, /new_name is given twice/],
  ])("%s with %j: 400, before anything is read", async (action, body, message) => {
    const registry = held();
    expect(await checkPromotion(policy, route(action, "cognito"), steward, body, registry)).toMatchObject({
      ok: false,
      status: 400,
      reason: "promotion-request-unreadable",
      message: expect.stringMatching(message),
    });
    expect(registry.reads).toEqual([]);
  });
});

test("modelFactsOf reads MLflow's GetRegisteredModel answer, and nothing it cannot read whole", () => {
  expect(
    modelFactsOf({
      registered_model: {
        name: "m",
        aliases: [{ alias: "champion", version: "3" }],
        latest_versions: [
          { version: "3", current_stage: "None" },
          { version: "2", current_stage: "Production" },
        ],
      },
    }),
  ).toEqual({
    aliases: [{ alias: "champion", version: "3" }],
    latest: [
      { version: "3", stage: "None" },
      { version: "2", stage: "Production" },
    ],
  });
  expect(modelFactsOf({ registered_model: { name: "m" } })).toEqual({ aliases: [], latest: [] });
  for (const bad of [
    { registered_model: { aliases: [{ alias: "a", version: 3 }] } },
    { registered_model: { latest_versions: [{ version: "1", current_stage: "Deleted_Internal" }] } },
    { registered_model: { latest_versions: {} } },
    { error_code: "RESOURCE_DOES_NOT_EXIST" },
  ])
    expect(modelFactsOf(bad)).toBeUndefined();
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
  ).toEqual({ stage: "Production", aliases: [], creator: "bob" });
  expect(versionFactsOf({ model_version: { current_stage: "None", aliases: ["champion"] } })).toEqual({
    stage: "None",
    aliases: ["champion"],
  });
  expect(versionFactsOf({ model_version: { current_stage: "None", aliases: "champion" } })).toBeUndefined();
  expect(versionFactsOf({ error_code: "RESOURCE_DOES_NOT_EXIST" })).toBeUndefined();
});
