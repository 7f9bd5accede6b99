import { pathProblem, readRequestTarget } from "../../guard/request-target";

describe("readRequestTarget", () => {
  test("splits an origin-form target and decodes the path as MLflow routes it", () => {
    // Act
    const r = readRequestTarget("/api/2.0/mlflow-artifacts/artifacts/1/a%20b.txt?x=1&y=%2F");

    // Assess
    expect(r).toEqual({
      ok: true,
      target: {
        rawPath: "/api/2.0/mlflow-artifacts/artifacts/1/a%20b.txt",
        rawQuery: "x=1&y=%2F",
        path: "/api/2.0/mlflow-artifacts/artifacts/1/a b.txt",
      },
    });
  });

  test("a trailing slash and the root are plain paths", () => {
    expect(readRequestTarget("/ajax-api/3.0/jobs/").ok).toBe(true);
    expect(readRequestTarget("/").ok).toBe(true);
  });

  // Regression tests of the path tricks the local emulator used to refuse; the guard refuses them in both places.
  test.each([
    ["http://mlflow/api/2.0/mlflow/runs/create", "absolute-form"],
    ["*", "absolute-form"],
    ["/api/2.0/mlflow//runs/create", "empty-segment"],
    ["//api/2.0/mlflow/runs/create", "empty-segment"],
    ["/api/2.0/mlflow/./runs/create", "dot-segment"],
    ["/api/2.0/mlflow/experiments/../runs/create", "dot-segment"],
    ["/api/2.0/mlflow/runs/create/..", "dot-segment"],
    ["/api/2.0/mlflow/runs%2Fcreate", "encoded-separator"],
    ["/api/2.0/mlflow/runs%2fcreate", "encoded-separator"],
    ["/api/2.0/mlflow/%2e%2e/runs/create", "encoded-separator"],
    ["/api/2.0/mlflow/runs%5Ccreate", "encoded-separator"],
    ["/api/2.0/mlflow/runs%252Fcreate", "encoded-separator"],
    ["/api/2.0/mlflow/runs\\create", "control-character"],
    ["/api/2.0/mlflow/runs%00/create", "control-character"],
    ["/api/2.0/mlflow/runs%0d%0a/create", "control-character"],
    ["/api/2.0/mlflow/runs;x=1/create", "path-parameter"],
    ["/api/2.0/mlflow/runs%3Bx/create", "path-parameter"],
    ["/api/2.0/mlflow/runs/%E0%A4%A", "bad-encoding"],
    ["/api/2.0/mlflow/runs/%ZZ", "bad-encoding"],
  ])("refuses %s (%s)", (url, problem) => {
    expect(readRequestTarget(url)).toEqual({ ok: false, problem });
  });

  test("pathProblem reads a path without a query the same way", () => {
    expect(pathProblem("/api/2.0/mlflow/runs/create")).toBeUndefined();
    expect(pathProblem("api/2.0")).toBe("absolute-form");
  });
});
