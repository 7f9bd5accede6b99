// The login shell's config (`/mlflow-gate-ui.json`) from the policy set: the local stack renders it, and so
// does the CDK app (infra/), so a user is placed in the same teams wherever the UI runs.
import type { PolicySet } from "../authorizer/core/policy-set";
import type { UiConfig, UiTeam } from "./shell/config";

/** The user pool part of the config: what the deployment knows, teams aside. */
export type UiPoolConfig = Omit<UiConfig, "teams">;

/**
 * Every workspace a caller group reaches, with those groups: the teams by name, then `default`; undefined without
 * teams. Admins
 * (`workspaces: all`) are in every team's list and in `default`'s, which has no team file but theirs to reach.
 */
export function buildUiTeams(policySet: PolicySet): UiTeam[] | undefined {
  const teams = policySet.teams;
  if (!teams) return undefined;
  const order = [...new Set([...teams.names, ...teams.allWorkspaces])];
  const groupsOf = new Map<string, string[]>(order.map((w) => [w, []]));
  for (const group of [...policySet.callerGroups].sort()) {
    const reach = policySet.reachableWorkspaces([group]);
    for (const workspace of reach === "all" ? teams.allWorkspaces : reach) groupsOf.get(workspace)?.push(group);
  }
  return [...groupsOf].filter(([, groups]) => groups.length > 0).map(([name, groups]) => ({ name, groups }));
}

/** The whole config: the pool's part, and with teams the teams the shell places users in. */
export function buildUiConfig(pool: UiPoolConfig, policySet: PolicySet): UiConfig {
  const teams = buildUiTeams(policySet);
  return { ...pool, ...(teams ? { teams } : {}) };
}
