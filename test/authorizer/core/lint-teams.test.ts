import { lintTeams } from "../../../authorizer/core/lint-teams";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { TeamFile } from "../../../authorizer/core/teams";
import { loadGroupFiles, loadRouteCatalog } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR, REPO_ROOT } from "../../../project/paths";

const catalog = loadRouteCatalog(CATALOG_FILE);
const groups = loadGroupFiles(GROUPS_DIR, REPO_ROOT);

/** `n` teams whose writers tier is also held by one group of every team (a platform group). */
function teamsWithPlatformWriters(n: number): TeamFile[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `team-${i + 1}`;
    return {
      name,
      file: `policies/teams/${name}.yaml`,
      description: name,
      tiers: [
        { tier: "readers", line: 3, groups: [`${name}-readers`] },
        { tier: "writers", line: 4, groups: [`${name}-writers`, "platform-writers"] },
      ],
    };
  });
}

describe("lintTeams", () => {
  test("a team with one tier: no problem; its group measured with where it reaches and what it holds", () => {
    // Prepare (the example teams' lint runs in test/scripts/cli.test.ts, through the CLI)
    const one: TeamFile = {
      name: "team-x",
      file: "policies/teams/team-x.yaml",
      description: "x",
      tiers: [{ tier: "readers", line: 3, groups: ["team-x-readers"] }],
    };
    // Act
    const report = lintTeams(PolicySet.fromFiles(catalog, groups, undefined, [one]));
    // Assess
    expect(report.problems).toEqual([]);
    expect(report.groups.map((g) => g.group)).toEqual(["admins", "team-x-readers"]);
    expect(report.groups.find((g) => g.group === "team-x-readers")?.grants).toEqual([
      { workspace: "team-x", tiers: ["readers"] },
    ]);
    expect(report.groups.find((g) => g.group === "admins")?.iamPolicyChars).toHaveLength(1);
    expect(report.unions).toEqual([]);
  }, 120_000);

  test("a group holding a tier in many teams whose role's IAM policies do not fit is a problem at its team file's line", () => {
    // Act
    const report = lintTeams(PolicySet.fromFiles(catalog, groups, undefined, teamsWithPlatformWriters(5)));
    // Assess
    const platform = report.problems.filter((p) => p.includes('"platform-writers"'));
    expect(platform).toEqual([
      expect.stringMatching(
        /^policies\/teams\/team-1\.yaml:4: the IAM policies of a role in "platform-writers" do not fit: needs \d+ managed policies/,
      ),
    ]);
    // Its authorizer answers stay one team's size: only IAM is over.
    expect(report.groups.find((g) => g.group === "platform-writers")?.authorizerBytes).toBeLessThan(8192);
  }, 300_000);
});
