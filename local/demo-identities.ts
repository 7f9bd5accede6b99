import type { PolicySet } from "../authorizer/core/policy-set";
import { DATA_SCIENCE_PRINCIPAL, DEFAULT_PRINCIPALS, Principal } from "./principals";

/** The demo users of the single-workspace stack: one per default group. */
export const DEMO_USERS = [
  { username: "admin", group: "admins" },
  { username: "reader", group: "readers" },
  { username: "model-approver", group: "model-approvers" },
  { username: "release-manager", group: "release-managers" },
] as const;

/** A person's (or a role's) name for a group: `team-a-readers` is a `team-a-reader`. */
const memberName = (group: string): string => group.replace(/s$/, "");

/**
 * The demo users a stack seeds for its policies. Without teams, those of DEMO_USERS whose group exists. With teams,
 * the admin, and one user per group the team files name (`team-a-reader` in `team-a-readers`), so that a fresh
 * stack shows each team's isolation at once.
 */
export function demoUsersOf(set: PolicySet): { username: string; group: string }[] {
  if (!set.teams) return DEMO_USERS.filter((u) => set.groups.has(u.group));
  const admins = DEMO_USERS.filter((u) => set.callerGroups.has(u.group) && set.teams?.isGlobal(u.group));
  const teamGroups = [...set.callerGroups].filter((g) => !set.teams?.isGlobal(g)).sort();
  return [...admins, ...teamGroups.map((group) => ({ username: memberName(group), group }))];
}

/**
 * The principals a new `principals.json` starts with. Without teams, DEFAULT_PRINCIPALS. With teams, the admin
 * role and data-science as before, and one role per group the team files name (`mlflow-team-a-reader`), each
 * assumable by data-science: a team's SageMaker execution role, locally.
 */
export function defaultPrincipalsOf(set: PolicySet): Pick<Principal, "name" | "group" | "trustedBy">[] {
  if (!set.teams) return [...DEFAULT_PRINCIPALS];
  const global = DEFAULT_PRINCIPALS.filter(
    (p) => p.group === undefined || (set.callerGroups.has(p.group) && set.teams?.isGlobal(p.group)),
  );
  const teamGroups = [...set.callerGroups].filter((g) => !set.teams?.isGlobal(g)).sort();
  return [
    ...global,
    ...teamGroups.map((group) => ({
      name: `mlflow-${memberName(group)}`,
      group,
      trustedBy: [{ principal: DATA_SCIENCE_PRINCIPAL }],
    })),
  ];
}
