import { join } from "path";
import { runPython } from "../../support/python";
import { bearerEnv, OpResult, Plan, pluginEnv, TestStackView } from "./stack";

/** Who runs an SDK plan: a local principal signing with SigV4 through the plugin, or a demo user's bearer token. */
export type Caller = { readonly sigv4: string } | { readonly bearer: string };

/**
 * Runs test/integration/python/teams_ops.py with the plugin as `caller`, its tracking URI the team's
 * (`<gateway>/ws/<team>`); ["x", "use_workspace", {team}] in the plan moves the rest to another team.
 */
export async function teamOps(
  stack: Pick<TestStackView, "summary">,
  caller: Caller,
  team: string,
  plan: Plan,
): Promise<Record<string, OpResult>> {
  const where = {
    MLFLOW_TRACKING_URI: `${stack.summary.gatewayUrl}/ws/${team}`,
    MLFLOW_GATE_GATEWAY: stack.summary.gatewayUrl,
  };
  let env: NodeJS.ProcessEnv;
  if ("sigv4" in caller) env = pluginEnv(stack, caller.sigv4, where);
  else {
    const user = stack.summary.demoUsers.find((u) => u.username === caller.bearer);
    if (!user) throw new Error(`the stack has no demo user ${caller.bearer}`);
    env = pluginEnv(stack, "unused", { ...bearerEnv(stack, user), ...where });
  }
  const r = await runPython([join("test", "integration", "python", "teams_ops.py"), JSON.stringify(plan)], env);
  if (r.code !== 0) throw new Error(`teams_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, OpResult>;
}

/** The names of the plan's steps that failed, with their errors (for `toEqual([])`). */
export function failures(results: Record<string, OpResult>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${r.error}`);
}
