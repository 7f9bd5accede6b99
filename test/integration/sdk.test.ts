import { OpResult, Plan, signedRequest, startTestStack, TestStack } from "./support/stack";

// The real MLflow Python SDK, signing with SigV4 (MLFLOW_TRACKING_AWS_SIGV4=true) under each local
// principal's AWS profile, against real MLflow behind the local gateway. The private MLflow is the
// witness that denied writes changed nothing.

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const MODEL = "e2e-model";

function failures(results: Record<string, OpResult>, names: readonly string[]): string[] {
  return names.filter((n) => !results[n]?.ok).map((n) => `${n}: ${results[n]?.error}`);
}

/** Each of these must have been refused by the gateway with a 403. */
function expectDenied(results: Record<string, OpResult>, names: readonly string[]): void {
  const wrong = names
    .filter((n) => results[n]?.ok !== false || results[n]?.status !== 403)
    .map((n) => `${n}: ${JSON.stringify(results[n]).slice(0, 300)}`);
  expect(wrong).toEqual([]);
}

const WRITE_ATTEMPTS = (runId: string, experimentId: string): Plan => [
  ["w_create_experiment", "create_experiment", { name: "not-allowed" }],
  ["w_create_run", "create_run", { experiment_id: experimentId }],
  ["w_log_param", "log_param", { run_id: runId, key: "p_denied", value: "1" }],
  ["w_log_metric", "log_metric", { run_id: runId, key: "m_denied", value: 1 }],
  [
    "w_log_batch",
    "log_batch_kv",
    { run_id: runId, params: { p_batch: 1 }, metrics: { m_batch: 1 }, tags: { t_batch: 1 } },
  ],
  ["w_set_tag", "set_tag", { run_id: runId, key: "t_denied", value: "1" }],
  ["w_delete_run", "delete_run", { run_id: runId }],
  ["w_rename_experiment", "rename_experiment", { experiment_id: experimentId, new_name: "renamed" }],
  ["w_delete_experiment", "delete_experiment", { experiment_id: experimentId }],
];

const REGISTRY_ATTEMPTS = (runId: string): Plan => [
  ["r_create_model", "create_registered_model", { name: "approved-model" }],
  ["r_create_version", "create_model_version", { name: MODEL, source: `runs:/${runId}/model`, run_id: runId }],
  ["r_update_version", "update_model_version", { name: MODEL, version: "1", description: "reviewed" }],
  ["r_version_tag", "set_model_version_tag", { name: MODEL, version: "1", key: "review", value: "passed" }],
  ["r_model_tag", "set_registered_model_tag", { name: MODEL, key: "owner", value: "risk" }],
  ["r_transition", "transition_model_version_stage", { name: MODEL, version: "1", stage: "Staging" }],
  ["r_set_alias", "set_registered_model_alias", { name: MODEL, alias: "challenger", version: "1" }],
  ["r_delete_alias", "delete_registered_model_alias", { name: MODEL, alias: "challenger" }],
];

let experimentId: string;
let runId: string;

describe("mlflow-admin", () => {
  test("creates an experiment and runs, logs params, metrics and a batch, tags, registers, promotes, aliases, deletes a run", async () => {
    const r = await t.sdk("mlflow-admin", [
      ["exp", "create_experiment", { name: "e2e" }],
      ["run", "create_run", { experiment_id: "$exp" }],
      ["doomed", "create_run", { experiment_id: "$exp" }],
      ["param", "log_param", { run_id: "$run.run_id", key: "lr", value: "0.01" }],
      ["metric", "log_metric", { run_id: "$run.run_id", key: "loss", value: 0.5, step: 1 }],
      [
        "batch",
        "log_batch_kv",
        { run_id: "$run.run_id", params: { epochs: 3 }, metrics: { acc: 0.9 }, tags: { stage: "dev" } },
      ],
      ["tag", "set_tag", { run_id: "$run.run_id", key: "team", value: "risk" }],
      ["exp_tag", "set_experiment_tag", { experiment_id: "$exp", key: "owner", value: "platform" }],
      ["model", "create_registered_model", { name: MODEL }],
      ["version", "create_model_version", { name: MODEL, source: "runs:/${run.run_id}/model", run_id: "$run.run_id" }],
      ["stage", "transition_model_version_stage", { name: MODEL, version: "1", stage: "Staging" }],
      ["alias", "set_registered_model_alias", { name: MODEL, alias: "champion", version: "1" }],
      ["delete", "delete_run", { run_id: "$doomed.run_id" }],
    ]);
    expect(failures(r, Object.keys(r))).toEqual([]);
    experimentId = r.exp!.value;
    runId = r.run!.value.run_id;
    // Assess on the private MLflow: the writes arrived
    const seen = await t.sdk("private", [["s", "snapshot", {}]]);
    const exp = seen.s!.value.experiments.find((e: { name: string }) => e.name === "e2e");
    expect(exp.runs.find((x: { id: string }) => x.id === runId)).toMatchObject({
      params: { lr: "0.01", epochs: "3" },
      metrics: { loss: 0.5, acc: 0.9 },
      tags: { team: "risk", stage: "dev" },
    });
    expect(exp.runs.find((x: { id: string }) => x.id === r.doomed!.value.run_id).lifecycle).toBe("deleted");
    expect(seen.s!.value.models[0]).toMatchObject({
      name: MODEL,
      aliases: { champion: "1" },
      versions: [{ v: "1", stage: "Staging" }],
    });
  });
});

describe("mlflow-reader", () => {
  test("every search and get works", async () => {
    const r = await t.sdk("mlflow-reader", [
      ["search_experiments", "search_experiments", {}],
      ["get_experiment", "get_experiment", { experiment_id: experimentId }],
      ["get_experiment_by_name", "get_experiment_by_name", { name: "e2e" }],
      ["search_runs", "search_runs", { experiment_ids: [experimentId] }],
      ["get_run", "get_run", { run_id: runId }],
      ["metric_history", "get_metric_history", { run_id: runId, key: "loss" }],
      ["get_model", "get_registered_model", { name: MODEL }],
      ["search_versions", "search_model_versions", { filter_string: `name='${MODEL}'` }],
      ["get_version", "get_model_version", { name: MODEL, version: "1" }],
      ["latest_versions", "get_latest_versions", { name: MODEL }],
      ["by_alias", "get_model_version_by_alias", { name: MODEL, alias: "champion" }],
      ["download_uri", "get_model_version_download_uri", { name: MODEL, version: "1" }],
      ["list_artifacts", "list_artifacts", { run_id: runId }],
      ["search_traces", "search_traces", { locations: [experimentId] }],
    ]);
    expect(failures(r, Object.keys(r))).toEqual([]);
    expect(r.get_run!.value.run_id).toBe(runId);
    expect(r.get_model!.value.name).toBe(MODEL);
  });

  test("the stock SigV4 signer cannot search registered models: it signs the raw query, `+` for spaces included", async () => {
    // MLflow's search_registered_models always filters out prompts: `tag.`mlflow.prompt.is_prompt` != 'true'`,
    // which requests send with `+` for spaces. requests-auth-aws-sigv4 signs that raw `+`, which is no
    // canonical form under any reading (AWS reads it as a space, %20), so API Gateway refuses the signature.
    const r = await t.sdk("mlflow-reader", [["search_models", "search_registered_models", {}]]);
    expect(r.search_models).toMatchObject({
      ok: false,
      status: 403,
      error: expect.stringContaining("The request signature we calculated does not match"),
    });
    // The same search with spaces sent as %20, signed by botocore, is a reader's to make (narrowed to this
    // file's model: other files on the shared stack register theirs).
    const filter = `name = '${MODEL}' AND tag.\`mlflow.prompt.is_prompt\` != 'true'`;
    const query = `filter=${encodeURIComponent(filter).replace(/[!']/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}&max_results=100`;
    const signed = await signedRequest(t, "mlflow-reader", "GET", `/api/2.0/mlflow/registered-models/search?${query}`);
    expect(signed.status).toBe(200);
    expect(JSON.parse(signed.body).registered_models).toEqual([expect.objectContaining({ name: MODEL })]);
  });

  test("every write fails with 403, and nothing changed in MLflow", async () => {
    const before = await t.sdk("private", [["s", "snapshot", {}]]);
    const r = await t.sdk("mlflow-reader", [
      ...WRITE_ATTEMPTS(runId, experimentId),
      ...REGISTRY_ATTEMPTS(runId),
      ["r_delete_model", "delete_registered_model", { name: MODEL }],
    ]);
    expectDenied(r, Object.keys(r));
    const after = await t.sdk("private", [["s", "snapshot", {}]]);
    expect(after.s!.value).toEqual(before.s!.value);
  });
});

describe("mlflow-model-approver", () => {
  test("run and experiment writes and model deletions fail with 403, and nothing changed", async () => {
    const before = await t.sdk("private", [["s", "snapshot", {}]]);
    const r = await t.sdk("mlflow-model-approver", [
      ...WRITE_ATTEMPTS(runId, experimentId),
      ["d_version", "delete_model_version", { name: MODEL, version: "1" }],
      ["d_model", "delete_registered_model", { name: MODEL }],
    ]);
    expectDenied(r, Object.keys(r));
    const after = await t.sdk("private", [["s", "snapshot", {}]]);
    expect(after.s!.value).toEqual(before.s!.value);
  });

  test("the registry actions succeed", async () => {
    const r = await t.sdk("mlflow-model-approver", REGISTRY_ATTEMPTS(runId));
    expect(failures(r, Object.keys(r))).toEqual([]);
    const seen = await t.sdk("private", [["s", "snapshot", {}]]);
    expect(seen.s!.value.models.find((m: { name: string }) => m.name === MODEL)).toMatchObject({
      tags: { owner: "risk" },
      aliases: {},
      versions: [{ v: "1", stage: "Staging", tags: { review: "passed" }, description: "reviewed" }, { v: "2" }],
    });
  });
});

describe("artifacts through SigV4 (mlflow#15051)", () => {
  test("the pinned SDK cannot send an artifact upload with its stock SigV4 signer: it fails before sending", async () => {
    const r = await t.sdk("mlflow-admin", [
      ["up", "log_text_artifact", { run_id: runId, path: "notes/hello.txt", text: "hello" }],
    ]);
    // requests-auth-aws-sigv4 calls .encode() on the request body, which for an upload is a file object.
    expect(r.up).toMatchObject({
      ok: false,
      status: null,
      error: expect.stringContaining("'_io.BufferedReader' object has no attribute 'encode'"),
    });
    expect(t.accessLog.filter((e) => e.method === "PUT")).toEqual([]);
  });

  test("readers download artifacts; signed uploads are allowed to admins and denied to readers", async () => {
    await t.sdk("private", [["seed", "log_text_artifact", { run_id: runId, path: "seed/readme.txt", text: "seeded" }]]);
    const reader = await t.sdk("mlflow-reader", [
      ["list", "list_artifacts", { run_id: runId, path: "seed" }],
      ["read", "read_artifact", { run_id: runId, path: "seed/readme.txt" }],
    ]);
    expect(reader.read).toMatchObject({ ok: true, value: "seeded" });
    expect(reader.list!.value).toEqual([expect.objectContaining({ path: "seed/readme.txt" })]);
    // The upload the SDK would send, signed with a signer that hashes the file body (botocore's).
    const path = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/signed/upload.txt`;
    expect((await signedRequest(t, "mlflow-reader", "PUT", path, "denied")).status).toBe(403);
    expect((await signedRequest(t, "mlflow-admin", "PUT", path, "uploaded")).status).toBe(200);
    const back = await t.sdk("mlflow-reader", [
      ["read", "read_artifact", { run_id: runId, path: "signed/upload.txt" }],
    ]);
    expect(back.read).toMatchObject({ ok: true, value: "uploaded" });
  });
});
