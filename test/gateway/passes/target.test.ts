import { readTarget, targetPass } from "../../../gateway/passes/target";

describe("readTarget", () => {
  test("splits an origin-form target into its raw path and query, and decodes the path", () => {
    // Act
    const t = readTarget("/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b&x=1");
    const encoded = readTarget("/ajax-api/2.0/mlflow/artifacts/a%2Fb%20c");
    // Assess
    expect(t).toEqual({
      rawPath: "/ajax-api/2.0/mlflow/experiments/get-by-name",
      rawQuery: "experiment_name=a%20b&x=1",
      path: "/ajax-api/2.0/mlflow/experiments/get-by-name",
    });
    expect(encoded?.path).toBe("/ajax-api/2.0/mlflow/artifacts/a/b c");
  });

  test.each([
    ["no target", undefined],
    ["absolute-form", "http://127.0.0.1/ajax-api/2.0/mlflow/runs/delete"],
    ["asterisk-form", "*"],
    ["bad percent-encoding", "/ajax-api/2.0/mlflow/runs/%zz"],
  ])("refuses a target it cannot read at all (%s)", (_name, url) => {
    expect(readTarget(url)).toBeUndefined();
  });

  // API Gateway routes these and forwards them; the guard refuses them (guard/request-target.ts).
  test.each([
    ["double slash", "//ajax-api/2.0/mlflow/runs/search"],
    ["dot-dot", "/static-files/../ajax-api/2.0/mlflow/runs/delete"],
    ["encoded dot-dot", "/static-files/%2e%2e/ajax-api/2.0/mlflow/runs/delete"],
    ["NUL", "/ajax-api/2.0/mlflow/runs/a%00b"],
    ["backslash", "/static-files/%5C..%5Csecret.txt"],
  ])("reads a target the guard will refuse (%s)", (_name, url) => {
    expect(readTarget(url)?.rawPath).toBe(url);
  });
});

describe("targetPass", () => {
  test("goes on with the target, or stops with API Gateway's 400", () => {
    // Act
    const ok = targetPass("/health?x=1");
    const bad = targetPass("/a/%zz");
    // Assess
    expect(ok).toEqual({ go: { rawPath: "/health", rawQuery: "x=1", path: "/health" } });
    expect(bad).toEqual({
      stop: {
        answer: { status: 400, errorType: "BadRequestException", message: "Bad request" },
        decision: "deny",
        reason: "bad-target",
      },
    });
  });
});
