import { buildAuditRecord, requestResources, responseResources } from "../../guard/audit";

describe("requestResources", () => {
  test("reads ids from the body, the query and the path, under either spelling", () => {
    expect(
      requestResources(
        { path: "/api/2.0/mlflow/model-versions/transition-stage" },
        "/api/2.0/mlflow/model-versions/transition-stage",
        new URLSearchParams(),
        { name: "churn", version: "3", stage: "Production" },
      ),
    ).toEqual({ model: "churn", version: "3", stage: "Production" });
    expect(
      requestResources(
        { path: "/api/2.0/mlflow-artifacts/artifacts/{artifact_path+}" },
        "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model.pkl",
        new URLSearchParams("run_id=r1"),
        undefined,
      ),
    ).toEqual({ run: "r1", artifactPath: "1/abc/artifacts/model.pkl" });
    expect(
      requestResources(undefined, "/api/2.0/mlflow/experiments/create", new URLSearchParams(), {
        name: "demo",
        runId: "r",
      }),
    ).toEqual({ experimentName: "demo", run: "r" });
  });
});

describe("responseResources", () => {
  test("reads the ids MLflow assigned", () => {
    expect(responseResources({ run: { info: { run_id: "r", experiment_id: "1" } } })).toEqual({
      run: "r",
      experiment: "1",
    });
    expect(responseResources({ model_version: { name: "m", version: "2", current_stage: "None" } })).toEqual({
      model: "m",
      version: "2",
      stage: "None",
    });
    expect(responseResources([1])).toEqual({});
  });
});

test("buildAuditRecord names the caller, where they called from, and the outcome", () => {
  const r = buildAuditRecord({
    now: new Date("2026-01-01T00:00:00Z"),
    requestId: "req",
    caller: {
      surface: "cognito",
      principal: "sub",
      username: "alice",
      groups: ["readers"],
      name: "alice",
      sourceIp: "203.0.113.9",
    },
    action: "SetTag",
    method: "POST",
    path: "/ajax-api/2.0/mlflow/runs/set-tag",
    resources: { run: "r" },
    status: 400,
    decision: "refused",
    reason: "stamp-refused",
    latencyMs: 1,
  });
  expect(r).toEqual({
    time: "2026-01-01T00:00:00.000Z",
    level: "warn",
    component: "guard",
    event: "audit",
    requestId: "req",
    surface: "cognito",
    principal: "sub",
    username: "alice",
    groups: ["readers"],
    caller: "alice",
    sourceIp: "203.0.113.9",
    action: "SetTag",
    method: "POST",
    path: "/ajax-api/2.0/mlflow/runs/set-tag",
    resources: { run: "r" },
    status: 400,
    decision: "refused",
    reason: "stamp-refused",
    latencyMs: 1,
  });
});
