// The groups the team files name (their tiers' holders), for the commands that only check a group name a user or a
// role carries (users, verify): with teams, such a group is known although no group file has its name.
import { readTeamFiles } from "../../authorizer/load-policies";
import { CliFailure } from "./cli-errors";

/** Every holder the team files of `teamsDir` name, sorted; none without team files. A broken team file stops the command. */
export function teamGroupNames(teamsDir: string): string[] {
  const read = readTeamFiles(teamsDir);
  if (read.problems.length > 0) throw new CliFailure(read.problems);
  return [...new Set(read.files.flatMap((f) => f.tiers.flatMap((t) => t.groups)))].sort();
}
