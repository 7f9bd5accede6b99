import { readFileSync } from "fs";
import { loadPolicySet } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { promotionRightsOf } from "../../authorizer/core/promotion-rights";
import { buildDecisionMatrix, DECISION_MATRIX_FILE } from "../../scripts/generate-decision-matrix";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { samplePath } from "../../authorizer/core/catalog";
import { decidePath } from "../../authorizer/core/decide-request";
import { ADMINS, APPROVERS, groupFile as file, READERS, RELEASE_MANAGERS } from "../authorizer/support/promotion-tiers";

const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

describe("policies/decision-matrix.md", () => {
  test("is up to date with the group files and the route catalog", () => {
    // Act
    const committed = readFileSync(DECISION_MATRIX_FILE, "utf8");
    const built = buildDecisionMatrix(set);
    // Assess
    expect(
      committed === built
        ? "up to date"
        : "stale: run `npm run matrix:generate` and commit policies/decision-matrix.md",
    ).toBe("up to date");
  });
});

describe("buildDecisionMatrix", () => {
  const matrix = buildDecisionMatrix(set);
  const rows = matrix.split("\n").filter((l) => /^\| (GET|POST|PUT|PATCH|DELETE) \| `/.test(l));
  const row = (method: string, path: string) => rows.find((l) => l.startsWith(`| ${method} | \`${path}\` |`));

  test("says it is generated, from which MLflow version, and how to regenerate it", () => {
    // Assess
    expect(matrix).toContain("Do not edit");
    expect(matrix).toContain(`MLflow ${set.catalog.mlflowVersion}`);
    expect(matrix).toContain("npm run matrix:generate");
  });

  test("has one row per catalog route", () => {
    // Assess
    expect(rows).toHaveLength(set.catalog.routes.length);
    for (const r of set.catalog.routes) expect(row(r.method, r.path)).toBeDefined();
  });

  test("marks each group's decision in its own column, groups sorted by name", () => {
    // Assess: columns are method, path, action, class, auth, admins, model-approvers, readers, release-managers, writers,
    // note.
    expect(matrix).toContain(
      "| Method | Path | Action | Class | Auth | admins | model-approvers | readers | release-managers | writers | Note |",
    );
    expect(row("POST", "/api/2.0/mlflow/runs/delete")).toBe(
      "| POST | `/api/2.0/mlflow/runs/delete` | DeleteRun | write | iam | ✅ | ❌ | ❌ | ❌ | ✅ |  |",
    );
    expect(row("POST", "/api/2.0/mlflow/model-versions/transition-stage")).toMatch(
      /\| registry-promote \| iam \| ✅ \| ✅ \| ❌ \| ✅ \| ❌ \|/,
    );
    expect(row("POST", "/graphql")).toMatch(
      /\| GraphQL \| read \| cognito \| ✅ \| ✅ \| ✅ \| ✅ \| ✅ \| POST that only reads/,
    );
  });
});

describe("buildDecisionMatrix: promotion rights", () => {
  // Prepare: group files with promotion blocks (the tiers of issue 16), and a group restricted by the stage a
  // version leaves.
  const promoting = PolicySet.fromFiles(set.catalog, [
    READERS,
    APPROVERS,
    RELEASE_MANAGERS,
    file(
      "stagers",
      "description: s\nallow: [TransitionModelVersionStage]\npromotion:\n  stages: { to: [Production], from: [Staging] }\n",
    ),
    ADMINS,
  ]);
  const matrix = buildDecisionMatrix(promoting);
  const section = matrix.slice(matrix.indexOf("## Promotion rights"));

  test("a stage table: where each group may move versions to, and out of, and whether the two-person rule is on", () => {
    // Assess
    expect(section).toContain(
      [
        "| Group | to None | to Staging | to Production | to Archived | Out of | Two-person rule |",
        "|---|---|---|---|---|---|---|",
        "| admins | ✅ | ✅ | ✅ | ✅ | any stage | off |",
        "| model-approvers | ❌ | ✅ | ❌ | ✅ | any stage | off |",
        "| release-managers | ❌ | ❌ | ✅ | ✅ | any stage | on |",
        "| stagers | ❌ | ❌ | ✅ | ❌ | Staging | off |",
      ].join("\n"),
    );
  });

  test("an alias table: which routes, the allowed and denied patterns; groups without the routes named once", () => {
    // Assess: stagers may call no alias route, readers no promotion route at all
    expect(section).toContain(
      [
        "| Group | Set | Delete | Aliases allowed | Aliases denied | Two-person rule |",
        "|---|---|---|---|---|---|",
        "| admins | ✅ | ✅ | `*` | none | off |",
        "| model-approvers | ✅ | ✅ | `*` | `champion`, `prod*` | off |",
        "| release-managers | ✅ | ✅ | `champion`, `prod*` | none | on |",
        "",
      ].join("\n"),
    );
    expect(section).toContain("Groups that may call none of these routes: readers.");
  });

  test("the stages are the guard's decisions: a group allowed the route but no stage gets no ✅", () => {
    // Prepare
    const none = PolicySet.fromFiles(set.catalog, [
      file("frozen", "description: f\nallow: [TransitionModelVersionStage]\npromotion:\n  stages: { to: [] }\n"),
    ]);
    // Act
    const rights = promotionRightsOf(none, "frozen");
    // Assess
    expect(rights).toMatchObject({ transition: true, setAlias: false, stagesTo: [], stagesFrom: [] });
    expect(buildDecisionMatrix(none)).toContain("| frozen | ❌ | ❌ | ❌ | ❌ | none | off |");
  });
});

describe("buildDecisionMatrix with teams (the example teams)", () => {
  const teamSet = loadPolicySet(CATALOG_FILE, GROUPS_DIR, REPO_ROOT, EXAMPLE_TEAMS_DIR);
  const matrix = buildDecisionMatrix(teamSet);
  const withoutTeams = buildDecisionMatrix(set);

  test("keeps the tiers' columns as without teams, and adds a Teams section at the end", () => {
    // Assess
    expect(matrix.startsWith(withoutTeams)).toBe(true);
    const section = matrix.slice(withoutTeams.length);
    expect(section).toMatch(/^\n## Teams\n/);
    expect(section).toContain("test/authorizer/core/teams.test.ts");
    expect(section).toContain("admins (`workspaces: all`) reaches every workspace.");
  });

  test("lists each team's tiers and their holders, the workspace path on the team's first row", () => {
    // Assess
    const rows = matrix.split("\n").filter((l) => /^\| (team-[ab])? \|/.test(l));
    expect(rows).toHaveLength(8);
    expect(rows[0]).toBe(
      "| team-a | `/ws/team-a/` | readers | team-a-readers | Demand forecasting: its data scientists log runs and experiments, its approvers and release managers govern its models. |",
    );
    expect(rows).toContain("|  |  | release-managers | team-b-release-managers |  |");
  });

  test.each(["team-a-writers", "team-a-release-managers", "team-b-model-approvers"])(
    "%s decides in its team's workspace exactly as its tier's column says, and denies elsewhere",
    (holder) => {
      // Prepare
      const [team, tier] = [holder.slice(0, 6), holder.slice(7)];
      const other = team === "team-a" ? "team-b" : "team-a";
      const header = matrix.split("\n").find((l) => l.startsWith("| Method | Path |")) ?? "";
      const column = header.split(" | ").indexOf(tier);
      expect(column).toBeGreaterThan(4);
      const rows = matrix.split("\n").filter((l) => /^\| (GET|POST|PUT|PATCH|DELETE) \| `/.test(l));
      const wrong: string[] = [];
      for (const r of teamSet.catalog.routes.filter((x) => x.auth !== "none")) {
        const row = rows.find((l) => l.startsWith(`| ${r.method} | \`${r.path}\` |`)) ?? "";
        const marked = row.split(" | ")[column] === "✅";
        // Act
        const home = decidePath(teamSet, [holder], r.method, `/ws/${team}${samplePath(r.path)}`).decision === "allow";
        const away = decidePath(teamSet, [holder], r.method, `/ws/${other}${samplePath(r.path)}`).decision === "allow";
        // Assess
        if (home !== marked || away) wrong.push(`${r.method} ${r.path}: ${home}/${away}, column ${marked}`);
      }
      expect(wrong).toEqual([]);
    },
  );
});
