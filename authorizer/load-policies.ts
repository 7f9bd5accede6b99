import { existsSync, readdirSync, readFileSync } from "fs";
import { basename, isAbsolute, join, relative } from "path";
import { parseRouteCatalog, RouteCatalog } from "./core/catalog";
import { GroupPolicyError } from "./core/errors";
import { parseGroupFile } from "./core/group-file";
import { GroupFile } from "./core/groups";
import { PolicySet } from "./core/policy-set";
import { parseTeamFile } from "./core/team-file";
import { TeamFile } from "./core/teams";

/**
 * Reads every `*.yaml` of a policy directory with `parse`, collecting each problem as `file:line: message`
 * instead of stopping at the first. A file that does not parse is replaced by `stub`, so files that name it
 * do not also report it as unknown.
 */
function readPolicyFiles<T extends { readonly name: string }>(
  dir: string,
  kind: "group" | "team",
  parse: (name: string, file: string, text: string) => T,
  stub: (name: string, file: string) => T,
  displayRoot: string,
): { files: T[]; problems: string[] } {
  const show = (path: string) => {
    const rel = relative(displayRoot, path);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  };
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort();
  const problems: string[] = [];
  const files: T[] = [];
  for (const entry of entries) {
    const file = show(join(dir, entry));
    const name = basename(entry).replace(/\.ya?ml$/, "");
    if (files.some((f) => f.name === name)) {
      problems.push(`${file}:1: ${kind} "${name}" is defined twice (.yaml and .yml)`);
      continue;
    }
    try {
      files.push(parse(name, file, readFileSync(join(dir, entry), "utf8")));
    } catch (e) {
      if (!(e instanceof GroupPolicyError)) throw e;
      problems.push(...e.problems);
      files.push(stub(name, file));
    }
  }
  return { files, problems };
}

/** Reads every group file of a directory (see readPolicyFiles); a directory without one is a problem. */
export function readGroupFiles(dir: string, displayRoot = process.cwd()): { files: GroupFile[]; problems: string[] } {
  const read = readPolicyFiles(
    dir,
    "group",
    parseGroupFile,
    (name, file) => ({ name, file, description: "", extends: [], allow: [], deny: [], unknownRoutes: "deny" as const }),
    displayRoot,
  );
  if (read.files.length === 0) read.problems.unshift(`${dir}: no group files (*.yaml)`);
  return read;
}

/** Reads every team file of a directory; none, or no directory at all, is no teams (MLflow without workspaces). */
export function readTeamFiles(dir: string, displayRoot = process.cwd()): { files: TeamFile[]; problems: string[] } {
  if (!existsSync(dir)) return { files: [], problems: [] };
  return readPolicyFiles(
    dir,
    "team",
    parseTeamFile,
    (name, file) => ({ name, file, description: "", tiers: [] }),
    displayRoot,
  );
}

/** Reads every group file; all problems of all files are reported together in one GroupPolicyError. */
export function loadGroupFiles(dir: string, displayRoot = process.cwd()): GroupFile[] {
  const { files, problems } = readGroupFiles(dir, displayRoot);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);
  return files;
}

/** Reads every team file (none when the directory is missing); all problems together in one GroupPolicyError. */
export function loadTeamFiles(dir: string, displayRoot = process.cwd()): TeamFile[] {
  const { files, problems } = readTeamFiles(dir, displayRoot);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);
  return files;
}

export function loadRouteCatalog(file: string): RouteCatalog {
  return parseRouteCatalog(JSON.parse(readFileSync(file, "utf8")));
}

/**
 * The catalog, the group files and (when `teamsDir` is given and holds team files) the teams: everything a
 * decision needs. Without team files the API keeps its single-workspace layout.
 */
export function loadPolicySet(
  catalogFile: string,
  groupsDir: string,
  displayRoot?: string,
  teamsDir?: string,
): PolicySet {
  return PolicySet.fromFiles(
    loadRouteCatalog(catalogFile),
    loadGroupFiles(groupsDir, displayRoot),
    undefined,
    teamsDir === undefined ? [] : loadTeamFiles(teamsDir, displayRoot),
  );
}
