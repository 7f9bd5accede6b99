import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { GROUPS_DIR } from "../../project/paths";
import { cliEnv, runCliProcess } from "../scripts/support/run-cli";
import { OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// The promotion audit trail through the whole stack: the real MLflow SDK with the plugin, as SigV4 principals and
// as a Cognito user (bearer mode), moves versions and sets aliases against group files in which model approvers may
// move versions to Staging and Archived and set any alias but champion and prod*. Then `mlflow-gate audit --model`
// lists every request, allowed and refused, version by version, from the guard's audit lines; a model approver's
// deletion of a version and rename of the model, both refused, with them.

/** What the test reads of an `audit --model --json` line (the CLI's own type lives in scripts/, which tests of the stack do not import). */
interface PromotionEntry {
  readonly time: string;
  readonly version?: string;
  readonly versionFromTrail?: boolean;
  readonly kind: string;
  readonly from?: string;
  readonly to?: string;
  readonly alias?: string;
  readonly newName?: string;
  readonly who: string;
  readonly creator?: string;
  readonly outcome: string;
  readonly status: number;
  readonly reason?: string;
  readonly message?: string;
}

let t: TestStack;
let groupsDir: string;
const name = `promotion-audit-${Date.now()}`;

const ops = (as: string, plan: Plan, extra: NodeJS.ProcessEnv = {}) => pluginOps(t.stack, as, plan, extra);
const ok = (r: OpResult | undefined): unknown => {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
};
const audit = (...args: string[]) =>
  runCliProcess(["audit", "--model", name, ...args], { env: cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir }) });

/** `audit --model --json` once the trail holds `count` requests (a line is written as the answer ends). */
async function entries(count: number): Promise<PromotionEntry[]> {
  for (let i = 0; ; i++) {
    const r = await audit("--json");
    const found = r.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as PromotionEntry);
    if (found.length >= count || i === 20) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-promotion-audit-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  // The file whole, so that the test does not depend on the default tiers.
  writeFileSync(
    join(groupsDir, "model-approvers.yaml"),
    [
      "description: Model approvers of this test.",
      "extends: readers",
      "allow: [class:registry-write, class:registry-promote]",
      "promotion:",
      "  stages: { to: [Staging, Archived] }",
      '  aliases: { allow: ["*"], deny: [champion, "prod*"] }',
      "",
    ].join("\n"),
  );
  t = await startTestStack({ env: { MLFLOW_GATE_GROUPS_DIR: groupsDir } });

  // Two versions by the admin; then promotions allowed and refused, by three callers.
  const made = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name }],
    ["v1", "log_large_model", { experiment_id: "$exp", name, sizes: [1024] }],
    ["v2", "log_large_model", { experiment_id: "$exp", name, sizes: [1024] }],
  ]);
  expect([ok(made.v1), ok(made.v2)]).toMatchObject([{ version: "1" }, { version: "2" }]);
  const approver = await ops("mlflow-model-approver", [
    ["staging", "transition_model_version_stage", { name, version: "1", stage: "Staging" }],
    ["prod", "transition_model_version_stage", { name, version: "1", stage: "production" }],
    ["challenger", "set_registered_model_alias", { name, alias: "challenger-1", version: "1" }],
    ["champion", "set_registered_model_alias", { name, alias: "champion", version: "2" }],
    ["deleted", "delete_registered_model_alias", { name, alias: "challenger-1" }],
  ]);
  expect(Object.fromEntries(Object.entries(approver).map(([k, r]) => [k, r.status ?? 200]))).toEqual({
    staging: 200,
    prod: 403,
    challenger: 200,
    champion: 403,
    deleted: 200,
  });
  const user = t.stack.summary.demoUsers.find((u) => u.username === "model-approver")!;
  const cognito = await ops(
    "mlflow-reader",
    [["prod", "transition_model_version_stage", { name, version: "2", stage: "Production" }]],
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
  expect(cognito.prod).toMatchObject({ ok: false, status: 403 });
  const admin = await ops("mlflow-admin", [
    ["prod", "transition_model_version_stage", { name, version: "1", stage: "Production" }],
    ["champion", "set_registered_model_alias", { name, alias: "champion", version: "1" }],
    ["missing", "transition_model_version_stage", { name, version: "99", stage: "Staging" }],
  ]);
  expect([admin.prod?.ok, admin.champion?.ok, admin.missing?.status]).toEqual([true, true, 404]);
  // Deleting or renaming is no way around: each would take version 1 out of Production and take its alias champion.
  const change = await ops("mlflow-model-approver", [
    ["delete", "delete_model_version", { name, version: "1" }],
    ["rename", "rename_registered_model", { name, new_name: `${name}-renamed` }],
  ]);
  expect([change.delete?.status, change.rename?.status]).toEqual([403, 403]);
}, 400_000);
afterAll(async () => {
  await t?.stop();
  rmSync(groupsDir, { recursive: true, force: true });
});

const APPROVER = "user/mlflow-model-approver";
const ADMIN = "user/mlflow-admin";

test("audit --model --json: every promotion request in order, allowed and refused, with the stage before and the stage asked for", async () => {
  // Act
  const found = await entries(11);

  // Assess
  expect(
    found.map((e) => [e.version, e.kind, e.from ?? null, e.to ?? e.alias, e.who, e.outcome, e.reason ?? null]),
  ).toEqual([
    ["1", "transition", "None", "Staging", APPROVER, "done", null],
    ["1", "transition", "Staging", "Production", APPROVER, "refused", "promotion-stage-not-allowed"],
    ["1", "set-alias", "Staging", "challenger-1", APPROVER, "done", null],
    ["2", "set-alias", "None", "champion", APPROVER, "refused", "promotion-alias-not-allowed"],
    ["1", "delete-alias", null, "challenger-1", APPROVER, "done", null],
    ["2", "transition", "None", "Production", "model-approver", "refused", "promotion-stage-not-allowed"],
    ["1", "transition", "Staging", "Production", ADMIN, "done", null],
    ["1", "set-alias", "Production", "champion", ADMIN, "done", null],
    // A version MLflow does not have: the guard's own 404 (a request for it is never forwarded undecided).
    ["99", "transition", null, "Staging", ADMIN, "refused", "promotion-not-found"],
    ["1", "delete-version", "Production", undefined, APPROVER, "refused", "promotion-alias-not-allowed"],
    [undefined, "rename", null, undefined, APPROVER, "refused", expect.stringMatching(/^promotion-/)],
  ]);
  expect(found[9]!.message).toContain(`deleting version 1 of "${name}" removes alias champion`);
  expect(found[10]).toMatchObject({
    newName: `${name}-renamed`,
    message: expect.stringContaining("model-approvers.yaml"),
  });
  expect(found[1]!.message).toBe("policies/groups/model-approvers.yaml allows no promotion to Production");
  expect(found[3]!.message).toContain("setting alias champion");
  expect(found[4]!.versionFromTrail).toBe(true);
  expect(found.filter((e) => e.version === "1" && e.kind !== "delete-alias").every((e) => e.creator === ADMIN)).toBe(
    true,
  );
  expect(found[8]!.status).toBe(404);
  expect(found.map((e) => Date.parse(e.time))).toEqual([...found.map((e) => Date.parse(e.time))].sort());
  // The promotion lines hold no credential: not the SigV4 signature, not the Cognito token.
  expect(readFileSync(t.stack.summary.auditFile, "utf8")).not.toMatch(
    /Bearer |AWS4-HMAC-SHA256|X-Amz-Signature|eyJ[\w-]+\./,
  );
}, 60_000);

test("audit --model: a table per version, with its creator, and each refusal's rule", async () => {
  // Act
  await entries(11);
  const r = await audit();
  const refused = await audit("--refused", "--user", "model-approver");

  // Assess
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^model ${name}: 11 promotion requests, 6 refused by the guard\n`));
  expect(r.stdout).toMatch(new RegExp(`\nversion 1 {2}created \\S+Z by ${ADMIN}\n`));
  const version1 = r.stdout.split(/\nversion /)[1]!;
  expect(version1).toMatch(/ user\/mlflow-model-approver +stage None -> Staging +done\n/);
  expect(version1).toMatch(
    / user\/mlflow-model-approver +stage Staging -> Production +refused 403 promotion-stage-not-allowed\n +policies\/groups\/model-approvers\.yaml allows no promotion to Production\n/,
  );
  expect(version1).toMatch(/ user\/mlflow-admin +stage Staging -> Production +done\n/);
  expect(version1).toMatch(/ user\/mlflow-model-approver +delete alias challenger-1 +done\n/);
  expect(version1).toMatch(
    / user\/mlflow-model-approver +delete version \(in Production\) +refused 403 promotion-alias-not-allowed\n +policies\/groups\/model-approvers\.yaml allows no deleting alias champion /,
  );
  expect(r.stdout).toMatch(
    new RegExp(
      `\nwhole model \\(deletions and renames\\)\n.*\n.* user/mlflow-model-approver +rename to ${name}-renamed +refused 403 `,
    ),
  );
  expect(r.stdout).toMatch(
    /\nversion 99\n.*\n.* user\/mlflow-admin +stage \? -> Staging +refused 404 promotion-not-found\n +Model Version \(name=\S+, version=99\) not found\n/,
  );
  expect(refused.stdout.match(/refused 403/g)).toHaveLength(1);
  // Under the name it asked for, the rename says where it came from.
  const renamed = await runCliProcess(["audit", "--model", `${name}-renamed`], {
    env: cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir }),
  });
  expect(renamed.stdout).toMatch(new RegExp(` user/mlflow-model-approver +renamed from ${name} +refused 403 `));
  expect(refused.stdout).toMatch(
    / model-approver +stage None -> Production +refused 403 promotion-stage-not-allowed\n/,
  );
}, 60_000);
