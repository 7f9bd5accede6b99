import { DEFAULT_WORKSPACE, isTeamName, TEAM_NAME_RULE } from "./contract";
import { GroupPolicyError } from "./errors";
import { ResolvedGroup } from "./groups";

/** A team file's content, with lines for messages. The file name is the team: its workspace and its path. */
export interface TeamFile {
  readonly name: string;
  readonly file: string;
  readonly description: string;
  /** Each tier (a group file's name) and the groups that hold it in this team's workspace. */
  readonly tiers: readonly TierAt[];
}

export interface TierAt {
  readonly tier: string;
  readonly line: number;
  readonly groups: readonly string[];
}

/** One team with its tiers resolved. */
export interface Team {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  /** Tier to the groups holding it, in file order. */
  readonly tiers: ReadonlyMap<string, readonly string[]>;
  /** Tier to its line in the file. */
  readonly tierLines: ReadonlyMap<string, number>;
}

/**
 * The teams of the team files, checked against the group files: who holds which tier in which workspace. A
 * caller's groups are read through it: in a workspace, a group grants the tiers the team files give it there,
 * and a group file with `workspaces: all` grants its own routes everywhere. Pure.
 */
export class Teams {
  /** Group name to workspace to the tiers it holds there. */
  private readonly tiersByGroup = new Map<string, Map<string, string[]>>();
  readonly byName: ReadonlyMap<string, Team>;

  constructor(
    teams: readonly Team[],
    private readonly groups: ReadonlyMap<string, ResolvedGroup>,
  ) {
    this.byName = new Map([...teams].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => [t.name, t]));
    for (const team of this.byName.values()) {
      for (const [tier, holders] of team.tiers) {
        for (const g of holders) {
          let byWorkspace = this.tiersByGroup.get(g);
          if (!byWorkspace) this.tiersByGroup.set(g, (byWorkspace = new Map()));
          byWorkspace.set(team.name, [...(byWorkspace.get(team.name) ?? []), tier]);
        }
      }
    }
  }

  /** The teams' workspaces, sorted. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Every workspace a group with `workspaces: all` reaches by name: each team's and `default`. */
  get allWorkspaces(): string[] {
    return [...new Set([...this.names, DEFAULT_WORKSPACE])].sort();
  }

  /** Whether the group file reaches every workspace (`workspaces: all`). */
  isGlobal(group: string): boolean {
    return this.groups.get(group)?.workspaces === "all";
  }

  /** The group names a user or role may carry to any effect: the team files' groups and the global group files. */
  callerGroupNames(): Set<string> {
    return new Set([...this.tiersByGroup.keys(), ...[...this.groups.keys()].filter((g) => this.isGlobal(g))]);
  }

  /** The tiers (group file names) the groups hold in one workspace, sorted, each once. */
  tiersIn(groups: readonly string[], workspace: string): string[] {
    const tiers = new Set<string>();
    for (const g of groups) {
      if (this.isGlobal(g)) tiers.add(g);
      for (const t of this.tiersByGroup.get(g)?.get(workspace) ?? []) tiers.add(t);
    }
    return [...tiers].sort();
  }

  /** The workspaces the groups reach: "all" with a global group, else those team files name them in. */
  reachable(groups: readonly string[]): "all" | ReadonlySet<string> {
    if (groups.some((g) => this.isGlobal(g))) return "all";
    const out = new Set<string>();
    for (const g of groups) for (const w of this.tiersByGroup.get(g)?.keys() ?? []) out.add(w);
    return out;
  }

  /** Each workspace the groups reach by name, with the tiers they hold there. */
  grants(groups: readonly string[]): Map<string, string[]> {
    const reach = this.reachable(groups);
    const workspaces = reach === "all" ? this.allWorkspaces : [...reach].sort();
    return new Map(workspaces.map((w) => [w, this.tiersIn(groups, w)]));
  }

  /** Who holds what in a workspace: tier to groups (empty for a workspace without a team file). */
  holders(workspace: string): ReadonlyMap<string, readonly string[]> {
    return this.byName.get(workspace)?.tiers ?? new Map();
  }

  /** Where a group is first given a tier: `file:line`, for messages about it. */
  whereDefined(group: string): string {
    for (const team of this.byName.values())
      for (const [tier, holders] of team.tiers)
        if (holders.includes(group)) return `${team.file}:${team.tierLines.get(tier) ?? 1}`;
    return this.groups.has(group) ? `policies/groups/${group}.yaml:1` : "policies/teams:1";
  }
}

/**
 * Checks team files against the resolved group files and builds the teams; every problem of every file is
 * reported at once (`file:line: message`).
 */
export function resolveTeams(files: readonly TeamFile[], groups: ReadonlyMap<string, ResolvedGroup>): Teams {
  const problems: string[] = [];
  const tierNames = [...groups.keys()].sort().join(", ");
  const teams: Team[] = [];
  for (const f of files) {
    if (!isTeamName(f.name))
      problems.push(`${f.file}:1: team name "${f.name}" must be ${TEAM_NAME_RULE} (it is a workspace and a path)`);
    const tiers = new Map<string, readonly string[]>();
    const tierLines = new Map<string, number>();
    for (const t of f.tiers) {
      if (!groups.has(t.tier))
        problems.push(`${f.file}:${t.line}: unknown tier "${t.tier}": a tier is a group file (${tierNames})`);
      for (const g of t.groups) {
        if (groups.get(g)?.workspaces === "all")
          problems.push(
            `${f.file}:${t.line}: "${g}" reaches every workspace already (workspaces: all in its group file)`,
          );
        else if (groups.has(g))
          problems.push(
            `${f.file}:${t.line}: "${g}" is a group file's name: a tier's holders need names of their own (e.g. ${f.name}-${t.tier})`,
          );
      }
      tiers.set(t.tier, t.groups);
      tierLines.set(t.tier, t.line);
    }
    teams.push({ name: f.name, description: f.description, file: f.file, tiers, tierLines });
  }
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);
  return new Teams(teams, groups);
}
