import { appendFileSync, cpSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { GROUPS_DIR } from "../../project/paths";
import { OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// Promotion rules through the whole stack: the real MLflow SDK with the plugin, as a SigV4 principal (its group
// from the guard's role table) and as a Cognito user in bearer mode (/ajax-api), against group files in which
// model approvers may move versions to Staging and Archived, and set any alias but champion and prod*.
// MLflow's state is read on its private port after every refusal.

let t: TestStack;
let groupsDir: string;
const name = `promotion-${Date.now()}`;
let version: string;

const ops = (as: string, plan: Plan, extra: NodeJS.ProcessEnv = {}) => pluginOps(t.stack, as, plan, extra);
const ok = (r: OpResult | undefined): unknown => {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
};

beforeAll(async () => {
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-promotion-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  appendFileSync(
    join(groupsDir, "model-approvers.yaml"),
    'promotion:\n  stages: { to: [Staging, Archived] }\n  aliases: { allow: ["*"], deny: [champion, "prod*"] }\n',
  );
  t = await startTestStack({ env: { MLFLOW_GATE_GROUPS_DIR: groupsDir } });
  const r = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name }],
    ["model", "log_large_model", { experiment_id: "$exp", name, sizes: [1024] }],
  ]);
  version = (ok(r.model) as { version: string }).version;
}, 300_000);
afterAll(async () => {
  await t?.stop();
  rmSync(groupsDir, { recursive: true, force: true });
});

/** The version as MLflow holds it, read on its private port. */
async function stored(): Promise<{ stage: string; aliases: string[] }> {
  const r = await t.sdk("private", [["v", "get_model_version", { name, version }]]);
  const v = ok(r.v) as { current_stage: string; aliases: string[] | string };
  // sdk_ops reports the alias list in Python's repr: ['a', 'b'].
  const aliases = typeof v.aliases === "string" ? (JSON.parse(v.aliases.replace(/'/g, '"')) as string[]) : v.aliases;
  return { stage: v.current_stage, aliases: [...aliases].sort() };
}

describe("a model approver (SigV4, its group from the guard's role table)", () => {
  test("moves a version to Staging, not to Production in any spelling MLflow accepts; the refusal names the rule", async () => {
    const r = await ops("mlflow-model-approver", [
      ["staging", "transition_model_version_stage", { name, version, stage: "Staging" }],
      ["lower", "transition_model_version_stage", { name, version, stage: "production" }],
      ["upper", "transition_model_version_stage", { name, version, stage: "PRODUCTION" }],
      ["proper", "transition_model_version_stage", { name, version, stage: "Production" }],
    ]);
    expect(r.staging?.ok).toBe(true);
    for (const refused of [r.lower, r.upper, r.proper])
      expect(refused).toMatchObject({
        ok: false,
        status: 403,
        error: expect.stringContaining("policies/groups/model-approvers.yaml allows no promotion to Production"),
      });
    expect((await stored()).stage).toBe("Staging");
  }, 120_000);

  test("sets challenger-2, not champion", async () => {
    const r = await ops("mlflow-model-approver", [
      ["challenger", "set_registered_model_alias", { name, alias: "challenger-2", version }],
      ["champion", "set_registered_model_alias", { name, alias: "champion", version }],
    ]);
    expect(r.challenger?.ok).toBe(true);
    expect(r.champion).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringContaining("setting alias champion"),
    });
    expect((await stored()).aliases).toEqual(["challenger-2"]);
  }, 120_000);
});

test("a model approver signed in to Cognito (bearer mode, /ajax-api): the same rules", async () => {
  const user = t.stack.summary.demoUsers.find((u) => u.username === "model-approver")!;
  const r = await ops(
    "mlflow-reader",
    [["proper", "transition_model_version_stage", { name, version, stage: "Production" }]],
    {
      AWS_PROFILE: undefined,
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      AWS_CONFIG_FILE: "/nonexistent",
      MLFLOW_GATE_AUTH_MODE: "bearer",
      MLFLOW_GATE_COGNITO_CLIENT_ID: t.stack.summary.cognito.clientId,
      MLFLOW_GATE_COGNITO_ENDPOINT: t.stack.summary.cognito.endpoint,
      MLFLOW_GATE_COGNITO_USERNAME: user.username,
      MLFLOW_GATE_COGNITO_PASSWORD: user.password,
    },
  );
  expect(r.proper).toMatchObject({
    ok: false,
    status: 403,
    error: expect.stringContaining("allows no promotion to Production"),
  });
  expect((await stored()).stage).toBe("Staging");
}, 120_000);

test("an admin, whose file has no promotion block, still promotes to Production", async () => {
  const r = await ops("mlflow-admin", [
    ["prod", "transition_model_version_stage", { name, version, stage: "Production" }],
  ]);
  expect(r.prod?.ok).toBe(true);
  expect((await stored()).stage).toBe("Production");
}, 120_000);
