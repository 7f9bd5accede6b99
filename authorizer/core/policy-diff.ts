// What a new set of group and team files changes against the running one, and whether it can replace it
// without a restart: for the local stack's live reload and the guard's (SIGHUP), which must agree.
import type { PolicySet } from "./policy-set";

/** A group's meaning, comparable: its routes and everything else its file says. */
function signatureOf(set: PolicySet, tier: string): string {
  return JSON.stringify(set.groups.get(tier), (_k, v: unknown) => (v instanceof Set ? [...v].sort() : v));
}

/** What a reload changes, a line per group file: `readers: +2 routes, -0`; nothing when nothing changed. */
export function describePolicyChange(before: PolicySet, after: PolicySet): string[] {
  const tiers = [...new Set([...before.groups.keys(), ...after.groups.keys()])].sort();
  const lines: string[] = [];
  for (const tier of tiers) {
    const was = before.groups.get(tier)?.allowedRouteIds ?? new Set<string>();
    const is = after.groups.get(tier)?.allowedRouteIds ?? new Set<string>();
    const added = [...is].filter((r) => !was.has(r)).length;
    const removed = [...was].filter((r) => !is.has(r)).length;
    if (added > 0 || removed > 0) lines.push(`${tier}: +${added} routes, -${removed}`);
    else if (signatureOf(before, tier) !== signatureOf(after, tier)) lines.push(`${tier}: changed, same routes`);
  }
  const holders = (set: PolicySet) => JSON.stringify(set.teams, (_k, v: unknown) => (v instanceof Map ? [...v] : v));
  if (lines.length === 0 && holders(before) !== holders(after)) lines.push("teams: who holds which tier changed");
  return lines;
}

/**
 * Why a new set of files cannot replace the running one without a restart, or undefined: the caller groups
 * are the user pool's groups, and the teams are MLflow's workspaces and the API's paths.
 */
export function restartReason(before: PolicySet, after: PolicySet): string | undefined {
  const was = [...before.callerGroups].sort();
  const is = [...after.callerGroups].sort();
  if (was.join(",") !== is.join(",")) {
    const added = is.filter((g) => !was.includes(g));
    const removed = was.filter((g) => !is.includes(g));
    return `the groups changed (${[...added.map((g) => `+${g}`), ...removed.map((g) => `-${g}`)].join(", ")}), which the user pool must have`;
  }
  const teams = (set: PolicySet) => (set.teams === undefined ? "(none)" : set.teams.names.join(","));
  if (teams(before) !== teams(after)) return "the teams changed, which are MLflow's workspaces and the API's paths";
  return undefined;
}
