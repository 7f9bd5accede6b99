// The checks of `mlflow-gate policy lint` on team files, once the group files (the tiers) pass theirs: each group
// a team file names gets, in every workspace, exactly what its tiers there mean (as the deployed gateway decides,
// route by route), and its answers and IAM policies fit, alone and for users in several teams. Pure.
import { CatalogRoute, routeId, samplePath } from "./catalog";
import { buildIamPolicies, iamPolicySize } from "./compile";
import { WORKSPACE_PATH_PART } from "./contract";
import { decidePath } from "./decide-request";
import { MlflowGateError } from "./errors";
import { answerTooLarge, LargestAnswer, largestAnswer, WORST_IAM_SCOPE } from "./lint-sizes";
import { PolicySet } from "./policy-set";

/** A workspace no team file names: what every group's policies must refuse, as they refuse any other team's. */
export const UNNAMED_WORKSPACE = "no-team-has-this";

/** A caller group of the teams: where it reaches, what it holds there, and its sizes. */
export interface TeamGroupSizes extends LargestAnswer {
  readonly group: string;
  readonly grants: readonly { readonly workspace: string; readonly tiers: readonly string[] }[];
  readonly iamPolicyChars: readonly number[];
}

export interface TeamsLintReport {
  readonly problems: string[];
  readonly groups: TeamGroupSizes[];
  /** The largest authorizer answer for users in several teams' groups. */
  readonly unions: (LargestAnswer & { readonly label: string; readonly groups: readonly string[] })[];
}

/**
 * The workspaces a group's decisions are checked in: those it reaches, `default`, one team it does not reach and
 * one no file names. Any two workspaces a group does not reach are decided alike (its globs name its workspaces
 * literally, each ending in `/`), so one of each kind stands for the rest.
 */
function workspacesToCheck(set: PolicySet, group: string): string[] {
  const teams = set.teams;
  if (!teams) return [];
  const reach = teams.reachable([group]);
  const reached = reach === "all" ? teams.allWorkspaces : [...reach];
  const other = teams.names.find((t) => !reached.includes(t));
  return [...new Set([...reached, "default", ...(other ? [other] : []), UNNAMED_WORKSPACE])].sort();
}

function grantMismatches(
  set: PolicySet,
  group: string,
): { route: CatalogRoute; workspace: string; allowed: boolean }[] {
  const out: { route: CatalogRoute; workspace: string; allowed: boolean }[] = [];
  for (const workspace of workspacesToCheck(set, group)) {
    for (const route of set.catalog.routes) {
      if (route.auth === "none") continue;
      const d = decidePath(set, [group], route.method, `/${WORKSPACE_PATH_PART}/${workspace}${samplePath(route.path)}`);
      const allowed = d.decision === "allow";
      const intended = d.route
        ? set.intends([group], d.route, workspace)
        : set.mayCallUnknownRoutes([group], workspace);
      if (allowed !== intended) out.push({ route, workspace, allowed });
    }
  }
  return out;
}

function measure(set: PolicySet, group: string, problems: string[]): TeamGroupSizes {
  const teams = set.teams;
  const where = teams?.whereDefined(group) ?? "policies/teams:1";
  let iamPolicyChars: number[] = [];
  let iamProblem = false;
  try {
    iamPolicyChars = buildIamPolicies(set.resourcesFor([group], "iam"), WORST_IAM_SCOPE).map(iamPolicySize);
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    problems.push(`${where}: the IAM policies of a role in "${group}" do not fit: ${e.message}`);
    iamProblem = true;
  }
  try {
    for (const { route, workspace, allowed } of grantMismatches(set, group)) {
      problems.push(
        allowed
          ? `${where}: over-grant: "${group}" may call ${routeId(route)} (${route.action}) in workspace ${workspace}, which its tiers there do not allow`
          : `${where}: under-grant: "${group}" may not call ${routeId(route)} (${route.action}) in workspace ${workspace}, which its tiers there allow`,
      );
    }
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    // A role whose policies cannot be built cannot be decided on either: said once, above.
    if (!iamProblem) problems.push(`${where}: cannot decide requests of "${group}": ${e.message}`);
  }
  const largest = largestAnswer(set, [group]);
  const tooLarge = answerTooLarge(`"${group}"`, largest);
  if (tooLarge) problems.push(`${where}: ${tooLarge}`);
  const grants = [...(teams?.grants([group]) ?? [])].map(([workspace, tiers]) => ({ workspace, tiers }));
  return { group, grants, iamPolicyChars, ...largest };
}

/**
 * The group sets of users in several teams whose answers are measured: every group of one team together (a user
 * who holds every tier of it), and, with several teams, one group of each team together (the one with the most
 * routes: the busiest user the files allow short of holding everything).
 */
function unionsToMeasure(set: PolicySet): { label: string; groups: string[] }[] {
  const teams = set.teams;
  if (!teams) return [];
  const out: { label: string; groups: string[] }[] = [];
  const widest: string[] = [];
  for (const team of teams.byName.values()) {
    const holders = [...new Set([...team.tiers.values()].flat())].sort();
    if (holders.length > 1) out.push({ label: `every group of ${team.name}`, groups: holders });
    const best = holders
      .map((g) => ({ g, n: set.resourcesFor([g], "cognito").allow.length }))
      .sort((a, b) => b.n - a.n || (a.g < b.g ? -1 : 1))[0];
    if (best && !widest.includes(best.g)) widest.push(best.g);
  }
  if (widest.length > 1) out.push({ label: `one group of each of ${teams.names.length} teams`, groups: widest.sort() });
  return out;
}

/** Every check of `policy lint` on the teams of a policy set (none without teams). */
export function lintTeams(set: PolicySet): TeamsLintReport {
  const problems: string[] = [];
  if (!set.teams) return { problems, groups: [], unions: [] };
  const groups = [...set.callerGroups].sort().map((g) => measure(set, g, problems));
  const unions: TeamsLintReport["unions"][number][] = [];
  if (problems.length === 0) {
    for (const u of unionsToMeasure(set)) {
      const largest = largestAnswer(set, u.groups);
      unions.push({ ...u, ...largest });
      const tooLarge = answerTooLarge(`a user in ${u.label} (${u.groups.join(" + ")})`, largest);
      if (tooLarge) problems.push(`policies/teams: ${tooLarge}`);
    }
  }
  return { problems, groups, unions };
}
