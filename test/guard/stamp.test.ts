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

describe("logged models", () => {
  test("are created with the creator tag naming the caller; it cannot be set or deleted afterwards", () => {
    expect(
      rewritten("CreateLoggedModel", { experiment_id: "1", tags: [{ key: USER_TAG, value: "someone-else" }] }).tags,
    ).toEqual([{ key: USER_TAG, value: ME }]);
    expect(refusal("SetLoggedModelTags", { tags: [{ key: USER_TAG, value: "x" }] })).toMatch(/cannot/);
    expect(stampBody("SetLoggedModelTags", { tags: [{ key: "stage", value: "x" }] }, ME)).toEqual({
      kind: "unchanged",
    });
  });

  test("a tag deleted by a key in the path: the creator tag is refused, others pass", () => {
    // Act
    const creator = stampBody("DeleteLoggedModelTag", {}, ME, { model_id: "m-1", tag_key: USER_TAG });
    const other = stampBody("DeleteLoggedModelTag", {}, ME, { model_id: "m-1", tag_key: "stage" });
    const dataset = stampBody("DeleteDatasetTag", {}, ME, { dataset_id: "d-1", key: USER_TAG });

    // Assess
    expect(creator).toMatchObject({ kind: "refused" });
    expect(other).toEqual({ kind: "unchanged" });
    expect(dataset).toMatchObject({ kind: "refused" });
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

  test.each([
    ["StartTrace", "request_metadata"],
    ["StartTrace", "requestMetadata"],
    ["EndTrace", "request_metadata"],
    ["EndTrace", "requestMetadata"],
  ])("%s (v2): MLflow's gateway trust keys may not be sent in %s", (action, field) => {
    for (const key of ["mlflow.gateway.endpointId", "mlflow.auth.userId", "mlflow.gateway.caller"]) {
      expect(refusal(action, { [field]: [{ key, value: "e-1" }] })).toMatch(/MLflow's own/);
    }
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

  test("an assessment's source type given as its number is read as MLflow reads it", () => {
    expect(rewritten("CreateAssessment", { assessment: { source: { sourceType: 1, sourceId: "x" } } })).toEqual({
      assessment: { source: { source_id: ME, sourceType: 1 } },
    });
    expect(stampBody("CreateAssessment", { assessment: { source: { source_type: 2, source_id: "j" } } }, ME)).toEqual({
      kind: "unchanged",
    });
  });

  // MLflow's JSON parser reads any of these as HUMAN (int() of it is 1), or as another type; the guard
  // cannot tell which without reading it as loosely, so it refuses them.
  test.each([["1"], [" 1"], ["+1"], ["01"], [true], [1.5], ["human"], [-1], [4], [{}]])(
    "a source type of %j is refused, in CreateAssessment and in StartTraceV3",
    (sourceType) => {
      const source = { source_type: sourceType, source_id: "someone-else" } as JsonObject;
      expect(refusal("CreateAssessment", { assessment: { source } })).toMatch(/source_type must be one of/);
      expect(refusal("StartTraceV3", { trace: { trace_info: { assessments: [{ source }] } } })).toMatch(
        /source_type must be one of/,
      );
    },
  );
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
    expect(refusal("UpsertDatasetRecords", { records: '[{"tags":"x"}]' })).toMatch(/JSON list/);
    expect(refusal("SetDatasetTags", { tags: '{"mlflow.user":"x"}' })).toMatch(/cannot/);
  });

  test("a record's members other than its tags reach MLflow as written (MLflow hashes its inputs)", () => {
    // Arrange: a float written 1.0, an integer beyond 2^53, an escaped key, a string holding brackets,
    // and two tags members (Python keeps the last).
    const records =
      '[ {"inputs": {"x": 1.0, "big": 12345678901234567890, "s": "]}{["},' +
      ' "t\\u0061gs": {"mlflow.user": "eve"}, "tags": {"k": "v"}, "expectations": [1e400]} ,{}]';

    // Act
    const out = rewritten("UpsertDatasetRecords", { records }).records as string;

    // Assess
    expect(out).toBe(
      `[{"tags":{"mlflow.user":"${ME}","k":"v"},"inputs":{"x": 1.0, "big": 12345678901234567890, "s": "]}{["},` +
        `"expectations":[1e400]},{"tags":{"mlflow.user":"${ME}"}}]`,
    );
  });

  test("dataset tags written afresh may not hold an integer beyond 2^53; SetDatasetTags, which only reads them, may", () => {
    expect(refusal("CreateDataset", { name: "d", tags: '{"n":12345678901234567890}' })).toMatch(/JSON object/);
    expect(stampBody("SetDatasetTags", { tags: '{"n":12345678901234567890}' }, ME)).toEqual({ kind: "unchanged" });
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
