// The teams section's pure parts: the sizes of synthetic team sets and their table. The latency half starts two
// stacks; `npm run bench -- --quick` (index.test.ts) runs it.
import type { BenchRun } from "../../bench/index";
import { renderResults, teamSizesTable } from "../../bench/report";
import {
  measureTeamSizes,
  PLATFORM_GROUP,
  SIZE_LIMITS,
  syntheticTeamFiles,
  TEAM_TIERS,
  TeamSizes,
  TeamsResults,
  CALLERS,
} from "../../bench/teams";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";

const catalog = loadRouteCatalog(CATALOG_FILE);
const groupFiles = loadGroupFiles(GROUPS_DIR);

describe("syntheticTeamFiles", () => {
  it("gives each team's four tiers to its own groups, and writers also to the platform group", () => {
    // Act
    const files = syntheticTeamFiles(3);
    const set = PolicySet.fromFiles(catalog, groupFiles, undefined, files);
    // Assess
    expect(files.map((f) => f.name)).toEqual(["team-1", "team-2", "team-3"]);
    expect(set.tiersIn(["team-2-model-approvers"], "team-2")).toEqual(["model-approvers"]);
    expect(set.tiersIn(["team-2-model-approvers"], "team-1")).toEqual([]);
    expect(set.reachableWorkspaces([PLATFORM_GROUP])).toEqual(new Set(["team-1", "team-2", "team-3"]));
    expect(set.tiersIn([PLATFORM_GROUP], "team-3")).toEqual(["writers"]);
    expect(files[0]!.tiers.map((t) => t.tier)).toEqual([...TEAM_TIERS]);
  });
});

describe("measureTeamSizes", () => {
  let sizes: TeamSizes[];
  // Five teams are enough for a platform group's role to be refused; the whole bench measures 1, 5 and 20.
  beforeAll(() => {
    sizes = [1, 2, 5].map((n) => measureTeamSizes(catalog, groupFiles, n));
  }, 180_000);

  it("keeps one team group's largest answer and IAM policies whatever the number of teams", () => {
    // Assess
    const [one, two, five] = sizes as [TeamSizes, TeamSizes, TeamSizes];
    expect(one.answers.oneTeamGroup.bytes).toBeGreaterThan(0);
    expect(two.answers.oneTeamGroup.bytes).toBe(one.answers.oneTeamGroup.bytes);
    expect(five.answers.oneTeamGroup.bytes).toBe(one.answers.oneTeamGroup.bytes);
    expect(five.iam.oneTeamGroup).toEqual(one.iam.oneTeamGroup);
    expect(one.iam.oneTeamGroup.fits).toBe(true);
  });

  it("keeps the largest answer one team's size however many teams a user reaches: only the groups string grows", () => {
    // Assess: each answer holds the request's team only (TEAM_AUTHORIZER_IDENTITY_SOURCES)
    const a = sizes.map((s) => s.answers.oneTeamGroup.bytes);
    const b = sizes.map((s) => s.answers.everyTeamsWriters.bytes);
    const c = sizes.map((s) => s.answers.platformGroup.bytes);
    const groupNames = (n: number) => Array.from({ length: n - 1 }, (_, i) => `,team-${i + 2}-writers`).join("").length;
    for (const [i, s] of sizes.entries()) {
      expect(b[i]! - a[i]!).toBeLessThanOrEqual(groupNames(s.teams) + 8);
      expect(Math.abs(c[i]! - a[i]!)).toBeLessThanOrEqual(16);
    }
    expect(sizes.map((s) => s.answers.everyTeamsWriters.groups)).toEqual([1, 2, 5]);
    expect(sizes.map((s) => s.answers.platformGroup.groups)).toEqual([1, 1, 1]);
  });

  it("reports a role the compiler refuses as not fitting, with the compiler's message", () => {
    // Assess
    expect(sizes[0]!.iam.platformGroup.fits).toBe(true);
    expect(sizes[2]!.iam.platformGroup).toEqual({ fits: false, message: expect.stringMatching(/managed policies/) });
  });

  it("counts the API's resources without and with teams, within the quota and independent of their number", () => {
    // Assess
    const [one, , five] = sizes as [TeamSizes, TeamSizes, TeamSizes];
    expect(one.api.withTeams).toEqual(five.api.withTeams);
    expect(one.api.withTeams.resources).toBeGreaterThan(one.api.withoutTeams.resources);
    expect(one.api.withTeams.resources).toBeLessThanOrEqual(SIZE_LIMITS.apiResources);
    expect(one.api.withoutTeams.methods).toBeGreaterThan(100);
  });

  it("renders a row per team count with the limits beside the figures", () => {
    // Act
    const md = teamSizesTable({ limits: SIZE_LIMITS }, sizes);
    // Assess
    expect(md).toContain("(limit 8,192)");
    expect(md).toContain("(limit 9 of 6,144 chars)");
    expect(md).toContain("(limit 300 resources)");
    expect(md).toMatch(/^\| 2 \| [\d,]+ \(\d+ %\) \|/m);
    expect(md).toMatch(/^\| 5 \| .*\*\*does not fit\*\*: needs \d+ managed policies/m);
    expect(md).not.toMatch(/\bNaN\b|undefined/);
  });

  it("renders the section with both tables in RESULTS.md", () => {
    // Prepare
    const cell = {
      runs: 5,
      perSecond: 100,
      p50: 2,
      p95: 4,
      p99: 5,
      perSecondMin: 90,
      perSecondMax: 110,
      count: 500,
      failures: {},
    };
    const comparison = { throughputRatio: 0.97, addedP50Ms: 0.4, addedP95Ms: 0.9 };
    const teams: TeamsResults = {
      limits: SIZE_LIMITS,
      callers: CALLERS,
      sizes,
      latency: {
        date: "2026-12-05T00:00:00.000Z",
        loadAverage: { before: [0.1, 0.1, 0.1], after: [1, 1, 1] },
        load: {
          concurrencies: [1, 8],
          warmupMs: 1,
          rounds: 5,
          sliceMs: 1,
          writesPerTarget: 1,
          keepAlive: true,
          clientInWorkerThread: true,
        },
        mix: ["GET experiments/get"],
        startupMs: 1,
        targets: {
          off: { via: "off", byConcurrency: { 1: cell, 8: cell } },
          onAdmin: { via: "on", byConcurrency: { 1: cell, 8: cell } },
          onWriter: { via: "on", byConcurrency: { 1: cell, 8: cell } },
        },
        comparisons: {
          1: { "on admin / off": comparison, "on team writer / off": comparison },
          8: { "on admin / off": comparison, "on team writer / off": comparison },
        },
        problems: [],
      },
    };
    const run = {
      date: "2026-12-05T00:00:00.000Z",
      mode: "quick",
      command: "npm run bench -- --quick",
      durationSeconds: 1,
      machine: { cpu: "cpu", cores: 2, memoryGiB: 4, os: "os", node: "v20", python: "3", mlflow: "3.17.2" },
      loadAverage: { before: [0.1, 0.1, 0.1], after: [1, 1, 1] },
      config: { gateway: { concurrencies: [1], warmupMs: 1, rounds: 5, sliceMs: 1 } },
      targets: [],
      teams,
    } as unknown as BenchRun;
    // Act
    const md = renderResults(run);
    // Assess
    expect(md).toContain("## 8. Teams: sizes and the cost of workspaces");
    expect(md).toContain("| on team writer / off | +0.40 | +0.90 | 0.97 | +0.40 | +0.90 | 0.97 |");
    expect(md).toMatch(/^\| onWriter \| 100 \| 2\.00 \| 4\.00 \|/m);
    expect(md).toContain("npm run bench:teams");
    expect(md).not.toMatch(/\bNaN\b|undefined/);
  });
});
