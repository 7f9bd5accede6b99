import { runPython } from "../support/python";
import { bearerEnv, OpResult, Plan, pluginEnv, pluginOps, startTestStack, TestStack } from "./support/stack";

// The real MLflow Python SDK with the repository's auth plugin (clients/python, installed editable
// into .venv): MLFLOW_TRACKING_AUTH=mlflow-gate instead of MLFLOW_TRACKING_AWS_SIGV4=true, under
// each local principal's AWS profile, against real MLflow behind the local gateway. The private
// MLflow is the witness of what arrived.

let t: TestStack;
beforeAll(async () => {
  // A stack of its own: it asserts on every registered model and on the whole access log.
  t = await startTestStack({ private: true });
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

/** The plugin's SDK operations against this file's stack. */
function ops(as: string | "private", plan: Plan, extra: NodeJS.ProcessEnv = {}): Promise<Record<string, OpResult>> {
  return pluginOps(t.stack, as, plan, extra);
}

function failures(results: Record<string, OpResult>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${r.error}`);
}

const BINARY_SIZE = 3 * 1024 * 1024 + 17;
/** A directory with a nested folder, logged with log_artifacts. */
const DIR_FILES = { "train.csv": "x,y\n1,2\n", "meta/schema.json": '{"x": "int"}', "meta/README.md": "# dataset\n" };
const DICT = { learning_rate: 0.01, layers: [64, 32], name: "héllo" };
let experimentId: string;
let runId: string;
let run2Id: string;

describe("mlflow-admin with the plugin", () => {
  test("logs a text and a binary (>1 MB) artifact through the gateway (mlflow#15051), and MLflow holds the same bytes", async () => {
    const r = await ops("mlflow-admin", [
      ["exp", "create_experiment", { name: "plugin e2e" }],
      ["run", "create_run", { experiment_id: "$exp" }],
      ["metric", "log_metric", { run_id: "$run.run_id", key: "loss", value: 0.5 }],
      ["run2", "create_run", { experiment_id: "$exp" }],
      ["metric2", "log_metric", { run_id: "$run2.run_id", key: "loss", value: 0.25 }],
      [
        "text",
        "log_text_artifact",
        { run_id: "$run.run_id", path: "notes/hello world.txt", text: "héllo through the gate\n" },
      ],
      ["binary", "log_bytes_artifact", { run_id: "$run.run_id", path: "model/weights.bin", size: BINARY_SIZE }],
    ]);
    expect(failures(r)).toEqual([]);
    experimentId = r.exp!.value;
    runId = r.run!.value.run_id;
    run2Id = r.run2!.value.run_id;
    expect(t.accessLog.filter((e) => e.method === "PUT").map((e) => [e.status, e.principal])).toEqual([
      [200, "mlflow-admin"],
      [200, "mlflow-admin"],
    ]);
    // Assess on the private MLflow
    const seen = await ops("private", [
      ["text", "read_artifact", { run_id: runId, path: "notes/hello world.txt" }],
      ["binary", "artifact_digest", { run_id: runId, path: "model/weights.bin" }],
    ]);
    expect(seen.text).toMatchObject({ ok: true, value: "héllo through the gate\n" });
    expect(seen.binary).toMatchObject({ ok: true, value: r.binary!.value });
    expect(seen.binary!.value.size).toBe(BINARY_SIZE);
  });
});

describe("mlflow-admin with the plugin: artifacts the other ways", () => {
  test("logs a directory, log_text and log_dict; load_text, load_dict and download_artifacts read them back, and MLflow holds them", async () => {
    // Act
    const r = await ops("mlflow-admin", [
      ["dir", "log_dir_artifact", { run_id: runId, path: "dataset", files: DIR_FILES }],
      ["text", "log_text", { run_id: runId, text: "logged with log_text\n", artifact_file: "texts/log_text.txt" }],
      ["dict", "log_dict", { run_id: runId, dictionary: DICT, artifact_file: "config/params.json" }],
      ["read_text", "load_text", { uri: `runs:/${runId}/texts/log_text.txt` }],
      ["read_dict", "load_dict", { uri: `runs:/${runId}/config/params.json` }],
      ["read_dir", "download_dir", { run_id: runId, path: "dataset" }],
    ]);
    // Assess
    expect(failures(r)).toEqual([]);
    expect(r.read_text!.value).toBe("logged with log_text\n");
    expect(r.read_dict!.value).toEqual(DICT);
    expect(r.read_dir!.value).toEqual(DIR_FILES);
    const seen = await ops("private", [
      ["dir", "download_dir", { run_id: runId, path: "dataset" }],
      ["dict", "load_dict", { uri: `runs:/${runId}/config/params.json` }],
    ]);
    expect(seen.dir).toMatchObject({ ok: true, value: DIR_FILES });
    expect(seen.dict).toMatchObject({ ok: true, value: DICT });
  });
});

describe("mlflow-reader with the plugin", () => {
  test("searches registered models (the stock signer fails on `+`), GETs with a space and with a repeated key, and reads artifacts", async () => {
    await ops("mlflow-admin", [["model", "create_registered_model", { name: "plugin model" }]]);
    const r = await ops("mlflow-reader", [
      ["models", "search_registered_models", {}],
      ["by_name", "get_experiment_by_name", { name: "plugin e2e" }],
      [
        "bulk",
        "rest_get",
        {
          endpoint: "/api/2.0/mlflow/metrics/get-history-bulk-interval",
          params: [
            ["run_ids", runId],
            ["metric_key", "loss"],
            ["run_ids", run2Id],
          ],
        },
      ],
      ["list", "list_artifacts", { run_id: runId, path: "notes" }],
      ["text", "read_artifact", { run_id: runId, path: "notes/hello world.txt" }],
      ["binary", "artifact_digest", { run_id: runId, path: "model/weights.bin" }],
    ]);
    expect(failures(r)).toEqual([]);
    expect(r.models!.value.map((m: { name: string }) => m.name)).toEqual(["plugin model"]);
    expect(r.by_name!.value.experiment_id).toBe(experimentId);
    // Both values of the repeated key arrived (and were signed: a signer that kept only one would be refused).
    const bulk = r.bulk!.value.metrics.map((m: { run_id: string; value: number }) => [m.run_id, m.value]);
    expect(bulk.sort()).toEqual(
      [
        [runId, 0.5],
        [run2Id, 0.25],
      ].sort(),
    );
    expect(r.list!.value).toEqual([expect.objectContaining({ path: "notes/hello world.txt" })]);
    expect(r.text!.value).toBe("héllo through the gate\n");
    expect(r.binary!.value.size).toBe(BINARY_SIZE);
  });

  test("reads what the admin logged with load_text, load_dict and download_artifacts of a directory", async () => {
    const r = await ops("mlflow-reader", [
      ["read_text", "load_text", { uri: `runs:/${runId}/texts/log_text.txt` }],
      ["read_dict", "load_dict", { uri: `runs:/${runId}/config/params.json` }],
      ["read_dir", "download_dir", { run_id: runId, path: "dataset" }],
    ]);
    expect(failures(r)).toEqual([]);
    expect([r.read_text!.value, r.read_dict!.value, r.read_dir!.value]).toEqual([
      "logged with log_text\n",
      DICT,
      DIR_FILES,
    ]);
  });

  test("every kind of artifact upload is denied with 403 and the gateway's message, and nothing arrives", async () => {
    const r = await ops("mlflow-reader", [
      ["up", "log_text_artifact", { run_id: runId, path: "denied/no.txt", text: "no" }],
      ["text", "log_text", { run_id: runId, text: "no", artifact_file: "denied/log_text.txt" }],
      ["dict", "log_dict", { run_id: runId, dictionary: { no: 1 }, artifact_file: "denied/d.json" }],
      ["dir", "log_dir_artifact", { run_id: runId, path: "denied", files: { "a.txt": "no" } }],
    ]);
    for (const name of ["up", "text", "dict", "dir"]) {
      expect([name, r[name]]).toEqual([
        name,
        expect.objectContaining({
          ok: false,
          status: 403,
          error: expect.stringContaining("is not authorized to perform: execute-api:Invoke on resource"),
        }),
      ]);
    }
    const seen = await ops("private", [["list", "list_artifacts", { run_id: runId, path: "denied" }]]);
    expect(seen.list).toMatchObject({ ok: true, value: [] });
  });

  test("a denied REST call reads PERMISSION_DENIED with IAM's message (the role and the action), not INTERNAL_ERROR", async () => {
    const r = await ops("mlflow-reader", [["create", "create_experiment", { name: "not-allowed" }]]);
    expect(r.create).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringMatching(
        /^PERMISSION_DENIED: User: arn:aws:iam::\d{12}:user\/mlflow-reader is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:.*\/POST\/api\/2\.0\/mlflow\/experiments\/create$/,
      ),
    });
  });
});

describe("bearer mode: a Cognito user of the local pool, no AWS credentials", () => {
  /** The plugin in bearer mode; the AWS files point nowhere, so nothing can be signed with SigV4. */
  const bearer = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...bearerEnv(t.stack), ...extra });
  const user = (name: string) => t.stack.summary.demoUsers.find((u) => u.username === name)!;

  test("reader with username and password: reads runs and artifacts; a write gets 403 with the gateway's message", async () => {
    const before = t.accessLog.length;
    const r = await ops(
      "mlflow-reader",
      [
        ["runs", "search_runs", { experiment_ids: [experimentId] }],
        ["read_dict", "load_dict", { uri: `runs:/${runId}/config/params.json` }],
        ["create", "create_experiment", { name: "bearer-denied" }],
      ],
      bearer({ MLFLOW_GATE_COGNITO_USERNAME: "reader", MLFLOW_GATE_COGNITO_PASSWORD: user("reader").password }),
    );
    expect(r.runs).toMatchObject({ ok: true });
    expect(r.runs!.value.length).toBe(2);
    expect(r.read_dict).toMatchObject({ ok: true, value: DICT });
    expect(r.create).toMatchObject({
      ok: false,
      status: 403,
      error: "PERMISSION_DENIED: User is not authorized to access this resource",
    });
    // Every request took the UI routes with the reader's token.
    const seen = t.accessLog.slice(before);
    expect(seen.length).toBeGreaterThan(2);
    expect(
      seen.filter((e) => !(e.surface === "cognito" && e.username === "reader" && e.path.startsWith("/ajax-api/"))),
    ).toEqual([]);
  });

  test("admin with a refresh token: logs a metric and a text artifact", async () => {
    const { refreshToken } = await t.stack.userPool.login("admin", user("admin").password);
    const r = await ops(
      "mlflow-admin",
      [
        ["metric", "log_metric", { run_id: run2Id, key: "bearer", value: 1.5 }],
        ["text", "log_text", { run_id: run2Id, text: "via bearer\n", artifact_file: "bearer.txt" }],
      ],
      bearer({ MLFLOW_GATE_COGNITO_REFRESH_TOKEN: refreshToken }),
    );
    expect(failures(r)).toEqual([]);
    const seen = await ops("private", [
      ["text", "load_text", { uri: `runs:/${run2Id}/bearer.txt` }],
      ["history", "get_metric_history", { run_id: run2Id, key: "bearer" }],
    ]);
    expect(seen.text).toMatchObject({ ok: true, value: "via bearer\n" });
    expect(seen.history!.value.map((m: { value: number }) => m.value)).toEqual([1.5]);
  });

  test("a wrong password fails before MLflow is called, naming the user and not the password", async () => {
    const before = t.accessLog.length;
    const r = await ops(
      "mlflow-reader",
      [["search", "search_experiments", {}]],
      bearer({ MLFLOW_GATE_COGNITO_USERNAME: "reader", MLFLOW_GATE_COGNITO_PASSWORD: "Wrong-password-123" }),
    );
    expect(r.search).toMatchObject({
      ok: false,
      error: expect.stringContaining("Cognito refused the sign-in of user reader"),
    });
    expect(r.search!.error).not.toContain("Wrong-password-123");
    expect(t.accessLog.length).toBe(before);
  });
});

describe("the plugin's errors", () => {
  test("without credentials, the SDK call fails before sending, naming what to set", async () => {
    const before = t.accessLog.length;
    const r = await ops("mlflow-reader", [["search", "search_experiments", {}]], {
      AWS_PROFILE: undefined,
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      AWS_CONFIG_FILE: "/nonexistent",
    });
    expect(r.search).toMatchObject({ ok: false, error: expect.stringContaining("found no AWS credentials") });
    expect(r.search!.error).toContain("AWS_PROFILE");
    expect(t.accessLog.length).toBe(before);
  });
});

test("every request the plugin signed verified: no SigV4 refusal in the gateway's access log", () => {
  // Runs last: the log holds every request of the tests above, all made through the plugin.
  expect(t.accessLog.length).toBeGreaterThan(10);
  const known = (e: (typeof t.accessLog)[number]) =>
    e.principal === "mlflow-admin" ||
    e.principal === "mlflow-reader" ||
    (e.surface === "cognito" && (e.username === "admin" || e.username === "reader"));
  const unexpected = t.accessLog.filter((e) => !known(e) || !(e.reason === undefined || e.reason === "not-allowed"));
  expect(unexpected).toEqual([]);
});

describe("a client built for the gateway, with no MLFLOW_TRACKING_URI (notebooks, pipelines)", () => {
  /** MlflowClient(tracking_uri=<gateway>) as a profile: a search, then an experiment created (or refused). */
  async function explicitClient(profile: string, name: string): Promise<{ searched: number; created: string }> {
    const { MLFLOW_TRACKING_URI: gateway, ...env } = pluginEnv(t.stack, profile);
    const code = [
      "import json, sys",
      "from mlflow import MlflowClient",
      "from mlflow.exceptions import MlflowException",
      "client = MlflowClient(tracking_uri=sys.argv[1])",
      "searched = len(client.search_experiments(max_results=5))",
      "try:",
      "    created = client.create_experiment(sys.argv[2])",
      "except MlflowException as e:",
      "    created = e.error_code",
      "print(json.dumps({'searched': searched, 'created': created}))",
    ].join("\n");
    const r = await runPython(["-c", code, gateway as string, name], env);
    if (r.code !== 0) throw new Error(`explicit client failed (${r.code}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout) as { searched: number; created: string };
  }

  test("MlflowClient(tracking_uri=...) is signed for its own server: the admin creates, the reader reads and is refused as PERMISSION_DENIED", async () => {
    const before = t.accessLog.length;

    const admin = await explicitClient("mlflow-admin", "explicit client");
    const reader = await explicitClient("mlflow-reader", "explicit client refused");

    expect(admin.searched).toBeGreaterThan(0);
    expect(admin.created).toMatch(/^\d+$/);
    expect(reader).toMatchObject({ created: "PERMISSION_DENIED" });
    const seen = t.accessLog.slice(before).map((e) => [e.principal, e.action, e.status]);
    expect(seen).toEqual([
      ["mlflow-admin", "SearchExperiments", 200],
      ["mlflow-admin", "CreateExperiment", 200],
      ["mlflow-reader", "SearchExperiments", 200],
      ["mlflow-reader", "CreateExperiment", 403],
    ]);
  });
});
