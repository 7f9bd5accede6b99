import { readFileSync } from "fs";
import { loadRouteCatalog } from "../../authorizer/load-policies";
import { STAMP_RULES } from "../../guard/stamp";
import { buildStampTable, GUARD_DOC_FILE, withStampTable } from "../../scripts/generate-guard-doc";
import { CATALOG_FILE } from "../../project/paths";

const catalog = loadRouteCatalog(CATALOG_FILE);

test("docs/guard.md lists the guard's stamping rules as guard/stamp.ts has them", () => {
  // Act
  const committed = readFileSync(GUARD_DOC_FILE, "utf8");
  // Assess
  expect(committed === withStampTable(committed, catalog) ? "up to date" : "stale: run `npm run docs:guard`").toBe(
    "up to date",
  );
});

test("the table has a row per rule, naming each action's routes on both mounts", () => {
  const rows = buildStampTable(catalog)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| routes"));
  expect(rows).toHaveLength(STAMP_RULES.length);
  expect(rows.find((r) => r.includes("SetTag:"))).toContain("POST `/{ajax-api,api}/2.0/mlflow/runs/set-tag`");
});

test("a document without the markers is an error, not a silent rewrite", () => {
  expect(() => withStampTable("# no markers", catalog)).toThrow(/has no/);
});
