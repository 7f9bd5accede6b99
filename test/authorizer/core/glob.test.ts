import {
  globIntersectsResource,
  globIntersectsRoute,
  globsIntersect,
  globToRegExp,
} from "../../../authorizer/core/glob";

describe("globToRegExp (IAM semantics)", () => {
  const globMatches = (glob: string, text: string): boolean => globToRegExp(glob).test(text);

  test("* spans any characters, slashes included", () => {
    expect(globMatches("GET/api/*", "GET/api/2.0/mlflow/runs/get")).toBe(true);
    expect(globMatches("GET/*/get", "GET/api/2.0/mlflow/runs/get")).toBe(true);
    expect(globMatches("GET/*", "GET/")).toBe(true);
  });

  test("? is exactly one character", () => {
    expect(globMatches("GET/api/?.0/x", "GET/api/3.0/x")).toBe(true);
    expect(globMatches("GET/api/?.0/x", "GET/api/.0/x")).toBe(false);
    expect(globMatches("GET/api/?.0/x", "GET/api/10.0/x")).toBe(false);
  });

  test("other characters are literal and case-sensitive", () => {
    expect(globMatches("GET/a.b", "GET/aXb")).toBe(false);
    expect(globMatches("GET/(x)+[y]", "GET/(x)+[y]")).toBe(true);
    expect(globMatches("GET/api/x", "get/api/x")).toBe(false);
    expect(globMatches("GET/api/x", "GET/API/x")).toBe(false);
  });
});

describe("globIntersectsRoute (exact: can the glob match some request of the route?)", () => {
  test("an exact path meets only its own route", () => {
    expect(globIntersectsRoute("POST/api/2.0/mlflow/runs/search", "POST", "/api/2.0/mlflow/runs/search")).toBe(true);
    expect(globIntersectsRoute("POST/api/2.0/mlflow/runs/search", "POST", "/api/2.0/mlflow/runs/delete")).toBe(false);
    expect(globIntersectsRoute("POST/api/2.0/mlflow/runs/search", "GET", "/api/2.0/mlflow/runs/search")).toBe(false);
  });

  test("a leading * reaches a greedy parameter that can end with the same path (the smuggling case)", () => {
    expect(
      globIntersectsRoute(
        "POST/*api/2.0/mlflow/runs/search",
        "POST",
        "/ajax-api/2.0/mlflow-artifacts/mpu/create/{artifact_path+}",
      ),
    ).toBe(true);
    expect(
      globIntersectsRoute(
        "POST/api/2.0/mlflow/runs/search",
        "POST",
        "/ajax-api/2.0/mlflow-artifacts/mpu/create/{artifact_path+}",
      ),
    ).toBe(false);
  });

  test("a one-segment parameter never holds a slash, a greedy one may", () => {
    expect(globIntersectsRoute("GET/t/a/b/tags", "GET", "/t/{id}/tags")).toBe(false);
    expect(globIntersectsRoute("GET/t/a/tags", "GET", "/t/{id}/tags")).toBe(true);
    expect(globIntersectsRoute("GET/t/a/b/tags", "GET", "/t/{id+}/tags")).toBe(true);
  });

  test("wildcards on both sides are reasoned about exactly", () => {
    expect(
      globIntersectsRoute("DELETE/api/3.0/mlflow/traces/*/tags", "DELETE", "/api/3.0/mlflow/traces/{trace_id}/info"),
    ).toBe(false);
    // a parameter's `*` spans slashes: the assessment id "tags" makes the two meet
    expect(
      globIntersectsRoute(
        "DELETE/api/3.0/mlflow/traces/*/tags",
        "DELETE",
        "/api/3.0/mlflow/traces/{trace_id}/assessments/{a}",
      ),
    ).toBe(true);
    expect(globIntersectsRoute("GET/api/?.0/x/*", "GET", "/api/3.0/x/{id}")).toBe(true);
    expect(globIntersectsRoute("GET/api/?.0/x/*", "GET", "/api/30/x/{id}")).toBe(false);
    expect(globIntersectsRoute("*", "PATCH", "/anything/{p+}")).toBe(true);
  });
});

describe("globIntersectsResource: the requests API Gateway routes to a resource, extra slashes included", () => {
  test.each([
    ["GET/ajax-api/2.0/mlflow-artifacts/artifacts/*", "GET", "/ajax-api/2.0/mlflow-artifacts/artifacts", true],
    ["GET/ajax-api/2.0/mlflow/runs/get", "GET", "/ajax-api/2.0/mlflow/runs/{proxy+}", true],
    ["GET/ajax-api//2.0/mlflow/runs/get", "GET", "/ajax-api/2.0/mlflow/runs/{proxy+}", true],
    ["GET/*api/2.0/mlflow/runs/get", "GET", "/ajax-api/2.0/mlflow/runs/{proxy+}", true],
    ["POST/ajax-api/2.0/mlflow/runs/get", "GET", "/ajax-api/2.0/mlflow/runs/{proxy+}", false],
    ["GET/ajax-api/2.0/mlflow/experiments/get", "GET", "/ajax-api/2.0/mlflow/runs/{proxy+}", false],
    ["GET/graphql", "GET", "/graphql", true],
    ["GET/graphqlx", "GET", "/graphql", false],
    ["GET/ajax-api/2.0/mlflow/runs/*/x", "GET", "/ajax-api/2.0/mlflow/runs/{id}", true], // runs//x routes as runs/x
    ["GET/ajax-api/2.0/mlflow/runs/a/b", "GET", "/ajax-api/2.0/mlflow/runs/{id}", false],
  ])("%s under %s %s: %p", (glob, method, resource, expected) => {
    expect(globIntersectsResource(glob, method, resource)).toBe(expected);
  });
});

describe("globsIntersect reads globs as the evaluator does", () => {
  test.each([
    ["GET/x/*", "GET/*/y", true],
    ["GET/x/a", "POST/x/*", false],
    // A character outside the BMP is two UTF-16 units, as for globToRegExp: `??` matches it.
    ["GET/x\u{1F600}", "GET/x??", true],
  ])("%s and %s: %p", (a, b, expected) => {
    expect(globsIntersect(a, b)).toBe(expected);
    expect(globToRegExp(b).test(a)).toBe(expected && !/[*?]/.test(a));
  });
});
