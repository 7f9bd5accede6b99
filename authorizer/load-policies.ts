import { readdirSync, readFileSync } from "fs";
import { basename, join, relative } from "path";
import { parseRouteCatalog, RouteCatalog } from "./core/catalog";
import { GroupPolicyError } from "./core/errors";
import { GroupFile, parseGroupFile } from "./core/groups";
import { PolicySet } from "./core/policy-set";

/** Reads every `*.yaml` of a groups directory; all problems of all files are reported together. */
export function loadGroupFiles(dir: string, displayRoot = process.cwd()): GroupFile[] {
  const problems: string[] = [];
  const files: GroupFile[] = [];
  for (const entry of readdirSync(dir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort()) {
    const path = join(dir, entry);
    try {
      files.push(parseGroupFile(basename(entry).replace(/\.ya?ml$/, ""), relative(displayRoot, path) || path, readFileSync(path, "utf8")));
    } catch (e) {
      if (e instanceof GroupPolicyError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);
  if (files.length === 0) throw new GroupPolicyError(`${dir}: no group files (*.yaml)`);
  return files;
}

export function loadRouteCatalog(file: string): RouteCatalog {
  return parseRouteCatalog(JSON.parse(readFileSync(file, "utf8")));
}

export function loadPolicySet(catalogFile: string, groupsDir: string, displayRoot?: string): PolicySet {
  return PolicySet.fromFiles(loadRouteCatalog(catalogFile), loadGroupFiles(groupsDir, displayRoot));
}
