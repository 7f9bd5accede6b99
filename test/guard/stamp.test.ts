import { RouteCatalog } from "../../authorizer/core/catalog";
import { loadRouteCatalog } from "../../authorizer/load-policies";
import { JsonObject } from "../../guard/json-body";
import { hasStampRules, STAMP_RULES, stampBody, USER_TAG } from "../../guard/stamp";
import { CATALOG_FILE } from "../../project/paths";

const ME = "user/mlflow-admin";
const rewritten = (action: string, body: JsonObject) => {
  const out = stampBody(action, body, ME);
  if (out.kind !== "rewritten") throw new Error(`expected a rewrite, got ${JSON.stringify(out)}`);
  return out.body;
};
const refusal = (action: string, body: JsonObject) => {
  const out = stampBody(action, body, ME);
  if (out.kind !== "refused") throw new Error(`expected a refusal, got ${JSON.stringify(out)}`);
  return out.message;
};

describe("the rules and the catalog", () => {
  let catalog: RouteCatalog;
  beforeAll(() => {
    catalog = loadRouteCatalog(CATALOG_FILE);
  });

  test("every action a rule names is a route of the pinned MLflow (a renamed RPC fails here)", () => {
    const actions = new Set(catalog.routes.map((r) => r.action));
    const unknown = STAMP_RULES.flatMap((r) => r.actions).filter((a) => !actions.has(a));
    expect(unknown).toEqual([]);
  });

  test("no rule applies to a read", () => {
    const reads = catalog.routes.filter((r) => r.class === "read" && hasStampRules(r.action)).map((r) => r.action);
    expect(reads).toEqual([]);
  });
});

describe("runs", () => {
  test("CreateRun: user_id and the mlflow.user tag name the caller, whatever was claimed, under either spelling", () => {
    // Act
    const body = rewritten("CreateRun", {
      experiment_id: "1",
      userId: "somebody-else",
      tags: [
        { key: "mlflow.source.name", value: "train.py" },
        { key: USER_TAG, value: "somebody-else" },
        { key: USER_TAG, value: "a-second-claim" },
      ],
    });

    // Assess
    expect(body).toEqual({
      user_id: ME,
      tags: [
        { key: USER_TAG, value: ME },
        { key: "mlflow.source.name", value: "train.py" },
      ],
      experiment_id: "1",
    });
  });

  // MLflow's ParseDict stops at the first bad field and keeps only the fields before it.
  test("CreateRun: the stamped fields come first, so a bad field after them cannot drop them", () => {
    const body = rewritten("CreateRun", { start_time: "not-a-number", user_id: "x", tags: [] });
    expect(Object.keys(body).slice(0, 2)).toEqual(["user_id", "tags"]);
  });

  test("CreateRun: a malformed tag, which would drop the tags after it, is refused", () => {
    expect(refusal("CreateRun", { tags: [{ key: "a", value: 1 }] })).toMatch(/tags must be/);
    expect(refusal("CreateRun", { tags: "mlflow.user=x" })).toMatch(/tags must be/);
  });

  test("CreateRun without tags gains the creator tag", () => {
    expect(rewritten("CreateRun", { experiment_id: "1" }).tags).toEqual([{ key: USER_TAG, value: ME }]);
  });

  test("SetTag, DeleteTag and LogBatch may not touch mlflow.user; other tags pass unchanged", () => {
    expect(refusal("SetTag", { run_id: "r", key: USER_TAG, value: ME })).toMatch(/cannot be set, changed or deleted/);
    expect(refusal("DeleteTag", { run_id: "r", key: USER_TAG })).toMatch(/cannot/);
    expect(refusal("LogBatch", { run_id: "r", tags: [{ key: USER_TAG, value: "x" }] })).toMatch(/cannot/);
    expect(stampBody("SetTag", { run_id: "r", key: "team", value: "a" }, ME)).toEqual({ kind: "unchanged" });
    expect(stampBody("LogBatch", { run_id: "r", metrics: [{ key: "loss", value: 1 }] }, ME)).toEqual({
      kind: "unchanged",
    });
  });
});

describe("registered models and versions", () => {
  test("are created with a tag naming their creator; the tag cannot be changed afterwards", () => {
    expect(rewritten("CreateRegisteredModel", { name: "m", tags: [{ key: USER_TAG, value: "x" }] }).tags).toEqual([
      { key: USER_TAG, value: ME },
    ]);
    expect(rewritten("CreateModelVersion", { name: "m", source: "s3://b/k" }).tags).toEqual([
      { key: USER_TAG, value: ME },
    ]);
    for (const action of [
      "SetRegisteredModelTag",
      "SetModelVersionTag",
      "DeleteRegisteredModelTag",
      "DeleteModelVersionTag",
    ]) {
      expect(refusal(action, { name: "m", version: "1", key: USER_TAG, value: "x" })).toMatch(/cannot/);
    }
  });
});

describe("traces", () => {
  test("StartTraceV3: metadata and tags name the caller; a HUMAN assessment's source is the caller, a judge's is kept", () => {
    const body = rewritten("StartTraceV3", {
      trace: {
        traceInfo: {
          trace_id: "tr-1",
          trace_metadata: { [USER_TAG]: "x", "mlflow.trace.user": "end-user-7" },
          tags: { team: "a" },
          assessments: [
            { source: { source_type: "HUMAN", source_id: "somebody" } },
            { source: { sourceType: "LLM_JUDGE", sourceId: "judge-1" } },
          ],
        },
      },
    });
    const info = (body.trace as JsonObject).trace_info as JsonObject;
    expect(info.trace_metadata).toEqual({ [USER_TAG]: ME, "mlflow.trace.user": "end-user-7" });
    expect(info.tags).toEqual({ [USER_TAG]: ME, team: "a" });
    expect(info.assessments).toEqual([
      { source: { source_id: ME, source_type: "HUMAN" } },
      { source: { sourceType: "LLM_JUDGE", sourceId: "judge-1" } },
    ]);
    expect((body.trace as JsonObject).traceInfo).toBeUndefined();
  });

  test("StartTraceV3: MLflow's gateway trust keys may not be sent", () => {
    expect(
      refusal("StartTraceV3", { trace: { trace_info: { trace_metadata: { "mlflow.auth.username": "admin" } } } }),
    ).toMatch(/mlflow.auth.username/);
  });

  test("StartTrace (v2) stamps its lists; EndTrace and the tag routes may not touch mlflow.user", () => {
    expect(rewritten("StartTrace", { request_metadata: [{ key: USER_TAG, value: "x" }] })).toMatchObject({
      request_metadata: [{ key: USER_TAG, value: ME }],
      tags: [{ key: USER_TAG, value: ME }],
    });
    expect(refusal("EndTrace", { request_metadata: [{ key: USER_TAG, value: "x" }] })).toMatch(/cannot/);
    for (const action of ["SetTraceTag", "SetTraceTagV3", "DeleteTraceTag", "DeleteTraceTagV3"]) {
      expect(refusal(action, { key: USER_TAG })).toMatch(/cannot/);
    }
  });

  test("CreateAssessment: a HUMAN source is the caller", () => {
    expect(rewritten("CreateAssessment", { assessment: { source: { source_type: "HUMAN", source_id: "x" } } })).toEqual(
      {
        assessment: { source: { source_id: ME, source_type: "HUMAN" } },
      },
    );
    expect(
      stampBody("CreateAssessment", { assessment: { source: { source_type: "CODE", source_id: "x" } } }, ME),
    ).toEqual({
      kind: "unchanged",
    });
  });
});

describe("datasets, issues, review queues, the AI gateway, jobs", () => {
  test("dataset tags and records (JSON in strings) name the caller", () => {
    expect(
      JSON.parse(rewritten("CreateDataset", { name: "d", tags: '{"mlflow.user":"x","k":"v"}' }).tags as string),
    ).toEqual({
      [USER_TAG]: ME,
      k: "v",
    });
    const records = JSON.parse(
      rewritten("UpsertDatasetRecords", { records: '[{"inputs":{}},{"tags":{"mlflow.user":"x"}}]' }).records as string,
    );
    expect(records.map((r: JsonObject) => r.tags)).toEqual([{ [USER_TAG]: ME }, { [USER_TAG]: ME }]);
    expect(refusal("UpsertDatasetRecords", { records: "{" })).toMatch(/JSON list/);
    expect(refusal("SetDatasetTags", { tags: '{"mlflow.user":"x"}' })).toMatch(/cannot/);
  });

  test("created_by, updated_by, completed_by and a job's username are the caller", () => {
    expect(rewritten("CreateIssue", { createdBy: "x", name: "i" })).toEqual({ created_by: ME, name: "i" });
    expect(rewritten("CreateGatewaySecret", { secret_name: "s" }).created_by).toBe(ME);
    expect(rewritten("UpdateGatewaySecret", { secret_id: "s" }).updated_by).toBe(ME);
    expect(rewritten("SetReviewQueueItemStatus", { status: "COMPLETE", completed_by: "x" }).completed_by).toBe(ME);
    expect(rewritten("SetReviewQueueItemStatus", { status: "PENDING", completed_by: "x" })).toEqual({
      status: "PENDING",
    });
    expect(rewritten("SubmitJob", { job_name: "invoke_scorer", params: { username: "admin", x: 1 } })).toEqual({
      params: { username: ME, x: 1 },
      job_name: "invoke_scorer",
    });
  });

  test("actions without rules are left alone", () => {
    expect(hasStampRules("SearchRuns")).toBe(false);
    expect(stampBody("SearchRuns", { user_id: "x" }, ME)).toEqual({ kind: "unchanged" });
  });
});
