// How the CLI reads the policy files: the route catalog, the group files and the team files, every problem of every
// file listed (`file:line: message`) before anything is decided.
import { isAbsolute, relative } from "path";
import { RouteCatalog } from "../../authorizer/core/catalog";
import { CatalogError } from "../../authorizer/core/errors";
import { GroupFile } from "../../authorizer/core/groups";
import { PolicySet } from "../../authorizer/core/policy-set";
import { TeamFile } from "../../authorizer/core/teams";
import { loadRouteCatalog, readGroupFiles, readTeamFiles } from "../../authorizer/load-policies";
import { CliFailure } from "./cli-errors";
import { Context } from "./command";

/** A path as the user would type it: relative when under the working directory, absolute otherwise. */
export function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** The catalog through the one loader; its problems become lines that name the file. */
export function loadCatalog(file: string): RouteCatalog {
  try {
    return loadRouteCatalog(file);
  } catch (e) {
    if (e instanceof SyntaxError) throw new CliFailure([`${display(file)}: invalid JSON: ${e.message}`]);
    if (e instanceof CatalogError) {
      const lines = e.message
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && l !== "invalid route catalog:");
      throw new CliFailure(lines.map((l) => `${display(file)}: ${l}`));
    }
    throw e;
  }
}

/** The group and team files, each read on its own, so one broken file does not hide the problems of the others. */
export function readPolicyFiles(ctx: Pick<Context, "groupsDir" | "teamsDir">): {
  groups: GroupFile[];
  teams: TeamFile[];
  groupProblems: string[];
  teamProblems: string[];
} {
  const groups = readGroupFiles(ctx.groupsDir);
  const teams = readTeamFiles(ctx.teamsDir);
  return { groups: groups.files, teams: teams.files, groupProblems: groups.problems, teamProblems: teams.problems };
}

/** The policy set of the catalog, the group files and the team files (none: no teams); any problem stops the command. */
export function loadSet(ctx: Pick<Context, "catalogFile" | "groupsDir" | "teamsDir">): PolicySet {
  const catalog = loadCatalog(ctx.catalogFile);
  const read = readPolicyFiles(ctx);
  const problems = [...read.groupProblems, ...read.teamProblems];
  if (problems.length > 0) throw new CliFailure(problems);
  // Team files that name unknown tiers or misnamed holders throw a GroupPolicyError: its lines are printed as they are.
  return PolicySet.fromFiles(catalog, read.groups, undefined, read.teams);
}
