import {
  ARTIFACT_BODY_FIELDS,
  ARTIFACT_PARAMETERS,
  artifactPathProblem,
  checkArtifactBody,
  checkArtifactParameters,
  decodeArtifactPath,
  unquote,
} from "../../guard/artifact-paths";
import { loadRouteCatalog } from "../../authorizer/load-policies";
import { samplePath } from "../../authorizer/core/catalog";
import { readRequestTarget } from "../../guard/request-target";
import { CATALOG_FILE } from "../../project/paths";

describe("decodeArtifactPath: as MLflow's validate_path_is_safe reads a path", () => {
  test("decoded until stable, as Python's unquote (a malformed escape kept)", () => {
    expect(decodeArtifactPath("%2E/workspaces")).toBe("./workspaces");
    expect(decodeArtifactPath("%252E%252Fworkspaces")).toBe("./workspaces");
    expect(decodeArtifactPath("100%.txt")).toBe("100%.txt");
    expect(decodeArtifactPath("caf%C3%A9")).toBe("café");
    expect(unquote("%FF")).toBe("\uFFFD");
  });

  test("a path that never settles in ten decodings: undefined", () => {
    expect(decodeArtifactPath(`${"%25".repeat(1)}${"25".repeat(12)}2E`)).toBeUndefined();
  });
});

describe("artifactPathProblem", () => {
  test.each(["model/MLmodel", "a/b.c/..d", "", "dir/", "workspaces-of-mine/x", ".hidden", "a..b"])("plain: %j", (p) => {
    expect(artifactPathProblem(p, "store", "default")).toBeUndefined();
    expect(artifactPathProblem(p, "entity", "team-a")).toBeUndefined();
  });

  test.each([
    "./workspaces/team-b/1",
    "%2E/workspaces/team-b/1",
    ".%2Fworkspaces/team-b/1",
    "%252E%252Fworkspaces/team-b",
    "a/./b",
    "a/..",
    "../x",
    "%2E%2E/x",
    "a\\b",
    "a%5Cb",
    "/etc/passwd",
    "%2Fetc",
    "a\u0000b",
    "a%00b",
  ])("unsafe in both roots: %j", (p) => {
    expect(artifactPathProblem(p, "store", "default")).toBe("artifact-path-unsafe");
    expect(artifactPathProblem(p, "entity", "team-a")).toBe("artifact-path-unsafe");
  });

  test("from the store's root, only the request's own workspaces/<ws>/", () => {
    expect(artifactPathProblem("workspaces/default/0/r/artifacts", "store", "default")).toBeUndefined();
    expect(artifactPathProblem("workspaces/team-a/1", "store", "team-a")).toBeUndefined();
    expect(artifactPathProblem("workspaces", "store", "default")).toBe("artifact-path-workspace");
    expect(artifactPathProblem("workspaces/", "store", "default")).toBe("artifact-path-workspace");
    expect(artifactPathProblem("workspaces/team-b/1", "store", "default")).toBe("artifact-path-workspace");
    expect(artifactPathProblem("workspaces%2Fteam-b", "store", "team-a")).toBe("artifact-path-workspace");
    expect(artifactPathProblem("Workspaces/team-b/1", "store", "default")).toBe("artifact-path-workspace");
    // Relative to a run's own root, a folder named "workspaces" is the run's.
    expect(artifactPathProblem("workspaces/team-b/1", "entity", "default")).toBeUndefined();
  });
});

describe("checkArtifactParameters", () => {
  test("every value of the route's parameters, names and values decoded as Flask does", () => {
    const list = "/api/2.0/mlflow-artifacts/artifacts";
    expect(checkArtifactParameters(list, "path=1/r", {}, "default")).toBeUndefined();
    expect(checkArtifactParameters(list, "path=1/r&path=./workspaces/team-b", {}, "default")).toBe(
      "artifact-path-unsafe",
    );
    expect(checkArtifactParameters(list, "pa%74h=.%2Fworkspaces", {}, "default")).toBe("artifact-path-unsafe");
    expect(checkArtifactParameters(list, "path=workspaces", {}, "default")).toBe("artifact-path-workspace");
    expect(checkArtifactParameters("/get-artifact", "run_id=r&path=.%2Fx", {}, "default")).toBe("artifact-path-unsafe");
    const files = "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files";
    expect(checkArtifactParameters(files, "artifact_file_path=..%2Fx", { model_id: "m" }, "default")).toBe(
      "artifact-path-unsafe",
    );
    const download = "/api/2.0/mlflow-artifacts/artifacts/{artifact_path+}";
    expect(checkArtifactParameters(download, "", { artifact_path: "workspaces" }, "default")).toBe(
      "artifact-path-workspace",
    );
    expect(checkArtifactParameters(download, "", { artifact_path: "1/r/artifacts/a.txt" }, "default")).toBeUndefined();
    expect(checkArtifactParameters("/api/2.0/mlflow/runs/search", "path=..", {}, "default")).toBeUndefined();
  });

  test("every route listed is a route of the catalog, and every catalog route with an artifact path parameter is listed", () => {
    const catalog = loadRouteCatalog(CATALOG_FILE);
    const paths = new Set(catalog.routes.map((r) => r.path));
    for (const p of [...ARTIFACT_PARAMETERS.keys(), ...ARTIFACT_BODY_FIELDS.keys()])
      expect(paths.has(p) ? p : `not in the catalog: ${p}`).toBe(p);
    const withArtifactPath = catalog.routes.filter((r) => r.path.includes("{artifact_path+}")).map((r) => r.path);
    for (const p of withArtifactPath) expect(ARTIFACT_PARAMETERS.has(p) ? p : `not listed: ${p}`).toBe(p);
  });
});

describe("checkArtifactBody", () => {
  test("the presigned URL routes' `path`, relative to the run", () => {
    const upload = "/api/2.0/mlflow/artifacts/presigned-upload-url";
    expect(checkArtifactBody(upload, { run_id: "r", path: "model/a.bin" }, "default")).toBeUndefined();
    expect(checkArtifactBody(upload, { run_id: "r", path: "./a.bin" }, "default")).toBe("artifact-path-unsafe");
    expect(
      checkArtifactBody("/ajax-api/2.0/mlflow/artifacts/presigned-download-url", { path: "%2E%2E/x" }, "team-a"),
    ).toBe("artifact-path-unsafe");
    expect(checkArtifactBody(upload, { path: 1 }, "default")).toBeUndefined();
    expect(checkArtifactBody(upload, undefined, "default")).toBeUndefined();
    expect(checkArtifactBody("/api/2.0/mlflow/runs/create", { path: "./x" }, "default")).toBeUndefined();
  });
});

describe("dot segments in the path of every artifact route: refused by the target check (request-target.ts)", () => {
  const catalog = loadRouteCatalog(CATALOG_FILE);
  const routes = catalog.routes.filter((r) => ARTIFACT_PARAMETERS.has(r.path) || ARTIFACT_BODY_FIELDS.has(r.path));

  test.each(routes.map((r) => [r.method, r.path]))("%s %s", (_method, template) => {
    const sample = samplePath(template);
    const insertions = ["./", "../", "%2E/", ".%2F", "%2e%2e/", "%252E/", ".%5C"];
    for (const team of ["", "/ws/team-a"]) {
      // A dot segment after the route's first part, and at the end of it.
      const parts = sample.split("/");
      for (const dots of insertions) {
        const inner = `${team}${[...parts.slice(0, 2), dots.replace(/\/$/, ""), ...parts.slice(2)].join("/")}`;
        const trailing = `${team}${sample}/${dots}x`;
        for (const target of [inner, trailing]) {
          const read = readRequestTarget(target);
          expect([target, read.ok]).toEqual([target, false]);
        }
      }
    }
    expect(routes.length).toBeGreaterThanOrEqual(30);
  });
});
