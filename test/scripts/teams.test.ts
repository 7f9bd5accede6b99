import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { REPO_ROOT } from "../../project/paths";
import { firstSentence } from "../../scripts/teams";
import { runCli } from "./support/run-cli";

const TEAMS = ["--teams-dir", "policies/examples/teams"];
const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

describe("teams list", () => {
  test("one line per team: name, first sentence, tiers and holders; then who reaches every workspace", async () => {
    // Act
    const r = await runCli([...TEAMS, "teams", "list"]);
    // Assess
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "team-a  Demand forecasting: its data scientists log runs and experiments, its approvers and release managers govern its models.  readers: team-a-readers; writers: team-a-writers; model-approvers: team-a-model-approvers; release-managers: team-a-release-managers",
      "team-b  Fraud detection: the same tiers as team-a, held by its own groups; neither team sees the other's experiments, runs, models or artifacts.  readers: team-b-readers; writers: team-b-writers; model-approvers: team-b-model-approvers; release-managers: team-b-release-managers",
      "2 teams; admins reach every workspace (workspaces: all)",
    ]);
    expect(r.stderr).toBe("");
  });

  test("without team files it says so, points to docs/teams.md and exits 0", async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), "mlflow-gate-teams-"));
    try {
      // Act
      const r = await runCli(["--teams-dir", empty, "teams", "list"]);
      // Assess
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        `no team files in ${empty}: one MLflow workspace (default), its routes at the API's root; to add teams, see docs/teams.md\n`,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("teams show TEAM", () => {
  let out: string;
  beforeAll(async () => {
    const r = await runCli([...TEAMS, "teams", "show", "team-a"]);
    expect(r.code).toBe(0);
    out = r.stdout;
  }, 120_000);

  const tierBlock = (tier: string): string => {
    const start = out.indexOf(`\n${tier}: `);
    expect(start).toBeGreaterThanOrEqual(0);
    return out.slice(start + 1, out.indexOf("\n\n", start + 1));
  };

  test("names the team, its file, its workspace path and who else reaches it", () => {
    expect(lines(out).slice(0, 2)).toEqual([
      "team-a (policies/examples/teams/team-a.yaml): Demand forecasting: its data scientists log runs and experiments, its approvers and release managers govern its models.",
      "MLflow workspace team-a, under /ws/team-a/; also reached by admins (workspaces: all).",
    ]);
  });

  test.each([
    ["readers", "team-a-readers"],
    ["writers", "team-a-writers"],
    ["model-approvers", "team-a-model-approvers"],
    ["release-managers", "team-a-release-managers"],
  ])("%s: its holders, and as many routes as its column of the decision matrix", (tier, holder) => {
    // Prepare
    const matrix = readFileSync(join(REPO_ROOT, "policies", "decision-matrix.md"), "utf8");
    const [, count, total] = new RegExp(`^\\| ${tier} \\| (\\d+) of (\\d+) \\|`, "m").exec(matrix) ?? [];
    // Assess
    const block = lines(tierBlock(tier));
    expect(block[0]).toBe(`${tier}: ${holder}`);
    expect(block[1]).toMatch(new RegExp(`^  may call ${count} of ${total} routes: read \\(all \\d+\\)`));
  });

  test("the classes of each tier: writers write runs, never the registry; readers only read", () => {
    expect(tierBlock("writers")).toMatch(/read \(all \d+\), write \(all \d+\), static/);
    expect(tierBlock("writers")).not.toContain("registry");
    expect(tierBlock("readers")).toMatch(/: read \(all \d+\), static \(all \d+\)\n/);
  });

  test("the promotion rights in words, as the guard decides them", () => {
    expect(tierBlock("readers")).toContain("  promotion: promotes nothing (may call no promotion route)");
    expect(tierBlock("release-managers")).toContain(
      "  promotion: moves versions to Production, Archived (out of any stage); sets and deletes aliases champion, prod*; never on a version it created (two-person rule)",
    );
    expect(tierBlock("model-approvers")).toContain(
      "  promotion: moves versions to Staging, Archived (out of None, Staging, Archived); sets and deletes aliases * but not champion, prod*",
    );
  });
});

describe("teams show --group G", () => {
  test("a team group: the one workspace it reaches and its tier there", async () => {
    // Act
    const r = await runCli([...TEAMS, "teams", "show", "--group", "team-b-writers"]);
    // Assess
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(["team-b-writers reaches 1 workspace:", "  team-b  /ws/team-b/  writers"]);
  });

  test("admins: every workspace, default included", async () => {
    // Act
    const r = await runCli([...TEAMS, "teams", "show", "--group", "admins"]);
    // Assess
    expect(lines(r.stdout)).toEqual([
      "admins reaches every workspace (workspaces: all in its group file), those made later too:",
      "  default  /ws/default/  admins",
      "  team-a   /ws/team-a/   admins",
      "  team-b   /ws/team-b/   admins",
    ]);
  });
});

describe("teams: usage errors (exit 2)", () => {
  test.each([
    [[...TEAMS, "teams", "show"], "teams show needs TEAM or --group G"],
    [[...TEAMS, "teams", "show", "team-a", "--group", "admins"], "teams show needs TEAM or --group G"],
    [[...TEAMS, "teams", "show", "team-z"], 'unknown team "team-z" (teams: team-a, team-b)'],
    [
      [...TEAMS, "teams", "show", "--group", "readers"],
      'unknown group "readers" (known groups: admins, team-a-model-approvers, team-a-readers, team-a-release-managers, team-a-writers, team-b-model-approvers, team-b-readers, team-b-release-managers, team-b-writers)',
    ],
    [[...TEAMS, "teams", "list", "extra"], 'unexpected argument "extra"'],
    [[...TEAMS, "teams", "list", "--group", "admins"], 'option --group does not apply to "teams list"'],
  ])("%j", async (argv, message) => {
    // Act
    const r = await runCli(argv);
    // Assess
    expect(r.stderr).toBe(`mlflow-gate: ${message}; run "mlflow-gate --help"\n`);
    expect(r.code).toBe(2);
  });

  test("teams show without team files is a usage error pointing to docs/teams.md", async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), "mlflow-gate-teams-"));
    try {
      // Act
      const r = await runCli(["--teams-dir", empty, "teams", "show", "team-a"]);
      // Assess
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("to add teams, see docs/teams.md");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("firstSentence", () => {
  test.each([
    ["Demand forecasting.", "Demand forecasting."],
    ["One. Two.", "One."],
    ["Folded\n  over lines. Next", "Folded over lines."],
    ["No stop", "No stop"],
    ["Version 3.10 ships it. Then", "Version 3.10 ships it."],
  ])("%j is %j", (text, first) => {
    expect(firstSentence(text)).toBe(first);
  });
});
