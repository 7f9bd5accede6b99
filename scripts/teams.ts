// `mlflow-gate teams list` and `teams show`: who can do what where, read from the team and group files.
import { DEFAULT_WORKSPACE, WORKSPACE_PATH_PART } from "../authorizer/core/contract";
import { PolicySet } from "../authorizer/core/policy-set";
import { Team, Teams } from "../authorizer/core/teams";
import { CliUsageError } from "./lib/cli-errors";
import { Command, Context } from "./lib/command";
import { display, loadSet } from "./lib/load-set";
import { describeClasses, summarizeTier, tierSet } from "./lib/tier-summary";

const TEAMS_DOC = "docs/teams.md";

const write = (ctx: Context, lines: readonly string[]) => {
  for (const l of lines) ctx.io.stdout.write(`${l}\n`);
};

/** The first sentence of a description, on one line. */
export function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return /^.*?[.!?](?=\s|$)/.exec(flat)?.[0] ?? flat;
}

const holdersOf = (team: Team): string =>
  [...team.tiers].map(([tier, groups]) => `${tier}: ${groups.join(", ") || "nobody"}`).join("; ");

const workspacePath = (workspace: string): string => `/${WORKSPACE_PATH_PART}/${workspace}/`;

/** The global group files (admins): they reach every workspace. */
const globalGroups = (set: PolicySet, teams: Teams): string[] =>
  [...set.groups.keys()].filter((g) => teams.isGlobal(g)).sort();

function noTeams(ctx: Context): string {
  return `no team files in ${display(ctx.teamsDir)}: one MLflow workspace (${DEFAULT_WORKSPACE}), its routes at the API's root; to add teams, see ${TEAMS_DOC}`;
}

function noMoreArgs(ctx: Context, used: number): void {
  const extra = ctx.args[used];
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`);
}

function teamsList(ctx: Context): number {
  noMoreArgs(ctx, 0);
  const set = loadSet(ctx);
  if (!set.teams) {
    write(ctx, [noTeams(ctx)]);
    return 0;
  }
  const teams = [...set.teams.byName.values()];
  const width = Math.max(...teams.map((t) => t.name.length));
  write(ctx, [
    ...teams.map((t) => `${t.name.padEnd(width)}  ${firstSentence(t.description)}  ${holdersOf(t)}`),
    `${teams.length} team${teams.length === 1 ? "" : "s"}; ${globalGroups(set, set.teams).join(", ") || "no group"} reach every workspace (workspaces: all)`,
  ]);
  return 0;
}

function showTeam(ctx: Context, set: PolicySet, teams: Teams, name: string): string[] {
  const team = teams.byName.get(name);
  if (!team) throw new CliUsageError(`unknown team "${name}" (teams: ${teams.names.join(", ")})`);
  const tiers = tierSet(set);
  const globals = globalGroups(set, teams);
  const lines = [
    `${team.name} (${team.file}): ${firstSentence(team.description)}`,
    `MLflow workspace ${team.name}, under ${workspacePath(team.name)}; also reached by ${globals.join(", ") || "no one else"} (workspaces: all).`,
  ];
  for (const [tier, holders] of team.tiers) {
    const s = summarizeTier(tiers, tier);
    lines.push(
      "",
      `${tier}: ${holders.join(", ") || "nobody"}`,
      `  may call ${s.allowed} of ${s.total} routes: ${describeClasses(s) || "none"}`,
      `  promotion: ${s.promotion}`,
    );
  }
  lines.push(
    "",
    `A holder's decisions in ${workspacePath(team.name)} are its tiers' (policies/decision-matrix.md, one column per tier); several tiers: their union.`,
  );
  return lines;
}

function showGroup(set: PolicySet, teams: Teams, group: string): string[] {
  if (!set.callerGroups.has(group))
    throw new CliUsageError(`unknown group "${group}" (known groups: ${[...set.callerGroups].sort().join(", ")})`);
  const grants = teams.grants([group]);
  const lines =
    teams.reachable([group]) === "all"
      ? [`${group} reaches every workspace (workspaces: all in its group file), those made later too:`]
      : [`${group} reaches ${grants.size} workspace${grants.size === 1 ? "" : "s"}:`];
  const width = Math.max(...[...grants.keys()].map((w) => w.length));
  for (const [workspace, tierNames] of grants)
    lines.push(
      `  ${workspace.padEnd(width)}  ${workspacePath(workspace).padEnd(workspacePath("").length + width)}  ${tierNames.join(", ")}`,
    );
  return lines;
}

function teamsShow(ctx: Context): number {
  noMoreArgs(ctx, 1);
  const [team] = ctx.args;
  const groups = ctx.values.group ?? [];
  if ((team === undefined) === (groups.length === 0)) throw new CliUsageError("teams show needs TEAM or --group G");
  if (groups.length > 1) throw new CliUsageError("teams show --group takes one group");
  const set = loadSet(ctx);
  if (!set.teams) throw new CliUsageError(noTeams(ctx));
  write(ctx, team !== undefined ? showTeam(ctx, set, set.teams, team) : showGroup(set, set.teams, groups[0] as string));
  return 0;
}

export const teamsCommands: readonly Command[] = [
  { name: "teams list", options: [], run: teamsList },
  { name: "teams show", options: ["group"], run: teamsShow },
];
