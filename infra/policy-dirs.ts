// Where a deployment reads its policies: the one place that decides it. The app, the authorizer's build and the
// guard's image all follow from the directories chosen here, and the policy set is loaded from them once.
import { createHash } from "crypto";
import { isAbsolute, resolve } from "path";
import type { PolicyDirs } from "../authorizer/build";
import { ConfigError } from "../authorizer/core/errors";
import { PolicySet } from "../authorizer/core/policy-set";
import { loadPolicySet } from "../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR, REPO_ROOT, TEAMS_DIR } from "../project/paths";

export type { PolicyDirs };

/** The repository's group and team files (policies/groups, policies/teams). */
export const DEFAULT_POLICY_DIRS: PolicyDirs = { groupsDir: GROUPS_DIR, teamsDir: TEAMS_DIR };

/**
 * The CDK context keys that override the directories (`-c teamsDir=policies/examples/teams`): relative paths are
 * the repository root's.
 */
export const POLICY_DIRS_CONTEXT = { groupsDir: "groupsDir", teamsDir: "teamsDir" } as const;

/** The directories from the CDK context (`tryGetContext`), each defaulting to the repository's. */
export function policyDirsOf(context: (key: string) => unknown): PolicyDirs {
  const problems: string[] = [];
  const dir = (key: keyof PolicyDirs): string => {
    const v = context(POLICY_DIRS_CONTEXT[key]);
    if (v === undefined || v === null || v === "") return DEFAULT_POLICY_DIRS[key];
    if (typeof v !== "string") {
      problems.push(`context ${POLICY_DIRS_CONTEXT[key]} must be a directory path, not ${JSON.stringify(v)}`);
      return DEFAULT_POLICY_DIRS[key];
    }
    return isAbsolute(v) ? v : resolve(REPO_ROOT, v);
  };
  const dirs = { groupsDir: dir("groupsDir"), teamsDir: dir("teamsDir") };
  if (problems.length > 0) throw new ConfigError(problems.join("\n  "), problems);
  return dirs;
}

/** The policy set of the deployment: the catalog, the group files and the team files of `dirs`. */
export function loadDeployedPolicies(dirs: PolicyDirs): PolicySet {
  return loadPolicySet(CATALOG_FILE, dirs.groupsDir, REPO_ROOT, dirs.teamsDir);
}

/**
 * A build folder for the policies of `dirs`: `base` itself for the repository's, else `base` with a suffix
 * naming the dirs. Builds of different policies (tests synthesizing with and without teams in parallel) never
 * share a folder, so none ships another's files.
 */
export function buildDirFor(base: string, dirs: PolicyDirs): string {
  if (resolve(dirs.groupsDir) === resolve(GROUPS_DIR) && resolve(dirs.teamsDir) === resolve(TEAMS_DIR)) return base;
  const hash = createHash("sha256")
    .update(`${resolve(dirs.groupsDir)}\0${resolve(dirs.teamsDir)}`)
    .digest("hex")
    .slice(0, 12);
  return `${base}-${hash}`;
}
