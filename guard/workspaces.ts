import { DEFAULT_WORKSPACE, splitWorkspacePath, WORKSPACE_PATH_PART } from "../authorizer/core/contract";
import { isJsonObject, Json, JsonObject } from "./json-body";

/**
 * Teams: MLflow workspaces behind `/ws/<team>/`. The guard reads the team from the path, requires API Gateway's
 * mapped header to say the same team, and alone sets MLflow's workspace header. Pure.
 */
export interface GuardWorkspaces {
  /** The workspaces the caller's groups reach: "all" (admins) or team names (may include "default"). */
  reachable(groups: readonly string[]): "all" | ReadonlySet<string>;
  /** Whether the groups may create, update or delete workspaces (admins only). */
  mayManage(groups: readonly string[]): boolean;
}

/** The actions that change workspaces themselves. */
export const WORKSPACE_MANAGE_ACTIONS: ReadonlySet<string> = new Set([
  "CreateWorkspace",
  "UpdateWorkspace",
  "DeleteWorkspace",
]);

export type TeamPathProblem = "workspace-path-malformed";

/** A team route's raw path: `/ws/<team><rest>`, `rest` MLflow's own raw path (from its "/"). */
export type TeamPath =
  | { readonly ok: true; readonly team: string; readonly rawRest: string }
  | { readonly ok: false; readonly problem: TeamPathProblem };

const PREFIX = `/${WORKSPACE_PATH_PART}/`;

/** Whether a raw path is under the team prefix (`/ws/...`); such a path is a team route or refused. */
export const isTeamPath = (rawPath: string): boolean => rawPath === PREFIX.slice(0, -1) || rawPath.startsWith(PREFIX);

/**
 * Splits a raw path into its team and MLflow's path (the contract's one reading, splitWorkspacePath). The team is
 * read raw: a team name has no `%`, so a team that is percent-encoded (or anything but a team name) is refused,
 * never decoded into one.
 */
export function readTeamPath(rawPath: string): TeamPath {
  const split = splitWorkspacePath(rawPath);
  return split
    ? { ok: true, team: split.workspace, rawRest: split.rest }
    : { ok: false, problem: "workspace-path-malformed" };
}

export type WorkspaceIdentityProblem = "workspace-identity-missing" | "workspace-identity-mismatch";

/** API Gateway's mapped team (x-mlflow-gate-workspace, decoded) must be the path's team, exactly. */
export function checkWorkspaceIdentity(
  mapped: string | undefined,
  team: string,
): { readonly ok: true } | { readonly ok: false; readonly problem: WorkspaceIdentityProblem } {
  if (mapped === undefined) return { ok: false, problem: "workspace-identity-missing" };
  return mapped === team ? { ok: true } : { ok: false, problem: "workspace-identity-mismatch" };
}

/** Whether a workspace is among those reached. */
export const reaches = (reachable: "all" | ReadonlySet<string>, workspace: string): boolean =>
  reachable === "all" || reachable.has(workspace);

/**
 * MLflow's ListWorkspaces answer (`{"workspaces": [{"name": ..., "description"?: ...}, ...]}`) with only the
 * workspaces reached; undefined when the answer does not have that shape (the guard then answers 502 rather
 * than pass on a list it cannot filter).
 */
export function filterWorkspaceList(answer: unknown, reachable: ReadonlySet<string>): JsonObject | undefined {
  if (!isJsonObject(answer)) return undefined;
  const list = answer.workspaces ?? [];
  if (!Array.isArray(list)) return undefined;
  const kept: Json[] = [];
  for (const w of list) {
    if (!isJsonObject(w) || typeof w.name !== "string") return undefined;
    if (reachable.has(w.name)) kept.push(w);
  }
  return { ...answer, workspaces: kept };
}

/** The workspace MLflow uses for a request: the team's, or MLflow's default when no team is named. */
export const workspaceOf = (team: string | undefined): string => team ?? DEFAULT_WORKSPACE;
