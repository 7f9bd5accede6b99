import { readFileSync } from "fs";
import { loadPolicySet } from "../../authorizer/load-policies";
import { buildDecisionMatrix, DECISION_MATRIX_FILE } from "../../scripts/generate-decision-matrix";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";

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
    // Assess: columns are method, path, action, class, auth, admins, model-approvers, readers, release-managers, note.
    expect(matrix).toContain(
      "| Method | Path | Action | Class | Auth | admins | model-approvers | readers | release-managers | Note |",
    );
    expect(row("POST", "/api/2.0/mlflow/runs/delete")).toBe(
      "| POST | `/api/2.0/mlflow/runs/delete` | DeleteRun | write | iam | ✅ | ❌ | ❌ | ❌ |  |",
    );
    expect(row("POST", "/api/2.0/mlflow/model-versions/transition-stage")).toMatch(
      /\| registry-promote \| iam \| ✅ \| ✅ \| ❌ \| ✅ \|/,
    );
    expect(row("POST", "/graphql")).toMatch(
      /\| GraphQL \| read \| cognito \| ✅ \| ✅ \| ✅ \| ✅ \| POST that only reads/,
    );
  });
});
