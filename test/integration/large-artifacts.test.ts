import { statSync } from "fs";
import { join } from "path";
import { ARTIFACT_PREFIX } from "../../authorizer/core/contract";
import { s3Directory } from "../../local/s3-emulator";
import { OpResult, Plan, pluginOps, startTestStack, TestStack } from "./support/stack";

// Artifacts of real size, through the local stack with the gateway enforcing API Gateway's 10 MB
// payload limit: the real MLflow SDK with the plugin uploads large files in parts to presigned URLs of
// the S3 emulator (which MLflow hands out on `mlflow-artifacts/mpu/create`, a write route) and downloads
// them through presigned URLs (`mlflow-artifacts/presigned`, a read route). The bytes never cross the
// gateway; who gets a URL is still the gateway's route decision.

const MB = 1024 * 1024;
const RUN_ARTIFACT = 200 * MB;
/** The registered model's weight files: 112 MB together. */
const MODEL_FILES = [64 * MB, 48 * MB];
const REFUSED_SIZES = { large: 20 * MB, small: 1 * MB };

let t: TestStack;
const name = `large-artifacts-${Date.now()}`;
let experimentId: string;
let runId: string;
let uploaded: { sha256: string; size: number };
let model: { version: string; files: Record<string, { sha256: string; size: number }> };

function ops(as: string, plan: Plan, extra: NodeJS.ProcessEnv = {}): Promise<Record<string, OpResult>> {
  return pluginOps(t.stack, as, plan, extra);
}

function ok(r: OpResult | undefined): unknown {
  if (!r?.ok) throw new Error(`operation failed: ${r?.error}`);
  return r.value;
}

beforeAll(async () => {
  t = await startTestStack();
  const r = await ops("mlflow-admin", [
    ["exp", "create_experiment", { name }],
    ["run", "create_run", { experiment_id: "$exp" }],
    ["big", "log_large_artifact", { run_id: "$run.run_id", path: "model/weights.bin", size: RUN_ARTIFACT }],
    ["model", "log_large_model", { experiment_id: "$exp", name, sizes: MODEL_FILES }],
  ]);
  experimentId = ok(r.exp) as string;
  runId = (ok(r.run) as { run_id: string }).run_id;
  uploaded = ok(r.big) as typeof uploaded;
  model = ok(r.model) as typeof model;
}, 600_000);
afterAll(async () => {
  await t?.stop();
});

describe("an admin logs large artifacts with the plugin", () => {
  test("a 200 MB run artifact and a model version of 112 MB arrive whole in the S3 emulator's bucket", () => {
    expect(uploaded.size).toBe(RUN_ARTIFACT);
    // MLflow's key is <experiment id>/<run id>/artifacts/<path> under the prefix; the emulator keeps each object as that file.
    const prefix = join(s3Directory(t.config.dataDir), t.stack.summary.s3.bucket, ARTIFACT_PREFIX);
    expect(statSync(join(prefix, experimentId, runId, "artifacts", "model", "weights.bin")).size).toBe(RUN_ARTIFACT);
    expect(Object.values(model.files).reduce((n, f) => n + f.size, 0)).toBeGreaterThan(100 * MB);
  });

  test("the bytes went to presigned S3 URLs: mpu/create and mpu/complete crossed the gateway, no artifact PUT did", () => {
    const admin = t.accessLog.filter((e) => e.principal === "mlflow-admin");
    const artifactWrites = admin.filter((e) => /\/mlflow-artifacts\/(artifacts|mpu)\//.test(e.path));
    expect(artifactWrites.filter((e) => e.path.includes("/mpu/create/")).map((e) => e.status)).toEqual([200, 200, 200]);
    expect(artifactWrites.filter((e) => e.path.includes("/mpu/complete/")).map((e) => e.status)).toEqual([
      200, 200, 200,
    ]);
    // The model's small files (MLmodel, the pickled class, requirements) are ordinary PUTs; no weights file is.
    const puts = artifactWrites.filter((e) => e.method === "PUT");
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.filter((e) => /weights/.test(e.path))).toEqual([]);
  });
});

describe("a reader downloads them byte-identical and cannot upload", () => {
  test("the run artifact and the registered version's files, through presigned URLs", async () => {
    const r = await ops("mlflow-reader", [
      ["big", "large_artifact_digest", { run_id: runId, path: "model/weights.bin" }],
      ["model", "large_model_digests", { name, version: model.version }],
    ]);
    expect(ok(r.big)).toMatchObject({ sha256: uploaded.sha256, size: uploaded.size });
    expect(ok(r.model)).toEqual(model.files);
    const reader = t.accessLog.filter((e) => e.principal === "mlflow-reader");
    const presigned = reader.filter((e) => e.path.includes("/mlflow-artifacts/presigned/"));
    // One URL per file: the run artifact, and each file of the model (its weights, MLmodel, the environment files).
    expect(presigned.length).toBeGreaterThanOrEqual(3);
    expect(presigned.filter((e) => e.status !== 200)).toEqual([]);
    expect(reader.filter((e) => e.method === "GET" && /\/mlflow-artifacts\/artifacts\/.*weights/.test(e.path))).toEqual(
      [],
    );
  }, 300_000);

  test.each(Object.entries(REFUSED_SIZES))(
    "a %s file is refused with 403 before any byte is sent, and nothing arrives",
    async (_, size) => {
      const r = await ops("mlflow-reader", [
        ["up", "log_large_artifact", { run_id: runId, path: `reader/${size}.bin`, size }],
        ["list", "list_artifacts", { run_id: runId, path: "reader" }],
      ]);
      expect(r.up).toMatchObject({ ok: false, status: 403 });
      expect(r.up?.error).toMatch(/not authorized to perform: execute-api:Invoke/);
      expect(ok(r.list)).toEqual([]);
    },
    120_000,
  );
});

describe("a model approver reads but cannot upload run artifacts", () => {
  test("downloads the registered version byte-identical", async () => {
    const r = await ops("mlflow-model-approver", [["model", "large_model_digests", { name, version: model.version }]]);
    expect(ok(r.model)).toEqual(model.files);
  }, 300_000);

  test.each(Object.entries(REFUSED_SIZES))(
    "a %s run artifact is refused with 403",
    async (_, size) => {
      const r = await ops("mlflow-model-approver", [
        ["up", "log_large_artifact", { run_id: runId, path: `approver/${size}.bin`, size }],
        ["list", "list_artifacts", { run_id: runId, path: "approver" }],
      ]);
      expect(r.up).toMatchObject({ ok: false, status: 403 });
      expect(ok(r.list)).toEqual([]);
    },
    120_000,
  );
});

describe("the gateway's 10 MB limit is what makes this necessary", () => {
  test("with proxied multipart upload turned off, a 20 MB upload goes through the API and gets API Gateway's 413", async () => {
    const r = await ops(
      "mlflow-admin",
      [["up", "log_large_artifact", { run_id: runId, path: "through-the-api/20mb.bin", size: 20 * MB }]],
      { MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: "false" },
    );
    expect(r.up).toMatchObject({ ok: false, status: 413 });
  }, 120_000);
});
