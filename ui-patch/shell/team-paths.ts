// Where the shell puts a signed-in user and MLflow's requests when the API serves MLflow under `/ws/<team>/`.
// Pure: the shell's DOM code (main.tsx, authenticated-requests.ts) calls these with the page's location.
import { MLFLOW_WORKSPACE_HEADER, splitWorkspacePath, WORKSPACE_PATH_PART } from "../../authorizer/core/contract";
import type { UiTeam } from "./config";

/** The server paths of MLflow's UI, at the root: every same-origin request to them carries the user's token. */
const SERVER_PATH = /^\/(ajax-api\/|graphql(\/|$)|get-artifact(\/|$)|model-versions\/get-artifact(\/|$))/;

/** Whether a path is one of MLflow's server paths, at the root or under a team's `/ws/<team>/`. */
export function isServerPath(path: string): boolean {
  const inTeam = splitWorkspacePath(path);
  return SERVER_PATH.test(inTeam ? inTeam.rest : path);
}

/** A team's page: the shell and MLflow's UI, whose relative requests then stay under it. */
export const teamHome = (team: string): string => `/${WORKSPACE_PATH_PART}/${team}/`;

/** The team whose page this is (`/ws/<team>/`), or undefined for the shell's own page (`/`). */
export function teamOfPage(pathname: string): string | undefined {
  return splitWorkspacePath(pathname)?.workspace;
}

/**
 * The path MLflow's request goes to from a team's page: an unprefixed server path (MLflow's bundle writes a few,
 * `/graphql` among them) is put under the team; any other path is left as it is.
 */
export function pathInTeam(path: string, team: string): string {
  return SERVER_PATH.test(path) ? `/${WORKSPACE_PATH_PART}/${team}${path}` : path;
}

/** MLflow's own workspace header: the guard sets it from the path and refuses a request that brings one. */
export const isWorkspaceHeader = (name: string): boolean =>
  name.toLowerCase() === MLFLOW_WORKSPACE_HEADER.toLowerCase();

/** MLflow's server-info route: its answer tells MLflow's UI whether to offer its workspace selector. */
export const isServerInfoPath = (path: string): boolean =>
  /^(\/ws\/[^/]+)?\/ajax-api\/3\.0\/mlflow\/server-info$/.test(path);

/**
 * Server-info as MLflow's UI gets it on a team's page: without workspaces. The page's path is the workspace, so
 * the UI neither offers its selector (which would list workspaces outside the user's teams) nor sends a header.
 */
export function withoutWorkspaces(serverInfo: unknown): unknown {
  return typeof serverInfo === "object" && serverInfo !== null && !Array.isArray(serverInfo)
    ? { ...serverInfo, workspaces_enabled: false }
    : serverInfo;
}

/** Where a signed-in user goes, from their groups and the page they are on. */
export type Placement =
  /** No teams: MLflow's UI on this page, as without this module. */
  | { readonly kind: "mlflow" }
  /** A team's page the user's groups reach: MLflow's UI here; `teams` lists every team they reach. */
  | { readonly kind: "team"; readonly team: string; readonly teams: readonly string[] }
  /** The shell's page, one team reached: go there. */
  | { readonly kind: "go"; readonly team: string }
  /** The shell's page, several teams reached: the user picks one. */
  | { readonly kind: "pick"; readonly teams: readonly string[] }
  /** A team's page the groups do not reach (`team`), or none (`team` undefined): `teams` are those they reach. */
  | { readonly kind: "outside"; readonly team?: string; readonly teams: readonly string[] };

/** The teams the groups reach, in the config's order. */
export function teamsReached(teams: readonly UiTeam[], groups: readonly string[]): string[] {
  return teams.filter((t) => t.groups.some((g) => groups.includes(g))).map((t) => t.name);
}

export function placeUser(
  teams: readonly UiTeam[] | undefined,
  groups: readonly string[],
  pathname: string,
): Placement {
  if (!teams) return { kind: "mlflow" };
  const reached = teamsReached(teams, groups);
  const page = teamOfPage(pathname);
  if (page !== undefined)
    return reached.includes(page)
      ? { kind: "team", team: page, teams: reached }
      : { kind: "outside", team: page, teams: reached };
  if (reached.length === 1) return { kind: "go", team: reached[0] as string };
  return reached.length > 1 ? { kind: "pick", teams: reached } : { kind: "outside", teams: reached };
}
