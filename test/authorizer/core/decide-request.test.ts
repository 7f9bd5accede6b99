import {
  apiResourcesOf,
  decidePath,
  decideRequest,
  EXAMPLE_STAGE,
  explainDecision,
  RequestToDecide,
} from "../../../authorizer/core/decide-request";
import { parsePolicyDocument } from "../../../authorizer/core/evaluate";
import { MethodArn, stageArnPrefix } from "../../../authorizer/core/method-arn";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";

const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const PREFIX = stageArnPrefix(EXAMPLE_STAGE);

/** A request as the gateway hands it over: the matched route, its surface and the methodArn. */
function request(method: string, path: string, groups: readonly string[]): RequestToDecide {
  const route = set.matcher.match(method, path);
  const methodArn: MethodArn = { ...EXAMPLE_STAGE, method, path };
  const resource = apiResourcesOf(set.catalog.routes).resolve(method, path)?.resourcePath ?? "/{proxy+}";
  return { methodArn, resource, route, surface: route?.auth ?? (path.startsWith("/api/") ? "iam" : "cognito"), groups };
}

const policy = (...statements: { Effect: string; Resource: string }[]) =>
  parsePolicyDocument({ Statement: statements.map((s) => ({ ...s, Action: "execute-api:Invoke" })) });

describe("decideRequest", () => {
  test("allowed: a statement allows the request, and the decision names the resource that did", () => {
    // Act
    const d = decideRequest(set, request("POST", "/ajax-api/2.0/mlflow/runs/search", ["readers"]));
    // Assess
    expect(d).toMatchObject({ decision: "allow", reason: "allowed" });
    expect(d.evaluation?.matched).toMatch(/POST\/ajax-api\/2\.0\/mlflow\/runs\/search$/);
  });

  test("not-allowed: no statement allows it", () => {
    // Act
    const d = decideRequest(set, request("POST", "/api/2.0/mlflow/runs/delete", ["readers"]));
    // Assess
    expect(d).toMatchObject({ decision: "deny", reason: "not-allowed", evaluation: { decision: "ImplicitDeny" } });
  });

  test("explicit-deny: a Deny wins over an Allow that matches the same request", () => {
    // Prepare
    const policies = [
      policy({ Effect: "Allow", Resource: `${PREFIX}*` }),
      policy({ Effect: "Deny", Resource: `${PREFIX}POST/ajax-api/2.0/mlflow/runs/delete` }),
    ];
    // Act
    const denied = decideRequest(set, { ...request("POST", "/ajax-api/2.0/mlflow/runs/delete", ["admins"]), policies });
    const other = decideRequest(set, { ...request("POST", "/ajax-api/2.0/mlflow/runs/create", ["admins"]), policies });
    // Assess
    expect(denied).toMatchObject({
      decision: "deny",
      reason: "explicit-deny",
      evaluation: { decision: "ExplicitDeny", matched: `${PREFIX}POST/ajax-api/2.0/mlflow/runs/delete` },
    });
    expect(other).toMatchObject({ decision: "allow", reason: "allowed" });
  });

  test("no-known-group: a caller without a group the policies know, on either surface", () => {
    // Act
    const sdk = decideRequest(set, request("GET", "/api/2.0/mlflow/experiments/get", ["nobody"]));
    const ui = decideRequest(set, request("GET", "/ajax-api/2.0/mlflow/experiments/get", []));
    // Assess: the role has no policy (implicit deny); the authorizer answers a deny-all (explicit): one reason
    expect(sdk).toMatchObject({ decision: "deny", reason: "no-known-group", evaluation: { decision: "ImplicitDeny" } });
    expect(ui).toMatchObject({ decision: "deny", reason: "no-known-group", evaluation: { decision: "ExplicitDeny" } });
  });

  test("unknown-route: a route the catalog does not list is open only to groups with unknownRoutes: allow", () => {
    // Act
    const reader = decideRequest(set, request("GET", "/ajax-api/2.0/mlflow/experiments/brand-new", ["readers"]));
    const both = decideRequest(
      set,
      request("GET", "/ajax-api/2.0/mlflow/experiments/brand-new", ["readers", "admins"]),
    );
    const stranger = decideRequest(set, request("GET", "/ajax-api/2.0/mlflow/experiments/brand-new", []));
    // Assess
    expect(reader).toEqual({ decision: "deny", reason: "unknown-route" });
    expect(both).toMatchObject({ decision: "allow", reason: "allowed" });
    expect(stranger).toEqual({ decision: "deny", reason: "unknown-route" });
  });

  test("unknown-route holds even when the policies given would allow the path", () => {
    // Prepare
    const policies = [policy({ Effect: "Allow", Resource: `${PREFIX}*` })];
    // Act
    const d = decideRequest(set, { ...request("GET", "/ajax-api/2.0/mlflow/brand-new", ["readers"]), policies });
    // Assess
    expect(d).toEqual({ decision: "deny", reason: "unknown-route" });
  });

  test("public-route: public routes pass without any group or policy", () => {
    // Act
    const d = decideRequest(set, { ...request("GET", "/static-files/app.js", []), policies: [] });
    // Assess
    expect(d).toEqual({ decision: "allow", reason: "public-route" });
  });

  test("malformed-method-arn: a request whose methodArn could not be read is denied before anything else", () => {
    // Act
    const d = decideRequest(set, { ...request("GET", "/health", ["admins"]), methodArn: undefined });
    // Assess
    expect(d).toEqual({ decision: "deny", reason: "malformed-method-arn" });
  });

  test("the Cognito surface without policies needs the request's API resource: denied without one", () => {
    // Act
    const d = decideRequest(set, {
      ...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["readers"]),
      resource: undefined,
    });
    // Assess
    expect(d).toEqual({ decision: "deny", reason: "malformed-resource" });
  });

  test("the Cognito surface decides with the authorizer's answer for the request's verb and resource", () => {
    // Prepare: an answer for another resource has no Allow for this request
    const search = request("POST", "/ajax-api/2.0/mlflow/runs/search", ["readers"]);
    // Act
    const own = decideRequest(set, search);
    const other = decideRequest(set, { ...search, resource: "/ajax-api/2.0/mlflow/experiments/{proxy+}" });
    // Assess
    expect(own).toMatchObject({ decision: "allow", reason: "allowed" });
    expect(other).toMatchObject({ decision: "deny", reason: "not-allowed" });
  });

  test("the surface picks the compiled policies: a role's IAM policies, or the authorizer's policy", () => {
    // Prepare: an SDK route, decided once as SigV4 (IAM) and once as if a bearer token came with it
    const sdk = request("POST", "/api/2.0/mlflow/runs/search", ["readers"]);
    // Act
    const iam = decideRequest(set, { ...sdk, surface: "iam" });
    const cognito = decideRequest(set, { ...sdk, surface: "cognito" });
    // Assess: the authorizer's policy lists UI routes only
    expect(iam).toMatchObject({ decision: "allow", reason: "allowed" });
    expect(cognito).toMatchObject({ decision: "deny", reason: "not-allowed" });
  });

  test("policies given are what decide (the gateway's cached role or authorizer answer), not the groups' own", () => {
    // Prepare: a reader whose authorizer answer allows nothing but delete
    const policies = [policy({ Effect: "Allow", Resource: `${PREFIX}POST/ajax-api/2.0/mlflow/runs/delete` })];
    // Act
    const del = decideRequest(set, { ...request("POST", "/ajax-api/2.0/mlflow/runs/delete", ["readers"]), policies });
    const search = decideRequest(set, {
      ...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["readers"]),
      policies,
    });
    // Assess
    expect([del.decision, search.decision]).toEqual(["allow", "deny"]);
  });
});

describe("decidePath on the real policies", () => {
  test.each([
    ["readers", "POST", "/api/2.0/mlflow/runs/delete", "deny", "DeleteRun"],
    ["readers", "POST", "/ajax-api/2.0/mlflow/runs/search", "allow", "SearchRuns"],
    ["readers", "POST", "/graphql", "allow", "GraphQL"],
    ["readers", "GET", "/ajax-api/2.0/mlflow/gateway-proxy", "deny", "GatewayProxy"],
    [
      "model-approvers",
      "POST",
      "/api/2.0/mlflow/model-versions/transition-stage",
      "allow",
      "TransitionModelVersionStage",
    ],
    ["model-approvers", "POST", "/api/2.0/mlflow/runs/create", "deny", "CreateRun"],
    ["model-approvers", "DELETE", "/ajax-api/2.0/mlflow/registered-models/delete", "deny", "DeleteRegisteredModel"],
    ["admins", "POST", "/api/2.0/mlflow/runs/create", "allow", "CreateRun"],
    [
      "readers",
      "POST",
      "/ajax-api/2.0/mlflow-artifacts/mpu/create/x/api/2.0/mlflow/runs/search",
      "deny",
      "CreateMultipartUpload",
    ],
  ])("%s %s %s -> %s", (group, method, path, decision, action) => {
    // Act
    const d = decidePath(set, [group], method, path);
    // Assess
    expect(d.decision).toBe(decision);
    expect(d.route?.action).toBe(action);
  });

  test("matches the route and its surface as the gateway does", () => {
    // Act, Assess
    expect(decidePath(set, [], "GET", "/static-files/app.js")).toMatchObject({
      decision: "allow",
      reason: "public-route",
      surface: "none",
    });
    // Under a greedy resource of the API, an unlisted path is the policies' to decide.
    expect(decidePath(set, ["admins"], "GET", "/api/2.0/mlflow/runs/brand-new")).toMatchObject({
      decision: "allow",
      surface: "iam",
    });
    expect(decidePath(set, ["admins"], "GET", "/api/2.0/mlflow/runs/brand-new").route).toBeUndefined();
  });

  test("a path the deployed API has no method for is denied, whatever the groups: API Gateway never asks them", () => {
    for (const [method, path] of [
      ["GET", "/api/2.0/mlflow/brand-new"],
      ["DELETE", "/ajax-api/9.0/anything"],
    ] as const) {
      expect(decidePath(set, ["admins"], method, path)).toMatchObject({ decision: "deny", reason: "no-api-method" });
      expect(explainDecision(decidePath(set, ["admins"], method, path))).toBe(
        "the API has no such method (Missing Authentication Token)",
      );
    }
  });

  test("several groups are a union", () => {
    // Act
    const alone = decidePath(set, ["readers"], "POST", "/ajax-api/2.0/mlflow/model-versions/transition-stage");
    const union = decidePath(
      set,
      ["readers", "model-approvers"],
      "POST",
      "/ajax-api/2.0/mlflow/model-versions/transition-stage",
    );
    // Assess
    expect([alone.decision, union.decision]).toEqual(["deny", "allow"]);
  });
});

describe("explainDecision", () => {
  test("says why in a few words, with the deciding resource relative to the stage", () => {
    // Act, Assess
    expect(explainDecision(decidePath(set, ["readers"], "POST", "/ajax-api/2.0/mlflow/runs/search"))).toBe(
      "allowed by POST/ajax-api/2.0/mlflow/runs/search",
    );
    expect(explainDecision(decidePath(set, ["readers"], "POST", "/api/2.0/mlflow/runs/delete"))).toBe(
      "no statement allows it",
    );
    expect(explainDecision(decidePath(set, [], "GET", "/ajax-api/2.0/mlflow/experiments/get"))).toBe("no known group");
    expect(explainDecision(decidePath(set, ["readers"], "GET", "/ajax-api/2.0/mlflow/runs/brand-new"))).toBe(
      "unknown route",
    );
    expect(explainDecision(decidePath(set, ["readers"], "GET", "/health"))).toBe("public route");
    expect(
      explainDecision({
        decision: "deny",
        reason: "explicit-deny",
        evaluation: { decision: "ExplicitDeny", matched: `${PREFIX}POST/x` },
      }),
    ).toBe("explicitly denied by POST/x");
    expect(explainDecision({ decision: "deny", reason: "malformed-method-arn" })).toBe("malformed methodArn");
  });
});
