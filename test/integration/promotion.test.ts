import { bearerEnv, OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// Promotion rules of the default group files through the whole stack: the real MLflow SDK with the plugin, as
// SigV4 principals (their group from the guard's role table) and as Cognito users in bearer mode (/ajax-api).
// Model approvers move versions to Staging and set aliases but champion and prod*; release managers move
// versions to Production and set champion, never on a version they created. MLflow's state is read on its
// private port after every refusal.

let t: TestStack;
const name = `promotion-${Date.now()}`;
/** Created by mlflow-admin (stamped `user/mlflow-admin`). */
let version: string;

const ops = (as: string, plan: Plan, extra: NodeJS.ProcessEnv = {}) => pluginOps(t.stack, as, plan, extra);
const ok = (r: OpResult | undefined): unknown => {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
};
/** A Cognito user's plugin environment (bearer mode, /ajax-api). */
const asUser = (user: { username: string; password: string }) => bearerEnv(t.stack, user);
const demoUser = (username: string) => t.stack.summary.demoUsers.find((u) => u.username === username)!;

beforeAll(async () => {
  t = await startTestStack();
  const r = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name }],
    ["model", "log_large_model", { experiment_id: "$exp", name, sizes: [1024] }],
  ]);
  version = (ok(r.model) as { version: string }).version;
}, 300_000);
afterAll(async () => {
  await t?.stop();
});

/** A version as MLflow holds it, read on its private port. */
async function stored(v = version): Promise<{ stage: string; aliases: string[] }> {
  const r = await t.sdk("private", [["v", "get_model_version", { name, version: v }]]);
  const mv = ok(r.v) as { current_stage: string; aliases: string[] | string };
  // sdk_ops reports the alias list in Python's repr: ['a', 'b'].
  const aliases = typeof mv.aliases === "string" ? (JSON.parse(mv.aliases.replace(/'/g, '"')) as string[]) : mv.aliases;
  return { stage: mv.current_stage, aliases: [...aliases].sort() };
}

const refused = (text: string) => ({ ok: false, status: 403, error: expect.stringContaining(text) });

describe("a model approver (SigV4, its group from the guard's role table)", () => {
  test("moves a version to Staging, not to Production in any spelling MLflow accepts; the refusal names the rule", async () => {
    const r = await ops("mlflow-model-approver", [
      ["staging", "transition_model_version_stage", { name, version, stage: "Staging" }],
      ["lower", "transition_model_version_stage", { name, version, stage: "production" }],
      ["upper", "transition_model_version_stage", { name, version, stage: "PRODUCTION" }],
      ["proper", "transition_model_version_stage", { name, version, stage: "Production" }],
    ]);
    expect(r.staging?.ok).toBe(true);
    for (const attempt of [r.lower, r.upper, r.proper])
      expect(attempt).toMatchObject(refused("policies/groups/model-approvers.yaml allows no promotion to Production"));
    expect((await stored()).stage).toBe("Staging");
  }, 120_000);

  test("sets challenger-2, not champion", async () => {
    const r = await ops("mlflow-model-approver", [
      ["challenger", "set_registered_model_alias", { name, alias: "challenger-2", version }],
      ["champion", "set_registered_model_alias", { name, alias: "champion", version }],
    ]);
    expect(r.challenger?.ok).toBe(true);
    expect(r.champion).toMatchObject(refused("setting alias champion"));
    expect((await stored()).aliases).toEqual(["challenger-2"]);
  }, 120_000);
});

test("a model approver signed in to Cognito (bearer mode, /ajax-api): the same rules", async () => {
  const r = await ops(
    "mlflow-reader",
    [
      ["proper", "transition_model_version_stage", { name, version, stage: "Production" }],
      ["champion", "set_registered_model_alias", { name, alias: "champion", version }],
    ],
    asUser(demoUser("model-approver")),
  );
  expect(r.proper).toMatchObject(refused("allows no promotion to Production"));
  expect(r.champion).toMatchObject(refused("setting alias champion"));
  expect(await stored()).toEqual({ stage: "Staging", aliases: ["challenger-2"] });
}, 120_000);

describe("a release manager", () => {
  test("(SigV4) moves someone else's version to Production and names it champion; not challenger-3", async () => {
    const r = await ops("mlflow-release-manager", [
      ["prod", "transition_model_version_stage", { name, version, stage: "Production" }],
      ["champion", "set_registered_model_alias", { name, alias: "champion", version }],
      ["challenger", "set_registered_model_alias", { name, alias: "challenger-3", version }],
    ]);
    expect(r.prod?.ok).toBe(true);
    expect(r.champion?.ok).toBe(true);
    expect(r.challenger).toMatchObject(
      refused("policies/groups/release-managers.yaml allows no setting alias challenger-3"),
    );
    expect(await stored()).toEqual({ stage: "Production", aliases: ["challenger-2", "champion"] });
  }, 120_000);

  test("who is also a model approver (Cognito) registers a version but cannot release it; another release manager can", async () => {
    // Prepare: one person in both groups registers a version of the admin's model files
    const both = await t.stack.userPool.createUser(`both-${Date.now()}`, ["model-approvers", "release-managers"]);
    const source = ok((await t.sdk("private", [["v", "get_model_version", { name, version }]])).v) as {
      run_id: string;
    };
    const created = await ops(
      "mlflow-reader",
      [["v", "create_model_version", { name, source: `runs:/${source.run_id}/model`, run_id: source.run_id }]],
      asUser(both),
    );
    const own = (ok(created.v) as { version: string }).version;

    // Act: the same person releases it, then another release manager does
    const self = await ops(
      "mlflow-reader",
      [
        ["prod", "transition_model_version_stage", { name, version: own, stage: "Production" }],
        ["alias", "set_registered_model_alias", { name, alias: "prod-eu", version: own }],
      ],
      asUser(both),
    );
    const unchanged = await stored(own);
    const other = await ops("mlflow-release-manager", [
      ["prod", "transition_model_version_stage", { name, version: own, stage: "Production" }],
    ]);

    // Assess: each group's reason in the refusal; MLflow unchanged until the other person acts
    expect(self.prod).toMatchObject(refused("model-approvers.yaml allows no promotion to Production"));
    expect(self.prod).toMatchObject(
      refused(`release-managers.yaml allows no promotion of a version you created (${both.username})`),
    );
    expect(self.alias).toMatchObject(refused("a version you created"));
    expect(unchanged).toEqual({ stage: "None", aliases: [] });
    expect(other.prod?.ok).toBe(true);
    expect((await stored(own)).stage).toBe("Production");
  }, 180_000);

  test("cannot release a version whose creator is unknown (registered around the guard)", async () => {
    // Prepare: a version registered on MLflow's private port carries no stamp
    const source = ok((await t.sdk("private", [["v", "get_model_version", { name, version }]])).v) as {
      run_id: string;
    };
    const created = await t.sdk("private", [
      ["v", "create_model_version", { name, source: `runs:/${source.run_id}/model`, run_id: source.run_id }],
    ]);
    const unstamped = (ok(created.v) as { version: string }).version;
    // Act
    const r = await ops("mlflow-release-manager", [
      ["prod", "transition_model_version_stage", { name, version: unstamped, stage: "Production" }],
    ]);
    // Assess
    expect(r.prod).toMatchObject(refused("whose creator is unknown"));
    expect((await stored(unstamped)).stage).toBe("None");
  }, 120_000);
});

test("an admin, whose file has no promotion block, still promotes to Production", async () => {
  const r = await ops("mlflow-admin", [
    ["back", "transition_model_version_stage", { name, version, stage: "Staging" }],
    ["prod", "transition_model_version_stage", { name, version, stage: "Production" }],
  ]);
  expect(r.prod?.ok).toBe(true);
  expect((await stored()).stage).toBe("Production");
}, 120_000);
