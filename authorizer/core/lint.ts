// The checks of `mlflow-gate policy lint` on compiled policies: each group compiles, grants exactly what
// it means to (route by route, as the deployed gateway decides), and fits the authorizer's design limit and
// IAM's quotas in the worst case. Pure: the CLI reads the files and prints the report.
import { CatalogRoute, RouteCatalog, routeId, samplePath } from "./catalog";
import { buildIamPolicies, iamPolicySize } from "./compile";
import { GroupPolicyError, MlflowGateError } from "./errors";
import { GroupFile } from "./groups";
import { lintTeams, TeamsLintReport } from "./lint-teams";
import { TeamFile } from "./teams";
import { decidePath } from "./decide-request";
import { answerTooLarge, LargestAnswer, largestAnswer, WORST_IAM_SCOPE } from "./lint-sizes";
import { groupCombinations, PolicySet, Surface } from "./policy-set";

export { largestAnswer } from "./lint-sizes";
export type { LargestAnswer } from "./lint-sizes";

export interface GroupSizes extends LargestAnswer {
  readonly group: string;
  readonly iamPolicyChars: readonly number[];
  readonly globs: Record<Surface, { readonly allow: number; readonly deny: number }>;
}

export interface LintReport {
  readonly problems: string[];
  readonly sizes: GroupSizes[];
  /** The largest authorizer answer for users in several groups. */
  readonly unions: (LargestAnswer & { readonly groups: readonly string[] })[];
  readonly routeCount: number;
  /** The checks of the team files, when there are any and the group files pass theirs. */
  readonly teams?: TeamsLintReport;
}

/**
 * The group sets whose union policy a user in several groups gets: every combination while there
 * are few groups, else all groups without `unknownRoutes: allow` together (the largest grant, whose
 * policy is the largest in practice). Unions with such a group compile to `*`.
 */
function unionsToMeasure(set: PolicySet): string[][] {
  const names = [...set.groups.keys()].sort();
  const combos = groupCombinations(names);
  if (combos.length > 0 || names.length < 2) return combos;
  const bounded = names.filter((n) => set.groups.get(n)?.unknownRoutes !== "allow");
  return bounded.length >= 2 ? [bounded] : [];
}

/**
 * Why the deployed system could not give these groups what their files say on a surface, if it could not: the
 * policy does not compile, or does not fit API Gateway's or IAM's limits in the worst case (the checks of
 * `policy lint`, for one set of groups). `policy check` answers DENY then, never an ALLOW nothing could deploy.
 */
export function undeployable(set: PolicySet, groups: readonly string[], surface: Surface): string | undefined {
  try {
    if (surface === "cognito") {
      const tooLarge = answerTooLarge(`a user in ${groups.join(" + ")}`, largestAnswer(set, groups));
      return tooLarge && `${tooLarge} (policy lint)`;
    }
    // A role carries one group's policies; building them refuses what a role could not hold.
    for (const group of groups) buildIamPolicies(set.resourcesFor([group], "iam"), WORST_IAM_SCOPE);
    return undefined;
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    return `the policies of ${groups.join(" + ")} cannot be built: ${e.message}`;
  }
}

/** Whether the deployed system lets the group call a route (on its sample path) exactly when the group means to. */
function grantMismatches(set: PolicySet, group: string): { route: CatalogRoute; allowed: boolean }[] {
  const unknownRoutesAllowed = set.groups.get(group)?.unknownRoutes === "allow";
  const out: { route: CatalogRoute; allowed: boolean }[] = [];
  for (const route of set.catalog.routes) {
    const d = decidePath(set, [group], route.method, samplePath(route.path));
    const allowed = d.decision === "allow";
    // The sample path of a shadowed route is served by another route: that one's intent decides.
    const intended = d.route ? set.intends([group], d.route) : unknownRoutesAllowed;
    if (allowed !== intended) out.push({ route, allowed });
  }
  return out;
}

function measureGroup(set: PolicySet, group: string, file: string, problems: string[]): GroupSizes | undefined {
  let iam, cognito;
  try {
    iam = set.resourcesFor([group], "iam");
    cognito = set.resourcesFor([group], "cognito");
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    problems.push(`${file}:1: cannot compile group "${group}": ${e.message}`);
    return undefined;
  }
  let mismatches: ReturnType<typeof grantMismatches> = [];
  try {
    mismatches = grantMismatches(set, group);
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    problems.push(`${file}:1: cannot decide requests of "${group}": ${e.message}`);
  }
  for (const { route, allowed } of mismatches) {
    problems.push(
      allowed
        ? `${file}:1: over-grant: the compiled ${route.auth} policy of "${group}" allows ${routeId(route)} (${route.action}), which the group does not allow`
        : `${file}:1: under-grant: the compiled ${route.auth} policy of "${group}" denies ${routeId(route)} (${route.action}), which the group allows`,
    );
  }
  const largest = largestAnswer(set, [group]);
  const tooLarge = answerTooLarge(`"${group}"`, largest);
  if (tooLarge) problems.push(`${file}:1: ${tooLarge}`);
  let iamPolicyChars: number[] = [];
  try {
    iamPolicyChars = buildIamPolicies(iam, WORST_IAM_SCOPE).map(iamPolicySize);
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    problems.push(`${file}:1: the IAM policies of "${group}" do not fit: ${e.message}`);
  }
  return {
    group,
    ...largest,
    iamPolicyChars,
    globs: {
      iam: { allow: iam.allow.length, deny: iam.deny.length },
      cognito: { allow: cognito.allow.length, deny: cognito.deny.length },
    },
  };
}

/**
 * Promotion blocks that cannot mean what they say: stage or alias rights without the route that uses
 * them (the block never applies), or the route right with nothing it may promote (every call refused).
 * Unknown stage names never get here: the schema refuses them.
 */
function promotionProblems(set: PolicySet, group: string, file: string, line: number): string[] {
  const rule = set.groups.get(group)?.promotion;
  if (rule === undefined) return [];
  const may = (action: string): boolean =>
    set.catalog.routes.some((r) => r.action === action && set.intends([group], r));
  const transition = may("TransitionModelVersionStage");
  const aliases = may("SetRegisteredModelAlias") || may("DeleteRegisteredModelAlias");
  const problems: string[] = [];
  const at = `${file}:${line}: "${group}"`;
  if (!transition && (rule.stagesTo.length > 0 || rule.stagesFrom !== undefined))
    problems.push(`${at} has stage rights but not TransitionModelVersionStage: they never apply`);
  if (transition && rule.stagesTo.length === 0)
    problems.push(
      `${at} may call TransitionModelVersionStage but move a version to no stage: every call is refused (grant stages.to, or deny the route)`,
    );
  if (!aliases && rule.aliasesAllow.length > 0)
    problems.push(
      `${at} has alias rights but neither SetRegisteredModelAlias nor DeleteRegisteredModelAlias: they never apply`,
    );
  if (aliases && rule.aliasesAllow.length === 0)
    problems.push(
      `${at} may call the alias routes but name no alias: every call is refused (grant aliases.allow, or deny the routes)`,
    );
  return problems;
}

/** The `file:line` a problem line starts with. */
const location = (problem: string): string => /^[^:]*:\d+:/.exec(problem)?.[0] ?? problem;

/**
 * Every check of `policy lint`, on group files already read: `readProblems` are what reading them found
 * (a file that does not parse is an empty stand-in among `files`). Stops after the file-level problems,
 * since compiling needs valid files.
 */
export function lintGroupFiles(
  catalog: RouteCatalog,
  files: readonly GroupFile[],
  readProblems: readonly string[],
  teamFiles: { readonly files: readonly TeamFile[]; readonly problems: readonly string[] } = {
    files: [],
    problems: [],
  },
): LintReport {
  const problems: string[] = [...readProblems];
  let set: PolicySet | undefined;
  try {
    set = PolicySet.fromFiles(catalog, files);
  } catch (e) {
    if (!(e instanceof GroupPolicyError)) throw e;
    problems.push(...e.problems);
  }
  const stop = () => ({ problems: [...new Set(problems)], sizes: [], unions: [], routeCount: catalog.routes.length });
  if (!set || problems.length > 0) return stop();
  const report = lintPolicySet(set, files);
  if (teamFiles.files.length === 0 && teamFiles.problems.length === 0) return report;
  // The teams: their files' own problems first, then the placed policies of each group they name.
  problems.push(...report.problems, ...teamFiles.problems);
  let teamSet: PolicySet | undefined;
  try {
    teamSet = PolicySet.fromFiles(catalog, files, undefined, teamFiles.files);
  } catch (e) {
    if (!(e instanceof GroupPolicyError)) throw e;
    // What reading a file found at a line stands for what resolving finds there (a bad team name, said twice).
    const read = new Set(teamFiles.problems.map(location));
    problems.push(...e.problems.filter((p) => !read.has(location(p))));
  }
  if (!teamSet || problems.length > 0) return { ...report, problems: [...new Set(problems)] };
  const teams = lintTeams(teamSet);
  return { ...report, problems: [...report.problems, ...teams.problems], teams };
}

/** The checks on compiled policies: compilation, grants equal to the groups' intent, size limits. */
export function lintPolicySet(
  set: PolicySet,
  files: readonly Pick<GroupFile, "name" | "file" | "promotion">[],
): LintReport {
  const problems: string[] = [];
  const sizes: GroupSizes[] = [];
  for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
    const s = measureGroup(set, f.name, f.file, problems);
    if (s) sizes.push(s);
    problems.push(...promotionProblems(set, f.name, f.file, f.promotion?.line ?? 1));
  }
  const unions: LintReport["unions"][number][] = [];
  if (problems.length === 0) {
    for (const groups of unionsToMeasure(set)) {
      const largest = largestAnswer(set, groups);
      unions.push({ groups, ...largest });
      const tooLarge = answerTooLarge(`a user in ${groups.join(" + ")}`, largest);
      if (tooLarge) problems.push(`policies/groups: ${tooLarge}`);
    }
  }
  return { problems, sizes, unions, routeCount: set.catalog.routes.length };
}
