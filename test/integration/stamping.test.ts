import { readFileSync } from "fs";
import { cliEnv, runCliProcess } from "../scripts/support/run-cli";
import { startTestStack, TestStack } from "./support/stack";

// Who did it, stamped: the real MLflow SDK (and the UI's path with a Cognito token) creates runs,
// registered models and versions through the gateway and the guard, claiming to be someone else;
// MLflow keeps the authenticated caller, and the audit trail names them.

let t: TestStack;
let adminToken: string;

beforeAll(async () => {
  t = await startTestStack();
  const admin = t.stack.summary.demoUsers.find((u) => u.username === "admin")!;
  adminToken = (await t.stack.userPool.login(admin.username, admin.password)).accessToken;
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const SOMEBODY_ELSE = { "mlflow.user": "somebody-else" };

describe("runs read back with the authenticated caller, whatever the client claimed", () => {
  test("SigV4 with a role's own keys: the SDK's user_id and mlflow.user are replaced by user/<name>", async () => {
    // Act: MlflowClient sends the mlflow.user tag as user_id too; the fluent API sends the machine's user.
    const r = await t.sdk("mlflow-admin", [
      ["exp", "create_experiment", { name: "stamped-sigv4" }],
      ["run", "create_run", { experiment_id: "$exp", tags: SOMEBODY_ELSE }],
      ["who", "run_identity", { run_id: "$run.run_id" }],
      ["fluent", "fluent_run", { experiment_name: "stamped-sigv4" }],
      ["whoFluent", "run_identity", { run_id: "$fluent" }],
    ]);

    // Assess
    expect(r.who).toMatchObject({ ok: true, value: { user_id: "user/mlflow-admin", user_tag: "user/mlflow-admin" } });
    expect(r.whoFluent).toMatchObject({
      ok: true,
      value: { user_id: "user/mlflow-admin", user_tag: "user/mlflow-admin" },
    });
  });

  test("an assumed role (the local STS): named by the role and the session", async () => {
    const r = await t.sdk("data-science-as-mlflow-admin", [
      ["exp", "create_experiment", { name: "stamped-assumed" }],
      ["run", "create_run", { experiment_id: "$exp", tags: SOMEBODY_ELSE }],
      ["who", "run_identity", { run_id: "$run.run_id" }],
    ]);
    expect(r.who?.ok).toBe(true);
    expect(r.who?.value.user_id).toMatch(/^assumed-role\/mlflow-admin\/[\w+=,.@-]+$/);
    expect(r.who?.value.user_tag).toBe(r.who?.value.user_id);
  });

  test("a Cognito user on the UI's routes: named by their username", async () => {
    // Prepare
    const api = `${t.stack.summary.gatewayUrl}/ajax-api/2.0/mlflow`;
    const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const exp = (await (
      await fetch(`${api}/experiments/create`, {
        method: "POST",
        headers,
        body: JSON.stringify({ name: "stamped-ui" }),
      })
    ).json()) as { experiment_id: string };

    // Act
    const created = await fetch(`${api}/runs/create`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        experiment_id: exp.experiment_id,
        user_id: "somebody-else",
        tags: [{ key: "mlflow.user", value: "root" }],
      }),
    });
    const { run } = (await created.json()) as { run: { info: { run_id: string; user_id: string } } };

    // Assess: MLflow's own answer, and what the private MLflow holds
    expect(created.status).toBe(200);
    expect(run.info.user_id).toBe("admin");
    const held = await t.sdk("private", [["who", "run_identity", { run_id: run.info.run_id }]]);
    expect(held.who?.value).toEqual({ user_id: "admin", user_tag: "admin" });
  });
});

describe("registered models and versions name their creator", () => {
  test("each principal's models and versions carry mlflow.user = the caller", async () => {
    // Act: the admin registers a model; a model approver (another role) adds a version
    const byAdmin = await t.sdk("mlflow-admin", [
      ["exp", "create_experiment", { name: "stamped-models" }],
      ["run", "create_run", { experiment_id: "$exp" }],
      ["model", "create_registered_model", { name: "stamped-model", tags: SOMEBODY_ELSE }],
    ]);
    const byApprover = await t.sdk("mlflow-model-approver", [
      [
        "version",
        "create_model_version",
        { name: "stamped-model", source: "s3://bucket/model", run_id: byAdmin.run!.value.run_id, tags: SOMEBODY_ELSE },
      ],
    ]);
    const held = await t.sdk("private", [
      ["model", "get_registered_model", { name: "stamped-model" }],
      ["version", "get_model_version", { name: "stamped-model", version: "1" }],
    ]);

    // Assess
    expect(byApprover.version?.ok).toBe(true);
    expect(held.model?.value.tags).toEqual({ "mlflow.user": "user/mlflow-admin" });
    expect(held.version?.value.tags).toEqual({ "mlflow.user": "user/mlflow-model-approver" });
  });
});

describe("mlflow.user cannot be changed after creation", () => {
  test("set_tag, log_batch and delete_tag of mlflow.user are refused with a clear 400; MLflow keeps the creator", async () => {
    // Prepare
    const made = await t.sdk("mlflow-admin", [
      ["exp", "create_experiment", { name: "stamped-fixed" }],
      ["run", "create_run", { experiment_id: "$exp" }],
    ]);
    const runId = made.run!.value.run_id as string;

    // Act
    const r = await t.sdk("mlflow-admin", [
      ["set", "set_tag", { run_id: runId, key: "mlflow.user", value: "somebody-else" }],
      ["batch", "log_batch_kv", { run_id: runId, tags: SOMEBODY_ELSE }],
      ["delete", "delete_tag", { run_id: runId, key: "mlflow.user" }],
      ["other", "set_tag", { run_id: runId, key: "team", value: "fraud" }],
    ]);
    const held = await t.sdk("private", [["who", "run_identity", { run_id: runId }]]);

    // Assess
    for (const name of ["set", "batch", "delete"]) {
      expect(r[name]).toMatchObject({ ok: false, status: 400 });
      expect(r[name]?.error).toMatch(/INVALID_PARAMETER_VALUE: mlflow-gate: mlflow.user names who created this/);
    }
    expect(r.other?.ok).toBe(true);
    expect(held.who?.value).toEqual({ user_id: "user/mlflow-admin", user_tag: "user/mlflow-admin" });
  });
});

describe("the audit trail", () => {
  test("mlflow-gate audit --run ID names the creator; --refused lists the refusals", async () => {
    // Prepare
    const made = await t.sdk("mlflow-admin", [
      ["exp", "create_experiment", { name: "audited" }],
      ["run", "create_run", { experiment_id: "$exp", tags: SOMEBODY_ELSE }],
      ["refused", "set_tag", { run_id: "$run.run_id", key: "mlflow.user", value: "x" }],
    ]);
    const runId = made.run!.value.run_id as string;
    const env = cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir });

    // Act
    const byRun = await runCliProcess(["audit", "--run", runId], { env });
    const refused = await runCliProcess(["audit", "--refused", "--user", "user/mlflow-admin", "--json"], { env });

    // Assess
    expect(byRun.code).toBe(0);
    const lines = byRun.stdout.trim().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^\\S+Z  user/mlflow-admin  CreateRun  200  experiment=\\d+ run=${runId}$`));
    expect(lines.some((l) => /SetTag {2}refused 400 stamp-refused/.test(l))).toBe(true);
    const records = refused.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.decision === "refused" && r.caller === "user/mlflow-admin")).toBe(true);
    // Every line of the file is one audit record; none holds a credential.
    const file = readFileSync(t.stack.summary.auditFile, "utf8");
    expect(file).not.toMatch(/Bearer |AWS4-HMAC-SHA256|X-Amz-Signature|aws_secret/i);
  });
});
