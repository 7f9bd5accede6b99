import { checkAuthorizedRequest } from "../../guard/authorized-request";

const received = { method: "POST", path: "/api/2.0/mlflow/runs/create" };

describe("checkAuthorizedRequest", () => {
  test("the same method and path pass; API Gateway's stage prefix is taken off first", () => {
    expect(checkAuthorizedRequest(received, received, "")).toEqual({ ok: true });
    expect(
      checkAuthorizedRequest(received, { method: "POST", path: "/prod/api/2.0/mlflow/runs/create" }, "/prod"),
    ).toEqual({ ok: true });
  });

  test("paths are compared decoded: an encoded letter is the same path", () => {
    const artifact = { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/1/a b" };
    expect(
      checkAuthorizedRequest(artifact, { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/1/a%20b" }, ""),
    ).toEqual({
      ok: true,
    });
  });

  test("another method or path is refused", () => {
    expect(checkAuthorizedRequest(received, { ...received, method: "GET" }, "")).toMatchObject({
      problem: "method-mismatch",
    });
    expect(checkAuthorizedRequest(received, { method: "POST", path: "/api/2.0/mlflow/runs/search" }, "")).toMatchObject(
      {
        problem: "path-mismatch",
      },
    );
    expect(checkAuthorizedRequest(received, received, "/prod")).toMatchObject({ problem: "path-mismatch" });
  });

  // API Gateway forwards path parameters decoded: what it authorized as one segment reaches MLflow as two.
  test("an authorized path MLflow would read otherwise is refused before comparing", () => {
    const r = checkAuthorizedRequest(
      { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/1/../../x" },
      { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/1%2F..%2F..%2Fx" },
      "",
    );
    expect(r).toEqual({ ok: false, problem: "authorized-path-unreadable", detail: "encoded-separator" });
  });
});
