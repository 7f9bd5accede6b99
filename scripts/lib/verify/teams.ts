// `mlflow-gate verify` with teams, the pure half: which teams verify works in, which principals are callers of a
// team, the tracking URI of a team, and who plays which part in the isolation check between two teams.
import { PolicySet } from "../../../authorizer/core/policy-set";
import { CliFailure, CliUsageError } from "../cli-errors";
import { surfaceOf, VerifyPrincipal } from "./plan";

/**
 * The teams verify works in, in order: those of `--teams A,B` (each a team of the files), else every team of the
 * policy set. The first is where the checks run; the first two are the isolation check's. None: no teams.
 */
export function selectTeams(policySet: Pick<PolicySet, "teams">, raw?: string): string[] {
  const known = policySet.teams?.names ?? [];
  if (raw === undefined) return known;
  if (known.length === 0) throw new CliUsageError("--teams needs team files: the deployment has none");
  const asked = raw.split(",").map((t) => t.trim());
  if (asked.some((t) => t === ""))
    throw new CliUsageError(`--teams takes team names separated by commas, not "${raw}"`);
  const unknown = asked.filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new CliUsageError(`--teams: no team ${unknown.join(", ")} (teams: ${known.join(", ")})`);
  if (new Set(asked).size !== asked.length) throw new CliUsageError(`--teams names a team twice: "${raw}"`);
  return asked;
}

/**
 * The teams a local stack runs (stack.json's `teams`) must be those of the team files verify reads, else every
 * expectation would be of another deployment.
 */
export function checkStackTeams(stackTeams: readonly string[], policySet: Pick<PolicySet, "teams">, source: string) {
  const files = policySet.teams?.names ?? [];
  const same = stackTeams.length === files.length && [...stackTeams].sort().every((t, i) => t === files[i]);
  if (!same)
    throw new CliFailure([
      `mlflow-gate: the local stack runs teams [${stackTeams.join(", ")}], the team files of ${source} name [${files.join(", ")}]: set MLFLOW_GATE_TEAMS_DIR as for "npm start"`,
    ]);
}

/** A team's base URL: the API's own with `/ws/<team>` (after the stage path on AWS). */
export function teamUrl(apiUrl: URL, team: string): URL {
  return new URL(`${apiUrl.href.replace(/\/$/, "")}/ws/${encodeURIComponent(team)}`);
}

/** Whether the principal's group reaches the team's workspace (admins reach every workspace). */
export function reaches(policySet: PolicySet, principal: VerifyPrincipal, team: string): boolean {
  const reach = policySet.reachableWorkspaces([principal.group]);
  return reach === "all" || reach.has(team);
}

/** Whether the group file of the principal's group reaches only the workspaces the team files give it (no admin). */
const isTeamMember = (policySet: PolicySet, p: VerifyPrincipal) => policySet.reachableWorkspaces([p.group]) !== "all";

/** Whether the principal may call every route of each action on its surface in the workspace. */
export function mayIn(
  policySet: PolicySet,
  principal: VerifyPrincipal,
  actions: readonly string[],
  workspace?: string,
): boolean {
  return actions.every((action) => {
    const routes = policySet.catalog.routes.filter((r) => r.action === action && r.auth === surfaceOf(principal));
    return routes.length > 0 && routes.every((r) => policySet.intends([principal.group], r, workspace));
  });
}

/** What team A's writer needs: its experiment and run, and their deletion. */
export const ISOLATION_WRITER_ACTIONS = [
  "CreateExperiment",
  "CreateRun",
  "GetRun",
  "DeleteRun",
  "DeleteExperiment",
] as const;
/** What team B's reader needs in B: the searches and by-id reads the check makes. */
export const ISOLATION_READER_ACTIONS = [
  "SearchExperiments",
  "GetExperimentByName",
  "GetExperiment",
  "GetRun",
] as const;

/** The isolation check between two teams: who writes in A, who reads in B, who tries to write from B into A. */
export interface IsolationPlan {
  readonly a: string;
  readonly b: string;
  readonly writerA: VerifyPrincipal;
  readonly readerB: VerifyPrincipal;
  readonly writerB: VerifyPrincipal;
}

/**
 * Team members only (admins reach both teams): a SigV4 writer of A; a reader of B (SigV4 first) that does not reach
 * A; a SigV4 writer of B that does not reach A. A string says what is missing.
 */
export function planIsolation(
  policySet: PolicySet,
  principals: readonly VerifyPrincipal[],
  teams: readonly string[],
): IsolationPlan | string {
  const [a, b] = teams;
  if (a === undefined || b === undefined) return "needs two teams";
  const members = principals.filter((p) => isTeamMember(policySet, p));
  const writerA = members.find(
    (p) => p.kind === "sigv4" && reaches(policySet, p, a) && mayIn(policySet, p, ISOLATION_WRITER_ACTIONS, a),
  );
  const onlyB = members.filter((p) => reaches(policySet, p, b) && !reaches(policySet, p, a));
  // The least rights first (a reader proper), SigV4 before bearer.
  const rights = (p: VerifyPrincipal) =>
    policySet.catalog.routes.filter((r) => policySet.intends([p.group], r, b)).length * 2 +
    (p.kind === "sigv4" ? 0 : 1);
  const readerB = [...onlyB]
    .sort((x, y) => rights(x) - rights(y))
    .find((p) => mayIn(policySet, p, ISOLATION_READER_ACTIONS, b));
  const writerB = onlyB.find((p) => p.kind === "sigv4" && mayIn(policySet, p, ["CreateRun", "LogMetric"], b));
  const missing = [
    ...(writerA ? [] : [`SigV4 principal of ${a} whose group may ${ISOLATION_WRITER_ACTIONS.join(", ")} there`]),
    ...(readerB ? [] : [`principal of ${b} (not of ${a}) whose group may ${ISOLATION_READER_ACTIONS.join(", ")}`]),
    ...(writerB ? [] : [`SigV4 principal of ${b} (not of ${a}) whose group may CreateRun, LogMetric there`]),
  ];
  if (!writerA || !readerB || !writerB) return `no ${missing.join("; no ")}`;
  return { a, b, writerA, readerB, writerB };
}
