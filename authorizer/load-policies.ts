import { readdirSync, readFileSync } from "fs";
import { basename, isAbsolute, join, relative } from "path";
import { parseRouteCatalog, RouteCatalog } from "./core/catalog";
import { GroupPolicyError } from "./core/errors";
import { parseGroupFile } from "./core/group-file";
import { GroupFile } from "./core/groups";
import { PolicySet } from "./core/policy-set";

/**
 * Reads every `*.yaml` of a groups directory, collecting each problem as `file:line: message` instead
 * of stopping at the first. A file that does not parse is replaced by an empty stand-in, so groups
 * that extend it do not also report it as unknown.
 */
export function readGroupFiles(dir: string, displayRoot = process.cwd()): { files: GroupFile[]; problems: string[] } {
  const show = (path: string) => {
    const rel = relative(displayRoot, path);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  };
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort();
  const problems: string[] = entries.length === 0 ? [`${show(dir)}: no group files (*.yaml)`] : [];
  const files: GroupFile[] = [];
  for (const entry of entries) {
    const file = show(join(dir, entry));
    const name = basename(entry).replace(/\.ya?ml$/, "");
    if (files.some((f) => f.name === name)) {
      problems.push(`${file}:1: group "${name}" is defined twice (.yaml and .yml)`);
      continue;
    }
    try {
      files.push(parseGroupFile(name, file, readFileSync(join(dir, entry), "utf8")));
    } catch (e) {
      if (!(e instanceof GroupPolicyError)) throw e;
      problems.push(...e.problems);
      files.push({ name, file, description: "", extends: [], allow: [], deny: [], unknownRoutes: "deny" });
    }
  }
  return { files, problems };
}

/** Reads every group file; all problems of all files are reported together in one GroupPolicyError. */
export function loadGroupFiles(dir: string, displayRoot = process.cwd()): GroupFile[] {
  const { files, problems } = readGroupFiles(dir, displayRoot);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);
  return files;
}

export function loadRouteCatalog(file: string): RouteCatalog {
  return parseRouteCatalog(JSON.parse(readFileSync(file, "utf8")));
}

export function loadPolicySet(catalogFile: string, groupsDir: string, displayRoot?: string): PolicySet {
  return PolicySet.fromFiles(loadRouteCatalog(catalogFile), loadGroupFiles(groupsDir, displayRoot));
}
