import { readFileSync } from "fs";
import { parseRouteCatalog, RouteCatalog } from "./core/catalog";
import { ConfigError, GroupPolicyError, MlflowGateError } from "./core/errors";
import { GROUP_NAME, GroupFile, PatternAt } from "./core/groups";
import { PolicySet, PrecompiledResources } from "./core/policy-set";
import { isTeamName, TEAM_NAME_RULE } from "./core/contract";
import { TeamFile } from "./core/teams";

/**
 * What the build ships beside the bundled handler: the route catalog, the parsed group files, and
 * the authorizer's resources compiled for each group and group combination (so that no request
 * pays for compiling). The Lambda resolves the groups at cold start; it never reads YAML.
 */
export interface PolicyBundle {
  readonly catalog: RouteCatalog;
  readonly groups: readonly GroupFile[];
  /** The team files, parsed; absent: no teams. */
  readonly teams?: readonly TeamFile[];
  readonly compiled?: readonly PrecompiledResources[];
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

function compiledProblems(raw: unknown, i: number, names: ReadonlySet<string>): string[] {
  const c = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const where = `compiled[${i}]`;
  const problems: string[] = [];
  if (!isStrings(c.groups) || c.groups.length === 0 || !c.groups.every((g) => names.has(g)))
    problems.push(`${where}.groups must name groups of the bundle`);
  if (c.surface !== "cognito" && c.surface !== "iam") problems.push(`${where}.surface must be cognito or iam`);
  if (!isStrings(c.allow) || !isStrings(c.deny)) problems.push(`${where}.allow and .deny must be lists of strings`);
  return problems;
}

function isPatterns(value: unknown): value is PatternAt[] {
  return Array.isArray(value) && value.every((p) => typeof p?.pattern === "string" && Number.isInteger(p?.line));
}

/** Narrows one group record of a bundle; returns the problems found. */
function groupProblems(raw: unknown, i: number): string[] {
  const g = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const where = `groups[${i}]`;
  const problems: string[] = [];
  if (typeof g.name !== "string" || !GROUP_NAME.test(g.name))
    problems.push(`${where}.name must match ${GROUP_NAME.source}`);
  if (typeof g.file !== "string") problems.push(`${where}.file must be a string`);
  if (typeof g.description !== "string") problems.push(`${where}.description must be a string`);
  if (!Array.isArray(g.extends) || !g.extends.every((e) => typeof e === "string"))
    problems.push(`${where}.extends must be a list of names`);
  if (!isPatterns(g.allow)) problems.push(`${where}.allow must be a list of { pattern, line }`);
  if (!isPatterns(g.deny)) problems.push(`${where}.deny must be a list of { pattern, line }`);
  if (g.unknownRoutes !== "allow" && g.unknownRoutes !== "deny")
    problems.push(`${where}.unknownRoutes must be allow or deny`);
  if (g.workspaces !== undefined && g.workspaces !== "all" && g.workspaces !== "teams")
    problems.push(`${where}.workspaces must be all or teams`);
  return problems;
}

/** Narrows one team record of a bundle; returns the problems found. */
function teamProblems(raw: unknown, i: number): string[] {
  const t = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const where = `teams[${i}]`;
  const problems: string[] = [];
  if (typeof t.name !== "string" || !isTeamName(t.name)) problems.push(`${where}.name must be ${TEAM_NAME_RULE}`);
  if (typeof t.file !== "string") problems.push(`${where}.file must be a string`);
  if (typeof t.description !== "string") problems.push(`${where}.description must be a string`);
  const tiers = t.tiers;
  if (
    !Array.isArray(tiers) ||
    !tiers.every(
      (x: Record<string, unknown>) =>
        typeof x?.tier === "string" &&
        Number.isInteger(x?.line) &&
        Array.isArray(x?.groups) &&
        (x.groups as unknown[]).every((g) => typeof g === "string" && GROUP_NAME.test(g)),
    )
  )
    problems.push(`${where}.tiers must be a list of { tier, line, groups }`);
  return problems;
}

/** Validates a bundle read from JSON and resolves its groups (and teams) against its catalog. */
export function parsePolicyBundle(input: unknown): PolicySet {
  const b = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  if (!Array.isArray(b.groups) || b.groups.length === 0)
    throw new ConfigError("policy bundle: groups must be a non-empty list");
  const problems = b.groups.flatMap(groupProblems);
  const names = new Set((b.groups as { name?: unknown }[]).map((g) => String(g?.name)));
  if (b.compiled !== undefined && !Array.isArray(b.compiled)) problems.push("compiled must be a list");
  if (b.teams !== undefined && !Array.isArray(b.teams)) problems.push("teams must be a list");
  const teams = Array.isArray(b.teams) ? b.teams : [];
  problems.push(...teams.flatMap(teamProblems));
  const compiled = Array.isArray(b.compiled) ? b.compiled : [];
  problems.push(...compiled.flatMap((c, i) => compiledProblems(c, i, names)));
  if (problems.length > 0) throw new ConfigError(`policy bundle:\n  ${problems.join("\n  ")}`);
  try {
    return PolicySet.fromFiles(
      parseRouteCatalog(b.catalog),
      b.groups as GroupFile[],
      compiled as PrecompiledResources[],
      teams as TeamFile[],
    );
  } catch (e) {
    if (e instanceof GroupPolicyError) throw new ConfigError(`policy bundle:\n  ${e.problems.join("\n  ")}`);
    if (e instanceof MlflowGateError) throw new ConfigError(`policy bundle: ${e.message}`);
    throw e;
  }
}

/** Reads the bundle; any problem (missing file, bad JSON, bad content) is a ConfigError naming the file. */
export function loadPolicyBundle(file: string): PolicySet {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read the policy bundle ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`policy bundle ${file} is not JSON: ${(e as Error).message}`);
  }
  try {
    return parsePolicyBundle(json);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}
