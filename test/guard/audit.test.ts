import {
  auditPromotion,
  auditRegistryChange,
  buildAuditRecord,
  mergeResources,
  requestResources,
  responseResources,
} from "../../guard/audit";

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

  test("a model's rename: the name it had and the new one; an experiment's new name is not a model", () => {
    const rename = "/ajax-api/2.0/mlflow/registered-models/rename";
    expect(
      requestResources({ path: rename }, rename, new URLSearchParams(), { name: "churn", new_name: "churn-v2" }),
    ).toEqual({ model: "churn", newModel: "churn-v2" });
    expect(
      requestResources(undefined, "/api/2.0/mlflow/experiments/update", new URLSearchParams(), {
        experiment_id: "1",
        new_name: "x",
      }),
    ).toEqual({ experiment: "1" });
  });
});

test("mergeResources: the answer adds the ids MLflow assigned; a rename's answer does not replace the model's old name", () => {
  expect(mergeResources({ model: "m" }, { model: "m", version: "3", stage: "None" })).toEqual({
    model: "m",
    version: "3",
    stage: "None",
  });
  expect(
    mergeResources(
      { model: "churn", newModel: "churn-v2" },
      responseResources({ registered_model: { name: "churn-v2" } }),
    ),
  ).toEqual({ model: "churn", newModel: "churn-v2" });
  expect(mergeResources({}, { run: "r", experiment: "1" })).toEqual({ run: "r", experiment: "1" });
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

describe("auditPromotion", () => {
  test("a transition: the stage asked for as MLflow reads it, the stage before and the creator the guard read", () => {
    expect(
      auditPromotion(
        "TransitionModelVersionStage",
        { name: "m", version: "1", stage: "PRODUCTION", archive_existing_versions: true },
        { stage: "Staging", creator: "bob" },
        "policies/groups/model-approvers.yaml allows no promotion to Production",
      ),
    ).toEqual({
      kind: "transition",
      to: "Production",
      archiveExisting: true,
      from: "Staging",
      creator: "bob",
      message: "policies/groups/model-approvers.yaml allows no promotion to Production",
    });
    expect(
      auditPromotion("TransitionModelVersionStage", { name: "m", version: "1", stage: "Staging" }, undefined),
    ).toEqual({ kind: "transition", to: "Staging" });
  });

  test("the alias routes: the alias, under its JSON name too; an unreadable request: its kind and the refusal", () => {
    expect(
      auditPromotion("SetRegisteredModelAlias", { name: "m", version: "2", alias: "champion" }, undefined),
    ).toEqual({ kind: "set-alias", alias: "champion" });
    expect(auditPromotion("DeleteRegisteredModelAlias", { name: "m", alias: "challenger-1" }, undefined)).toEqual({
      kind: "delete-alias",
      alias: "challenger-1",
    });
    expect(
      auditPromotion(
        "TransitionModelVersionStage",
        { name: "m", version: "1", stage: "Prod" },
        undefined,
        "stage must be",
      ),
    ).toEqual({ kind: "transition", message: "stage must be" });
    expect(auditPromotion("SetRegisteredModelAlias", undefined, undefined)).toEqual({ kind: "set-alias" });
  });
});

describe("auditRegistryChange", () => {
  test("a version's deletion: the stage it was in and its creator, as the guard read them, and the refusal", () => {
    expect(auditRegistryChange("DeleteModelVersion", { stage: "Production", creator: "bob" }, "no deleting")).toEqual({
      kind: "delete-version",
      from: "Production",
      creator: "bob",
      message: "no deleting",
    });
    expect(auditRegistryChange("DeleteModelVersion", undefined)).toEqual({ kind: "delete-version" });
  });

  test("a model's deletion or rename: its kind and the refusal, never one version's facts", () => {
    expect(auditRegistryChange("DeleteRegisteredModel", { stage: "None", creator: "bob" })).toEqual({
      kind: "delete-model",
    });
    expect(auditRegistryChange("RenameRegisteredModel", undefined, "no renaming")).toEqual({
      kind: "rename",
      message: "no renaming",
    });
  });
});

test("buildAuditRecord carries a promotion's fields when there are some", () => {
  const base = {
    now: new Date("2026-01-01T00:00:00Z"),
    requestId: "req",
    action: "SetRegisteredModelAlias",
    method: "POST",
    path: "/api/2.0/mlflow/registered-models/alias",
    resources: { model: "m", version: "2", alias: "champion" },
    status: 200,
    decision: "forwarded" as const,
    latencyMs: 1,
  };
  expect(buildAuditRecord({ ...base, promotion: { kind: "set-alias", alias: "champion" } })).toMatchObject({
    promotion: { kind: "set-alias", alias: "champion" },
  });
  expect(buildAuditRecord(base)).not.toHaveProperty("promotion");
});
