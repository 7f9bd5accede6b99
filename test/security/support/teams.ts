// Tools of the teams attacks: the two demo teams' stack, MLflow's private API in one workspace (seeding and
// the witness of state), SigV4 headers of a team principal, and the identity API Gateway maps for a team group.
import { EXAMPLE_TEAMS_DIR } from "../../../project/paths";
import type { TestStack, TestStackOptions } from "../../integration/support/stack";
import { signHeaders } from "./attack";

/** The options of a stack with the demo teams team-a and team-b (policies/examples/teams). */
export const TEAMS_STACK: TestStackOptions = { env: { MLFLOW_GATE_TEAMS_DIR: EXAMPLE_TEAMS_DIR } };

/** A call on the private MLflow in one workspace (MLflow's own header, as only the guard sets it), never through the gateway. */
export async function privateInWorkspace(
  t: TestStack,
  workspace: string,
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH",
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
): Promise<any> {
  const r = await fetch(`${t.stack.summary.mlflowPrivateUrl}${path}`, {
    method,
    headers: { "content-type": "application/json", "X-MLFLOW-WORKSPACE": workspace },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`private MLflow ${method} ${path} in ${workspace}: ${r.status} ${text}`);
  return text === "" ? {} : JSON.parse(text);
}

/** mlflowState (support/attack.ts) of one workspace: experiments, runs, models and versions, read on MLflow's private port. */
export async function workspaceState(t: TestStack, workspace: string): Promise<string> {
  const call = (method: "GET" | "POST", path: string, body?: unknown) =>
    privateInWorkspace(t, workspace, method, path, body);
  const experiments =
    (await call("POST", "/api/2.0/mlflow/experiments/search", { max_results: 1000, view_type: "ALL" })).experiments ??
    [];
  const ids = experiments.map((e: { experiment_id: string }) => e.experiment_id);
  const runs =
    ids.length === 0
      ? []
      : ((
          await call("POST", "/api/2.0/mlflow/runs/search", {
            experiment_ids: ids,
            run_view_type: "ALL",
            max_results: 1000,
          })
        ).runs ?? []);
  const models =
    (await call("GET", "/api/2.0/mlflow/registered-models/search?max_results=1000")).registered_models ?? [];
  const versions = (await call("GET", "/api/2.0/mlflow/model-versions/search?max_results=1000")).model_versions ?? [];
  return JSON.stringify({ experiments, runs, models, versions });
}

/** SigV4 headers (smithy) for one request as a local principal of the stack. */
export async function principalHeaders(
  t: TestStack,
  principal: string,
  method: string,
  wirePath: string,
  query = "",
  body = "",
): Promise<[string, string][]> {
  const p = t.stack.principals.find((x) => x.name === principal);
  if (!p) throw new Error(`the stack has no principal ${principal}`);
  return signHeaders(t, method, wirePath, query, body, {
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
  });
}

/**
 * The identity API Gateway maps for a Cognito user of `group` calling `path` in `workspace` (the contract's
 * headers, exact spelling): to send straight to the guard, as if API Gateway had let the request through.
 */
export function mappedTeamUser(
  username: string,
  group: string,
  workspace: string,
  method: string,
  path: string,
): [string, string][] {
  return [
    ["x-mlflow-gate-request-id", "AtTaCkTeAmS01E="],
    ["x-mlflow-gate-auth", "cognito"],
    ["x-mlflow-gate-principal", "00000000-0000-4000-8000-00000000000a"],
    ["x-mlflow-gate-username", username],
    ["x-mlflow-gate-groups", group],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path],
    ["x-mlflow-gate-source-ip", "203.0.113.9"],
    ["x-mlflow-gate-workspace", workspace],
    ["Authorization", "-"],
    ["Content-Type", "application/json"],
  ];
}
