import { MLFLOW_WORKSPACE_HEADER } from "../../../authorizer/core/contract";

/** MLflow's private address, as a running MLflow has it. */
interface HasUrl {
  readonly url: URL;
}

/** One call to MLflow's REST API on its private address, in `workspace` (none: MLflow's default). */
export async function mlflowCall(
  mlflow: HasUrl,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  workspace?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, mlflow.url), {
    method,
    headers: {
      "content-type": "application/json",
      ...(workspace !== undefined ? { [MLFLOW_WORKSPACE_HEADER]: workspace } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

export const runIdsIn = async (mlflow: HasUrl, workspace: string | undefined): Promise<unknown[]> => {
  const experiments = await mlflowCall(
    mlflow,
    "POST",
    "/api/2.0/mlflow/experiments/search",
    { max_results: 100 },
    workspace,
  );
  const ids = ((experiments.json.experiments ?? []) as { experiment_id: string }[]).map((e) => e.experiment_id);
  if (ids.length === 0) return [];
  const runs = await mlflowCall(mlflow, "POST", "/api/2.0/mlflow/runs/search", { experiment_ids: ids }, workspace);
  return ((runs.json.runs ?? []) as { info: { run_id: string } }[]).map((r) => r.info.run_id);
};
