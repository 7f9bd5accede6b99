import { readFileSync } from "fs";
import { cliEnv, runCliProcess } from "../scripts/support/run-cli";
import { demoAccessToken, startTestStack, TestStack } from "./support/stack";

// Who did it, stamped: the real MLflow SDK (and the UI's path with a Cognito token) creates runs,
// registered models and versions through the gateway and the guard, claiming to be someone else;
// MLflow keeps the authenticated caller, and the audit trail names them.

let t: TestStack;
let adminToken: string;

beforeAll(async () => {
  t = await startTestStack();
  adminToken = await demoAccessToken(t, "admin");
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

/** MLflow's JSON answers, read by field name (a test's expectations check the shape). */
interface Doc {
  readonly [key: string]: Doc;
}

describe("traces, assessments and logged models, on the UI's routes through the whole stack", () => {
  /** A Cognito admin's JSON call through the gateway; the answer's status and JSON. */
  async function ui(method: string, path: string, body?: unknown): Promise<{ status: number; json: Doc }> {
    const r = await fetch(`${t.stack.summary.gatewayUrl}/ajax-api${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, json: (await r.json().catch(() => ({}))) as Doc };
  }
  /** What the private MLflow holds, read behind the guard. */
  async function held(path: string): Promise<Doc> {
    return (await (await fetch(`${t.stack.summary.mlflowPrivateUrl}/api${path}`)).json()) as Doc;
  }

  let experimentId: Doc | undefined;
  let traceId: Doc | undefined;
  beforeAll(async () => {
    experimentId = (await ui("POST", "/2.0/mlflow/experiments/create", { name: "stamped-traces" })).json?.experiment_id;
    const started = await ui("POST", "/3.0/mlflow/traces", {
      trace: {
        trace_info: {
          trace_id: `tr-${"ab".repeat(16)}`,
          trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
          request_time: new Date().toISOString(),
          state: "OK",
          trace_metadata: { "mlflow.user": "somebody-else" },
        },
      },
    });
    expect(started.status).toBe(200);
    traceId = started.json?.trace?.trace_info?.trace_id;
  }, 60_000);

  test("a trace's creator is the caller", async () => {
    const info = await held(`/3.0/mlflow/traces/${traceId}`);
    expect(info?.trace?.trace_info?.trace_metadata?.["mlflow.user"]).toBe("admin");
    expect(info?.trace?.trace_info?.tags?.["mlflow.user"]).toBe("admin");
  });

  test("a HUMAN assessment names the caller as its source, whoever the client named", async () => {
    // Act
    const created = await ui("POST", `/3.0/mlflow/traces/${traceId}/assessments`, {
      assessment: {
        assessment_name: "correct",
        source: { source_type: "HUMAN", source_id: "somebody-else" },
        feedback: { value: true },
      },
    });

    // Assess: MLflow's answer and what it holds
    expect(created.status).toBe(200);
    const id = created.json?.assessment?.assessment_id;
    const stored = await held(`/3.0/mlflow/traces/${traceId}/assessments/${id}`);
    expect(stored?.assessment?.source).toEqual({ source_type: "HUMAN", source_id: "admin" });
  });

  test.each([["1"], [" 1"], [true]])(
    "a source type MLflow would read as HUMAN but the guard cannot name (%j) is refused, and nothing is stored",
    async (sourceType) => {
      // Act
      const r = await ui("POST", `/3.0/mlflow/traces/${traceId}/assessments`, {
        assessment: {
          assessment_name: "forged",
          source: { source_type: sourceType, source_id: "somebody-else" },
          feedback: { value: true },
        },
      });

      // Assess
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE", reason: "stamp-refused" });
      const info = await held(`/3.0/mlflow/traces/${traceId}`);
      const assessments = (info?.trace?.trace_info?.assessments ?? []) as unknown as Doc[];
      const names = assessments.map((a) => a.assessment_name);
      expect(names).not.toContain("forged");
    },
  );

  test("the v2 trace routes may not send MLflow's gateway trust keys (they spend an endpoint's budget)", async () => {
    // Act
    const r = await ui("POST", "/2.0/mlflow/traces", {
      experiment_id: experimentId,
      timestamp_ms: Date.now(),
      request_metadata: [
        { key: "mlflow.gateway.endpointId", value: "e-1" },
        { key: "mlflow.trace.cost", value: '{"total_cost":999999}' },
      ],
    });
    const search = await held(`/2.0/mlflow/traces?experiment_ids=${experimentId}`);

    // Assess: refused, and the experiment still holds only the trace made above
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/MLflow's own/);
    expect(((search.traces ?? []) as unknown as Doc[]).map((x) => x.request_id)).toEqual([traceId]);
  });

  test("a logged model names its creator; the tag cannot be set or deleted afterwards", async () => {
    // Act
    const created = await ui("POST", "/2.0/mlflow/logged-models", {
      experiment_id: experimentId,
      name: "stamped-logged-model",
      tags: [{ key: "mlflow.user", value: "somebody-else" }],
    });
    const modelId = created.json?.model?.info?.model_id;
    const set = await ui("PATCH", `/2.0/mlflow/logged-models/${modelId}/tags`, {
      tags: [{ key: "mlflow.user", value: "somebody-else" }],
    });
    const deleted = await ui("DELETE", `/2.0/mlflow/logged-models/${modelId}/tags/mlflow.user`);
    const stored = await held(`/2.0/mlflow/logged-models/${modelId}`);

    // Assess
    expect(created.status).toBe(200);
    expect(set).toMatchObject({ status: 400, json: { reason: "stamp-refused" } });
    expect(deleted).toMatchObject({ status: 400, json: { reason: "stamp-refused" } });
    expect(stored?.model?.info?.tags).toEqual([{ key: "mlflow.user", value: "admin" }]);
  });
});
