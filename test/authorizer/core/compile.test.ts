import { parseRouteCatalog, RouteCatalog } from "../../../authorizer/core/catalog";
import {
  buildAuthorizerPolicy,
  buildDenyAllPolicy,
  buildIamPolicies,
  compileRouteSet,
  iamPolicySize,
  IAM_MANAGED_POLICY_MAX_CHARS,
  routeGlob,
} from "../../../authorizer/core/compile";
import { CompileError } from "../../../authorizer/core/errors";
import { evaluatePolicies, parsePolicyDocument } from "../../../authorizer/core/evaluate";
import { stageArnPrefix } from "../../../authorizer/core/method-arn";

const r = (method: string, path: string, action: string, cls = "read", source = "flask") => ({
  method,
  path,
  action,
  class: cls,
  auth: /^\/(api|v1|gateway)\//.test(path) ? "iam" : "cognito",
  source,
});

function catalogOf(...routes: ReturnType<typeof r>[]): RouteCatalog {
  return parseRouteCatalog({ mlflowVersion: "0.0.0", routes });
}
const ids = (...list: string[]) => new Set(list);
const SCOPE = { partition: "aws", region: "us-east-1", account: "123456789012", apiId: "abcdef1234", stage: "prod" };
const decide = (doc: unknown, verbPath: string) =>
  evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", `${stageArnPrefix(SCOPE)}${verbPath}`).decision;

describe("routeGlob", () => {
  test("parameters become *", () => {
    expect(routeGlob({ method: "GET", path: "/t/{id}/x/{rest+}" })).toBe("GET/t/*/x/*");
  });
});

describe("compileRouteSet", () => {
  test("merges both mounts of a route into one glob when nothing denied lies under it", () => {
    const catalog = catalogOf(
      r("GET", "/api/2.0/mlflow/runs/get", "GetRun"),
      r("GET", "/ajax-api/2.0/mlflow/runs/get", "GetRun"),
    );
    const c = compileRouteSet(catalog, ids("GET /api/2.0/mlflow/runs/get"), "deny", "iam");
    expect(c.allow).toEqual(["GET/api/2.0/mlflow/runs/get"]);
    expect(c.deny).toEqual([]);
  });

  test("widens with a carve-out when a greedy denied route can smuggle the same path", () => {
    const catalog = catalogOf(
      r("POST", "/api/2.0/mlflow/runs/search", "SearchRuns"),
      r("POST", "/api/2.0/mlflow/experiments/search", "SearchExperiments"),
      r("POST", "/ajax-api/2.0/mlflow/runs/search", "SearchRuns"),
      r("POST", "/ajax-api/2.0/mlflow/experiments/search", "SearchExperiments"),
      r("POST", "/ajax-api/2.0/mlflow-artifacts/mpu/create/{p+}", "CreateMultipartUpload", "write"),
    );
    const allowed = ids("POST /ajax-api/2.0/mlflow/runs/search", "POST /ajax-api/2.0/mlflow/experiments/search");
    // Act: the cognito surface holds only the ajax-api routes; /api routes count as denied
    const c = compileRouteSet(catalog, allowed, "deny", "cognito");
    const policy = buildAuthorizerPolicy(c, SCOPE);
    // Assess: decisions are exact whatever the shape of the globs
    expect(decide(policy, "POST/ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
    expect(decide(policy, "POST/ajax-api/2.0/mlflow-artifacts/mpu/create/x/ajax-api/2.0/mlflow/runs/search")).not.toBe(
      "Allow",
    );
    expect(decide(policy, "POST/api/2.0/mlflow/runs/search")).not.toBe("Allow");
  });

  test("refuses to widen when the carve-out would also deny an allowed route", () => {
    const catalog = catalogOf(
      r("GET", "/api/2.0/x/get", "GetX"),
      r("GET", "/ajax-api/2.0/x/get", "GetX"),
      r("GET", "/ajax-api/2.0/files/{p+}", "GetFile"),
      r("DELETE", "/ajax-api/2.0/files/{p+}", "DeleteFile", "write"),
    );
    const c = compileRouteSet(
      catalog,
      ids("GET /api/2.0/x/get", "GET /ajax-api/2.0/x/get", "GET /ajax-api/2.0/files/{p+}"),
      "deny",
      "cognito",
    );
    expect(c.allow).toEqual(["GET/ajax-api/2.0/files/*", "GET/ajax-api/2.0/x/get"]);
    expect(c.deny).toEqual([]);
  });

  test("throws when a route cannot be granted without granting a denied one", () => {
    const catalog = catalogOf(
      r("GET", "/ajax-api/t/{id}", "GetT"),
      r("GET", "/ajax-api/t/{id}/secret", "GetSecret", "admin"),
    );
    expect(() => compileRouteSet(catalog, ids("GET /ajax-api/t/{id}"), "deny", "cognito")).toThrow(CompileError);
  });

  test("a group that may call unknown routes gets path prefixes, and * when nothing is denied", () => {
    const catalog = catalogOf(
      r("GET", "/ajax-api/a", "GetA"),
      r("POST", "/ajax-api/b", "PostB", "write"),
      r("GET", "/ajax-api/c/d", "GetD"),
    );
    expect(
      compileRouteSet(catalog, ids("GET /ajax-api/a", "POST /ajax-api/b", "GET /ajax-api/c/d"), "allow", "cognito")
        .allow,
    ).toEqual(["*"]);
    expect(compileRouteSet(catalog, ids("GET /ajax-api/a", "GET /ajax-api/c/d"), "allow", "cognito").allow).toEqual([
      "GET/*",
    ]);
  });

  test("a surface's policy lists only the routes of that surface", () => {
    const catalog = catalogOf(r("GET", "/api/2.0/x", "GetX"), r("GET", "/ajax-api/2.0/x", "GetX"));
    const c = compileRouteSet(catalog, ids("GET /api/2.0/x", "GET /ajax-api/2.0/x"), "deny", "cognito");
    expect(c.allow).toEqual(["GET/ajax-api/2.0/x"]);
  });
});

describe("policy documents", () => {
  test("an empty grant is an explicit deny of the whole stage", () => {
    expect(buildAuthorizerPolicy({ allow: [], deny: [] }, SCOPE)).toEqual(buildDenyAllPolicy(SCOPE));
    expect(decide(buildDenyAllPolicy(SCOPE), "GET/")).toBe("ExplicitDeny");
  });

  test("without a stage to name, the deny-all policy denies every resource, and each call gets its own copy", () => {
    // Act
    const first = buildDenyAllPolicy();
    const second = buildDenyAllPolicy();
    // Assess
    expect(first).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: "*" }],
    });
    expect(
      evaluatePolicies(
        [parsePolicyDocument(first)],
        "execute-api:Invoke",
        "arn:aws:execute-api:eu-west-1:1:other/x/GET/",
      ).decision,
    ).toBe("ExplicitDeny");
    expect(second).not.toBe(first);
    expect(second.Statement).not.toBe(first.Statement);
  });

  test("IAM policies are split under the managed policy limit, each carrying the carve-outs", () => {
    const allow = Array.from({ length: 300 }, (_, i) => `GET/api/2.0/mlflow/resource-number-${i}/get`);
    const docs = buildIamPolicies({ allow, deny: ["POST/api/x/*"] }, SCOPE);
    expect(docs.length).toBeGreaterThan(1);
    for (const d of docs) {
      expect(iamPolicySize(d)).toBeLessThanOrEqual(IAM_MANAGED_POLICY_MAX_CHARS);
      expect(d.Statement.some((s) => s.Effect === "Deny")).toBe(true);
    }
    expect(
      docs.flatMap((d) => d.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Resource)),
    ).toHaveLength(300);
  });

  test("a role needing more than ten managed policies is refused", () => {
    const allow = Array.from({ length: 1500 }, (_, i) => `GET/api/2.0/mlflow/resource-number-${i}/get`);
    expect(() => buildIamPolicies({ allow, deny: [] }, SCOPE)).toThrow(CompileError);
  });
});
