import { DATABASE_REFUSED, withoutDatabaseDetails } from "../../guard/database-errors";

// MLflow 3.17.2's own texts, as its SQL store words them (sqlite here; PostgreSQL's driver the same way).
const DUPLICATE =
  "Experiment(name=a) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.workspace, experiments.name\n[SQL: INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)]\n[parameters: ('a', 'default', None, 'active', 1796515527652, 1796515527652)]\n(Background on this error at: https://sqlalche.me/e/21/gkpj)";
const BARE =
  '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "tag_pk"\nDETAIL:  Key (key, run_uuid)=(k, 1f) already exists.\n[SQL: INSERT INTO tags (key, value, run_uuid) VALUES (%(key)s, %(value)s, %(run_uuid)s)]';

describe("withoutDatabaseDetails", () => {
  test("keeps MLflow's own sentence and its error code, drops the statement, the parameters and the driver's words", () => {
    // Act
    const out = withoutDatabaseDetails(JSON.stringify({ error_code: "RESOURCE_ALREADY_EXISTS", message: DUPLICATE }));
    // Assess
    expect(JSON.parse(out!)).toEqual({
      error_code: "RESOURCE_ALREADY_EXISTS",
      message: "Experiment(name=a) already exists.",
    });
  });

  test("a message that is the database's words alone becomes a fixed sentence", () => {
    // Act
    const out = withoutDatabaseDetails(JSON.stringify({ error_code: "BAD_REQUEST", message: BARE }));
    // Assess
    expect(JSON.parse(out!)).toEqual({ error_code: "BAD_REQUEST", message: DATABASE_REFUSED });
    expect(out).not.toMatch(/SQL|psycopg2|tag_pk|run_uuid/);
  });

  test.each([
    ["an MLflow error without database details", JSON.stringify({ error_code: "NOT_FOUND", message: "No run 'x'" })],
    ["a message that mentions SQL in passing", JSON.stringify({ message: "filter: invalid SQL-like clause" })],
    ["not JSON", "<html>500</html>"],
    ["a JSON array", "[1]"],
    ["a message that is not a string", JSON.stringify({ message: ["[SQL: x]"] })],
  ])("%s goes out as it came (undefined)", (_what, body) => {
    // Act / Assess
    expect(withoutDatabaseDetails(body)).toBeUndefined();
  });
});
