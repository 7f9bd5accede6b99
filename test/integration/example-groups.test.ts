import { execFile } from "child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { DEFAULT_PRINCIPALS } from "../../local/principals";
import { EXAMPLE_GROUPS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { bearerCall, OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// Issue 17's acceptance, through the whole local stack: a groups directory with the default groups and both
// example groups (seven files), a role for each group, and a user in the five bounded groups. Lint passes on that
// directory; each role does what its group allows with the real MLflow SDK and is refused the rest; the user in
// five groups works through the UI's routes with one token, and the authorizer answers per verb and API resource
// (the access log says which requests it was asked about and which came from its cache).

const FIVE = ["data-scientists", "ml-engineers", "model-approvers", "readers", "release-managers"];
const ROLES: Record<string, string> = {
  admins: "mlflow-admin",
  readers: "mlflow-reader",
  "model-approvers": "mlflow-model-approver",
  "release-managers": "mlflow-release-manager",
  "data-scientists": "mlflow-data-scientist",
  "ml-engineers": "mlflow-ml-engineer",
  writers: "mlflow-writer",
};

let t: TestStack;
let groupsDir: string;
let dataDir: string;
let token: string;
const name = `example-groups-${Date.now()}`;

const ops = (as: string, plan: Plan) => pluginOps(t.stack, as, plan);
const ok = (r: OpResult | undefined): unknown => {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
};

const call = (method: string, path: string, body?: unknown) => bearerCall(t.stack, token, method, path, body);

beforeAll(async () => {
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-example-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  cpSync(EXAMPLE_GROUPS_DIR, groupsDir, { recursive: true });
  // A role for each group: the default principals, and one for each example group (keys are generated).
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-example-data-"));
  mkdirSync(dataDir, { recursive: true });
  const principals = [
    ...DEFAULT_PRINCIPALS,
    { name: ROLES["data-scientists"], group: "data-scientists", trustedBy: [] },
    { name: ROLES["ml-engineers"], group: "ml-engineers", trustedBy: [] },
    { name: ROLES.writers, group: "writers", trustedBy: [] },
  ];
  writeFileSync(join(dataDir, "principals.json"), JSON.stringify({ principals }));
  t = await startTestStack({ dataDir, env: { MLFLOW_GATE_GROUPS_DIR: groupsDir } });
  const user = await t.stack.userPool.createUser(`five-${Date.now()}`, FIVE);
  token = (await t.stack.userPool.login(user.username, user.password)).accessToken;
}, 300_000);

afterAll(async () => {
  await t?.stop();
  for (const d of [groupsDir, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

test("policy lint passes on the seven group files, every answer far under the design limit", async () => {
  // Act (execFile rejects on a non-zero exit)
  const r = await promisify(execFile)(
    process.execPath,
    ["bin/mlflow-gate.js", "--groups-dir", groupsDir, "policy", "lint"],
    { cwd: REPO_ROOT },
  );
  // Assess
  expect(r.stdout).toMatch(/^policy lint: 7 groups, \d+ routes: no problems$/m);
  const bytes = [...r.stdout.matchAll(/^ {2}[a-z-]+ +(\d+) \/ 8192 /gm)].map((m) => Number(m[1]));
  expect(bytes).toHaveLength(7);
  expect(Math.max(...bytes)).toBeLessThan(2048);
  expect(r.stdout).toMatch(
    /^ {2}data-scientists \+ ml-engineers \+ model-approvers \+ readers \+ release-managers \+ writers: \d{3,4} \/ 8192 for /m,
  );
}, 60_000);

test("a role for each group: each reads; each writes runs or the registry exactly as its group allows", async () => {
  // Prepare: what each role tries, through the gateway with the real SDK
  const tries = (suffix: string): Plan => [
    ["search", "search_experiments", { max_results: 1 }],
    ["exp", "create_experiment", { name: `${name}-${suffix}` }],
    ["model", "create_registered_model", { name: `${name}-${suffix}` }],
  ];
  const expected: Record<string, { exp: boolean; model: boolean }> = {
    admins: { exp: true, model: true },
    readers: { exp: false, model: false },
    "model-approvers": { exp: false, model: true },
    "release-managers": { exp: false, model: false },
    "data-scientists": { exp: true, model: false },
    "ml-engineers": { exp: true, model: true },
    writers: { exp: true, model: false },
  };
  for (const [group, role] of Object.entries(ROLES)) {
    // Act
    const r = await ops(role, tries(group));
    // Assess
    expect({ group, search: r.search?.ok }).toEqual({ group, search: true });
    expect({ group, exp: r.exp?.ok, model: r.model?.ok }).toEqual({ group, ...expected[group] });
    for (const refused of [r.exp, r.model].filter((x) => x && !x.ok)) expect(refused?.status).toBe(403);
  }
}, 600_000);

test("the user in five groups works through the UI's routes with one token: runs, the registry, a release", async () => {
  // Prepare: a version the admin registered, so the release is not the user's own (the two-person rule)
  const setup = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name: `${name}-five` }],
    ["model", "log_large_model", { experiment_id: "$exp", name: `${name}-five`, sizes: [16] }],
  ]);
  const experimentId = ok(setup.exp) as string;
  const before = t.accessLog.length;
  // Act: a data scientist's run, an ML engineer's model, a model approver's staging, a release manager's release
  const created = await call("POST", "/ajax-api/2.0/mlflow/runs/create", { experiment_id: experimentId });
  const runId = created.json?.run?.info?.run_id;
  const logged = await call("POST", "/ajax-api/2.0/mlflow/runs/log-metric", {
    run_id: runId,
    key: "loss",
    value: 0.5,
    timestamp: Date.now(),
    step: 0,
  });
  const model = await call("POST", "/ajax-api/2.0/mlflow/registered-models/create", { name: `${name}-ui` });
  const transition = (stage: string) =>
    call("POST", "/ajax-api/2.0/mlflow/model-versions/transition-stage", {
      name: `${name}-five`,
      version: "1",
      stage,
      archive_existing_versions: false,
    });
  const staged = await transition("Staging");
  const released = await transition("Production");
  const webhook = await call("POST", "/ajax-api/2.0/mlflow/webhooks", { name: "x", url: "http://127.0.0.1:9" });
  // Assess
  expect([created.status, logged.status, model.status, staged.status, released.status]).toEqual([
    200, 200, 200, 200, 200,
  ]);
  expect(released.json.model_version.current_stage).toBe("Production");
  expect(webhook.status).toBe(403);
  // The authorizer was asked once per (verb, resource): runs/create and runs/log-metric share POST runs/{proxy+}.
  const mine = t.accessLog.slice(before).filter((e) => e.surface === "cognito");
  const invoked = mine.filter((e) => e.authorizer && !e.authorizer.cached).map((e) => `${e.method} ${e.resourcePath}`);
  expect(new Set(invoked).size).toBe(invoked.length);
  expect(invoked).toContain("POST /ajax-api/2.0/mlflow/runs/{proxy+}");
  expect(mine.filter((e) => e.authorizer?.cached).map((e) => e.path)).toContain("/ajax-api/2.0/mlflow/runs/log-metric");
}, 300_000);
