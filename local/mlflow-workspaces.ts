import { ConfigError } from "../authorizer/core/errors";
import { DEFAULT_WORKSPACE, isTeamName, TEAM_NAME_RULE } from "../authorizer/core/contract";

/** MLflow's workspace API (3.10+, `mlflow server --enable-workspaces`): list with GET, create with POST `{name}`. */
export const MLFLOW_WORKSPACES_PATH = "/api/3.0/mlflow/workspaces";

/**
 * The workspaces to create, from team names: each checked with isTeamName, within MLflow's own rule (every bad
 * name reported at once, before MLflow starts), duplicates dropped, and `default` left out (MLflow always
 * has it and refuses to create it).
 */
export function parseWorkspaceNames(names: readonly string[]): string[] {
  const problems = names.flatMap((n) =>
    isTeamName(n) ? [] : [`MLflow workspace ${JSON.stringify(n)} is not a team name (${TEAM_NAME_RULE})`],
  );
  if (problems.length > 0) throw new ConfigError(`invalid MLflow workspaces:\n  ${problems.join("\n  ")}`, problems);
  return [...new Set(names)].filter((n) => n !== DEFAULT_WORKSPACE);
}

async function call(url: URL, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // MLflow answers some refusals (workspaces disabled: 503) with plain text.
  }
  return { status: res.status, body };
}

const field = (body: unknown, key: string): unknown =>
  typeof body === "object" && body !== null ? (body as Record<string, unknown>)[key] : undefined;

const reason = (body: unknown): string => {
  const message = field(body, "message");
  const text = typeof message === "string" ? message : String(body);
  return text.slice(0, Math.min(300, (text + "\n").indexOf("\n")));
};

/** The workspaces MLflow has (`default` included). */
export async function listMlflowWorkspaces(mlflowUrl: URL): Promise<string[]> {
  const { status, body } = await call(new URL(MLFLOW_WORKSPACES_PATH, mlflowUrl));
  const list = field(body, "workspaces");
  if (status !== 200 || !Array.isArray(list))
    throw new Error(`listing MLflow workspaces answered ${status}: ${reason(body)}`);
  return list.map((w) => field(w, "name")).filter((n): n is string => typeof n === "string");
}

/**
 * Creates each of `names` (parsed with parseWorkspaceNames) that MLflow does not have yet, talking to MLflow
 * directly on its loopback address; returns the ones it created. Idempotent: a restart creates nothing, and
 * one created meanwhile by someone else (MLflow's RESOURCE_ALREADY_EXISTS) counts as there.
 */
export async function ensureMlflowWorkspaces(
  mlflowUrl: URL,
  names: readonly string[],
  log: (line: string) => void,
): Promise<string[]> {
  const existing = new Set(await listMlflowWorkspaces(mlflowUrl));
  const created: string[] = [];
  for (const name of names.filter((n) => !existing.has(n))) {
    const { status, body } = await call(new URL(MLFLOW_WORKSPACES_PATH, mlflowUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (status === 201) {
      created.push(name);
      log(`mlflow        created workspace ${name}`);
    } else if (field(body, "error_code") !== "RESOURCE_ALREADY_EXISTS") {
      throw new Error(`MLflow refused to create workspace ${name} (${status}): ${reason(body)}`);
    }
  }
  return created;
}
