import { join } from "path";
import { RunningStack } from "../../gateway/stack";
import { OpResult, Plan, runPython, sdkEnv, startTestStack, TestStack } from "./support/stack";

// The real MLflow Python SDK with the repository's auth plugin (clients/python, installed editable
// into .venv): MLFLOW_TRACKING_AUTH=mlflow-gate instead of MLFLOW_TRACKING_AWS_SIGV4=true, under
// each local principal's AWS profile, against real MLflow behind the local gateway. The private
// MLflow is the witness of what arrived.

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

/** sdkEnv with the plugin in place of MLflow's stock SigV4 signer. */
function pluginEnv(stack: RunningStack, as: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { MLFLOW_TRACKING_AWS_SIGV4: _stock, ...env } = sdkEnv(stack, as);
  return { ...env, MLFLOW_TRACKING_AUTH: "mlflow-gate", ...extra };
}

/** Runs test/integration/python/plugin_ops.py (sdk_ops.py and helpers) as a profile with the plugin, or on the private MLflow. */
async function ops(as: string | "private", plan: Plan, extra: NodeJS.ProcessEnv = {}): Promise<Record<string, OpResult>> {
  const env = as === "private" ? sdkEnv(t.stack, "private") : pluginEnv(t.stack, as, extra);
  const r = await runPython([join("test", "integration", "python", "plugin_ops.py"), JSON.stringify(plan)], env);
  if (r.code !== 0) throw new Error(`plugin_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, OpResult>;
}

function failures(results: Record<string, OpResult>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${r.error}`);
}

const BINARY_SIZE = 3 * 1024 * 1024 + 17;
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
      ["text", "log_text_artifact", { run_id: "$run.run_id", path: "notes/hello world.txt", text: "héllo through the gate\n" }],
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

describe("mlflow-reader with the plugin", () => {
  test("searches registered models (the stock signer fails on `+`), GETs with a space and with a repeated key, and reads artifacts", async () => {
    await ops("mlflow-admin", [["model", "create_registered_model", { name: "plugin model" }]]);
    const r = await ops("mlflow-reader", [
      ["models", "search_registered_models", {}],
      ["by_name", "get_experiment_by_name", { name: "plugin e2e" }],
      ["bulk", "rest_get", { endpoint: "/api/2.0/mlflow/metrics/get-history-bulk-interval", params: [["run_ids", runId], ["metric_key", "loss"], ["run_ids", run2Id]] }],
      ["list", "list_artifacts", { run_id: runId, path: "notes" }],
      ["text", "read_artifact", { run_id: runId, path: "notes/hello world.txt" }],
      ["binary", "artifact_digest", { run_id: runId, path: "model/weights.bin" }],
    ]);
    expect(failures(r)).toEqual([]);
    expect(r.models!.value.map((m: { name: string }) => m.name)).toEqual(["plugin model"]);
    expect(r.by_name!.value.experiment_id).toBe(experimentId);
    // Both values of the repeated key arrived (and were signed: a signer that kept only one would be refused).
    const bulk = r.bulk!.value.metrics.map((m: { run_id: string; value: number }) => [m.run_id, m.value]);
    expect(bulk.sort()).toEqual([[runId, 0.5], [run2Id, 0.25]].sort());
    expect(r.list!.value).toEqual([expect.objectContaining({ path: "notes/hello world.txt" })]);
    expect(r.text!.value).toBe("héllo through the gate\n");
    expect(r.binary!.value.size).toBe(BINARY_SIZE);
  });

  test("an artifact upload is denied with 403 and the gateway's message, and nothing arrives", async () => {
    const r = await ops("mlflow-reader", [["up", "log_text_artifact", { run_id: runId, path: "denied/no.txt", text: "no" }]]);
    expect(r.up).toMatchObject({ ok: false, status: 403, error: expect.stringContaining("User is not authorized to access this resource") });
    const seen = await ops("private", [["list", "list_artifacts", { run_id: runId, path: "denied" }]]);
    expect(seen.list).toMatchObject({ ok: true, value: [] });
  });

  test("a denied REST call reads PERMISSION_DENIED with the gateway's message, not INTERNAL_ERROR", async () => {
    const r = await ops("mlflow-reader", [["create", "create_experiment", { name: "not-allowed" }]]);
    expect(r.create).toMatchObject({ ok: false, status: 403, error: "PERMISSION_DENIED: User is not authorized to access this resource" });
  });
});

test("the plugin's unit tests pass (clients/python/tests: signing, bodies, other hosts, config, role assumption; no network)", async () => {
  const r = await runPython(["-m", "unittest", "discover", "-s", join("clients", "python", "tests")], { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONWARNINGS: "ignore", MLFLOW_DISABLE_TELEMETRY: "true" });
  expect({ code: r.code, tail: r.stderr.split("\n").slice(-4).join("\n") }).toMatchObject({ code: 0, tail: expect.stringMatching(/^OK$/m) });
});

describe("the plugin's errors", () => {
  test("without credentials, the SDK call fails before sending, naming what to set", async () => {
    const before = t.accessLog.length;
    const r = await ops("mlflow-reader", [["search", "search_experiments", {}]], { AWS_PROFILE: undefined, AWS_SHARED_CREDENTIALS_FILE: "/nonexistent", AWS_CONFIG_FILE: "/nonexistent" });
    expect(r.search).toMatchObject({ ok: false, error: expect.stringContaining("found no AWS credentials") });
    expect(r.search!.error).toContain("AWS_PROFILE");
    expect(t.accessLog.length).toBe(before);
  });
});

test("every request the plugin signed verified: no SigV4 refusal in the gateway's access log", () => {
  // Runs last: the log holds every request of the tests above, all made through the plugin.
  expect(t.accessLog.length).toBeGreaterThan(10);
  const unexpected = t.accessLog.filter((e) => !(e.principal === "mlflow-admin" || e.principal === "mlflow-reader") || !(e.reason === undefined || e.reason === "not-allowed"));
  expect(unexpected).toEqual([]);
});
