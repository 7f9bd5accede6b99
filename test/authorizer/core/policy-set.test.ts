import { checkRequest } from "../../../authorizer/core/policy-set";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";

const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

describe("checkRequest on the real policies", () => {
  test.each([
    ["readers", "POST", "/api/2.0/mlflow/runs/delete", "DENY", "DeleteRun"],
    ["readers", "POST", "/ajax-api/2.0/mlflow/runs/search", "ALLOW", "SearchRuns"],
    ["readers", "POST", "/graphql", "ALLOW", "GraphQL"],
    ["readers", "GET", "/ajax-api/2.0/mlflow/gateway-proxy", "DENY", "GatewayProxy"],
    [
      "model-approvers",
      "POST",
      "/api/2.0/mlflow/model-versions/transition-stage",
      "ALLOW",
      "TransitionModelVersionStage",
    ],
    ["model-approvers", "POST", "/api/2.0/mlflow/runs/create", "DENY", "CreateRun"],
    ["model-approvers", "DELETE", "/ajax-api/2.0/mlflow/registered-models/delete", "DENY", "DeleteRegisteredModel"],
    ["admins", "POST", "/api/2.0/mlflow/runs/create", "ALLOW", "CreateRun"],
    [
      "readers",
      "POST",
      "/ajax-api/2.0/mlflow-artifacts/mpu/create/x/api/2.0/mlflow/runs/search",
      "DENY",
      "CreateMultipartUpload",
    ],
  ])("%s %s %s -> %s", (group, method, path, decision, action) => {
    const c = checkRequest(set, [group], method, path);
    expect(c.decision).toBe(decision);
    expect(c.route?.action).toBe(action);
  });

  test("public routes pass without any group; other routes need a known group", () => {
    expect(checkRequest(set, [], "GET", "/static-files/app.js").decision).toBe("ALLOW");
    expect(checkRequest(set, [], "GET", "/ajax-api/2.0/mlflow/experiments/get").reason).toBe("no known group");
    expect(checkRequest(set, ["nobody"], "GET", "/ajax-api/2.0/mlflow/experiments/get").decision).toBe("DENY");
  });

  test("a route the catalog does not list is denied to all but groups with unknownRoutes: allow", () => {
    expect(checkRequest(set, ["readers"], "GET", "/ajax-api/2.0/mlflow/experiments/brand-new")).toMatchObject({
      decision: "DENY",
      reason: "unknown route",
    });
    expect(checkRequest(set, ["admins"], "GET", "/ajax-api/2.0/mlflow/experiments/brand-new").decision).toBe("ALLOW");
  });

  test("several groups are a union", () => {
    expect(
      checkRequest(set, ["readers"], "POST", "/ajax-api/2.0/mlflow/model-versions/transition-stage").decision,
    ).toBe("DENY");
    expect(
      checkRequest(set, ["readers", "model-approvers"], "POST", "/ajax-api/2.0/mlflow/model-versions/transition-stage")
        .decision,
    ).toBe("ALLOW");
    expect(set.resourcesFor(["model-approvers", "readers", "readers"], "cognito")).toBe(
      set.resourcesFor(["readers", "model-approvers"], "cognito"),
    );
  });
});
