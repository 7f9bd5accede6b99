import { loadRouteCatalog } from "../../authorizer/load-policies";
import { CATALOG_FILE } from "../../project/paths";
import { loadPinnedMlflowVersion } from "../../project/mlflow-venv";
import { diffRouteCatalogs, formatRouteCatalog, introspectRouteCatalog } from "../../scripts/lib/route-catalog";
import { readFileSync } from "fs";

describe("policies/mlflow-routes.json against the installed MLflow", () => {
  // Prepare: regenerate from the MLflow pinned in MLFLOW_VERSION (npm test installs it into .venv)
  const installed = introspectRouteCatalog();
  const committed = loadRouteCatalog(CATALOG_FILE);

  test("the catalog is of the pinned MLflow version", () => {
    expect(installed.mlflowVersion).toBe(loadPinnedMlflowVersion());
    expect(committed.mlflowVersion).toBe(loadPinnedMlflowVersion());
  });

  test("no route is missing, extra or classified differently (run `npm run routes:generate` and review)", () => {
    expect(diffRouteCatalogs(committed, installed)).toEqual({ missing: [], extra: [], changed: [] });
    expect(readFileSync(CATALOG_FILE, "utf8")).toBe(formatRouteCatalog(installed));
  });

  test("the routes the issue names are present with the right class", () => {
    const find = (method: string, path: string) => committed.routes.find((r) => r.method === method && r.path === path);
    expect(find("POST", "/graphql")).toMatchObject({ action: "GraphQL", class: "read" });
    expect(find("GET", "/ajax-api/2.0/mlflow/gateway-proxy")).toMatchObject({ class: "llm-gateway" });
    expect(find("POST", "/ajax-api/2.0/mlflow/gateway-proxy")).toMatchObject({ class: "llm-gateway" });
    expect(find("POST", "/api/2.0/mlflow/registered-models/get-latest-versions")).toMatchObject({ class: "read" });
    expect(find("POST", "/api/2.0/mlflow/model-versions/transition-stage")).toMatchObject({
      class: "registry-promote",
    });
    expect(find("DELETE", "/api/2.0/mlflow/registered-models/alias")).toMatchObject({ class: "registry-promote" });
    expect(find("POST", "/ajax-api/2.0/mlflow/upload-artifact")).toMatchObject({
      action: "UploadArtifact",
      class: "write",
    });
    expect(find("GET", "/get-artifact")).toMatchObject({ action: "GetArtifact", class: "read" });
    expect(find("POST", "/api/2.0/mlflow-artifacts/mpu/create/{artifact_path+}")).toMatchObject({ class: "write" });
    expect(find("POST", "/v1/traces")).toMatchObject({ auth: "iam" });
    expect(find("POST", "/ajax-api/3.0/jobs/")).toMatchObject({ class: "admin" });
    expect(find("GET", "/static-files/{path+}")).toMatchObject({ class: "static", auth: "none" });
    for (const r of committed.routes.filter(
      (x) => /\/(search|get-latest-versions)$/.test(x.path) && x.method === "POST",
    )) {
      expect([r.path, r.class]).toEqual([r.path, expect.stringMatching(/read|admin/)]);
    }
  });
});
