import { hasControlCharacter } from "./request-target";

/**
 * The artifact paths a request names, read as MLflow 3.17 reads them, and refused when they could leave
 * their root. MLflow's own check (`validate_path_is_safe`) decodes a path up to ten times and refuses `..`,
 * but lets `.` through; with workspaces on, the proxied artifact routes scope a path to `workspaces/<ws>/`
 * unless, in the `default` workspace, it does not start with `workspaces/`: so `./workspaces/team-b/...`
 * (also sent as `%2E/`, `.%2F`, or in a `path=` parameter) reads, lists and deletes another team's
 * artifacts, and `workspaces` alone lists or deletes every team's. Pure.
 */
export type ArtifactPathProblem = "artifact-path-unsafe" | "artifact-path-workspace";

/**
 * What an artifact path is relative to: `store`, the root of MLflow's artifact store (the proxied
 * `mlflow-artifacts` routes, where workspaces live as `workspaces/<ws>/`); `entity`, a run's, a model
 * version's, a logged model's or a trace's own artifact root.
 */
export type ArtifactRoot = "store" | "entity";

export interface ArtifactParameters {
  /** Query parameters that carry an artifact path. */
  readonly query: readonly string[];
  /** Path parameters of the route template that carry one. */
  readonly path: readonly string[];
  readonly root: ArtifactRoot;
}

const mounts = (path: string): string[] => [`/api${path}`, `/ajax-api${path}`];

/**
 * Every parameter of the pinned MLflow's routes (catalog paths) that carries an artifact path, from MLflow's
 * handlers (mlflow/server/handlers.py, artifact_router.py: each place that calls `validate_path_is_safe`).
 * The presigned URL routes carry theirs in a JSON body: ARTIFACT_BODY_FIELDS.
 */
export const ARTIFACT_PARAMETERS: ReadonlyMap<string, ArtifactParameters> = new Map<string, ArtifactParameters>([
  ...mounts("/2.0/mlflow/artifacts/list").map((p) => [p, { query: ["path"], path: [], root: "entity" }] as const),
  ["/get-artifact", { query: ["path"], path: [], root: "entity" }],
  ["/model-versions/get-artifact", { query: ["path"], path: [], root: "entity" }],
  ["/ajax-api/2.0/mlflow/upload-artifact", { query: ["path"], path: [], root: "entity" }],
  ["/ajax-api/2.0/mlflow/get-trace-artifact", { query: ["path"], path: [], root: "entity" }],
  ["/ajax-api/3.0/mlflow/get-trace-artifact", { query: ["path"], path: [], root: "entity" }],
  [
    "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
    { query: ["artifact_file_path"], path: [], root: "entity" },
  ],
  ...mounts("/2.0/mlflow/logged-models/{model_id}/artifacts/directories").map(
    (p) => [p, { query: ["artifact_directory_path"], path: [], root: "entity" }] as const,
  ),
  ...mounts("/2.0/mlflow-artifacts/artifacts").map((p) => [p, { query: ["path"], path: [], root: "store" }] as const),
  ...[
    "/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
    "/2.0/mlflow-artifacts/mpu/create/{artifact_path+}",
    "/2.0/mlflow-artifacts/mpu/complete/{artifact_path+}",
    "/2.0/mlflow-artifacts/mpu/abort/{artifact_path+}",
    "/2.0/mlflow-artifacts/presigned/{artifact_path+}",
  ].flatMap((p) => mounts(p).map((m) => [m, { query: [], path: ["artifact_path"], root: "store" }] as const)),
]);

/**
 * The JSON body fields that carry an artifact path (relative to a run's or a logged model's root), by catalog
 * path: MLflow reads these bodies only as JSON (the guard reads every JSON body to a Flask route).
 */
export const ARTIFACT_BODY_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  ["/2.0/mlflow/artifacts/presigned-upload-url", "/2.0/mlflow/artifacts/presigned-download-url"].flatMap((p) =>
    mounts(p).map((m) => [m, ["path"]] as const),
  ),
);

/** The first problem of the artifact paths a route's JSON body names (values that are not strings MLflow refuses). */
export function checkArtifactBody(
  routePath: string,
  body: Readonly<Record<string, unknown>> | undefined,
  workspace: string,
): ArtifactPathProblem | undefined {
  const fields = ARTIFACT_BODY_FIELDS.get(routePath);
  if (fields === undefined || body === undefined) return undefined;
  for (const f of fields) {
    const v = body[f];
    if (typeof v !== "string") continue;
    const problem = artifactPathProblem(v, "entity", workspace);
    if (problem) return problem;
  }
  return undefined;
}

/** MLflow decodes an artifact path until it stops changing, at most ten times (mlflow/utils/uri.py `_decode`). */
const MAX_DECODES = 10;

/** Python's `urllib.parse.unquote`: each run of `%XX` escapes decoded as UTF-8 (invalid bytes as U+FFFD), anything else kept. */
export function unquote(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"));
}

/** A path as MLflow's `validate_path_is_safe` reads it: unquoted until stable; undefined when it never settles. */
export function decodeArtifactPath(value: string): string | undefined {
  let text = value;
  for (let i = 0; i < MAX_DECODES; i++) {
    const next = unquote(text);
    if (next === text) return text;
    text = next;
  }
  return undefined;
}

/**
 * Why an artifact path must not reach MLflow; undefined when it is plain. `workspace` is the request's MLflow
 * workspace (`default` without a team). A path from the store's root may enter `workspaces/` only into its own.
 */
export function artifactPathProblem(
  value: string,
  root: ArtifactRoot,
  workspace: string,
): ArtifactPathProblem | undefined {
  const path = decodeArtifactPath(value);
  if (path === undefined || hasControlCharacter(path) || path.includes("\\") || path.startsWith("/")) {
    return "artifact-path-unsafe";
  }
  const segments = path.split("/");
  if (segments.some((s) => s === "." || s === "..")) return "artifact-path-unsafe";
  // In any letter case: a store on a case-insensitive file system would read `Workspaces/` as `workspaces/`.
  if (root === "store" && segments[0]?.toLowerCase() === "workspaces" && segments[1] !== workspace) {
    return "artifact-path-workspace";
  }
  return undefined;
}

/** The values of a query parameter as Flask reads them (`&`-separated, `+` a space, percent-decoded names and values). */
export function queryValues(rawQuery: string, name: string): string[] {
  return new URLSearchParams(rawQuery).getAll(name);
}

/**
 * The first problem of the artifact paths of a request to a route (catalog path), from its query and its
 * (decoded) path parameters; undefined for routes that carry none.
 */
export function checkArtifactParameters(
  routePath: string,
  rawQuery: string,
  pathParams: Readonly<Record<string, string>>,
  workspace: string,
): ArtifactPathProblem | undefined {
  const spec = ARTIFACT_PARAMETERS.get(routePath);
  if (spec === undefined) return undefined;
  const values = [
    ...spec.query.flatMap((name) => queryValues(rawQuery, name)),
    ...spec.path.flatMap((name) => (pathParams[name] !== undefined ? [pathParams[name]] : [])),
  ];
  for (const v of values) {
    const problem = artifactPathProblem(v, spec.root, workspace);
    if (problem) return problem;
  }
  return undefined;
}
