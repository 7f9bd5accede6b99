// MLflow's answers to a request its database refused carry SQLAlchemy's own text: the SQL statement, its
// parameters and the driver's message (MLflow 3.17 `store/db/utils.py` passes the exception as the message;
// a name that already exists adds it after "Error: "). That is the schema, and values of the database, told
// to any caller who provokes an integrity error. The guard keeps MLflow's own sentence and drops the rest.

/** Text only SQLAlchemy and the database drivers write into a message. */
const DATABASE_DETAILS =
  /\[SQL: |\[parameters: |\(Background on this error at: https:\/\/sqlalche\.me\/|\((?:sqlite3|psycopg2?|pymysql|MySQLdb|pyodbc|sqlalchemy)\.[\w.]+\)/;

/** What the caller reads when MLflow's message had nothing of its own before the database's words. */
export const DATABASE_REFUSED = "the database refused the request (mlflow-gate withholds the database's own message)";

/**
 * MLflow's JSON error answer without the database's details, or undefined when it has none (or is not an
 * MLflow error answer): the body then goes out as it came.
 */
export function withoutDatabaseDetails(body: string): string | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return undefined;
  const message = (answer as { message?: unknown }).message;
  if (typeof message !== "string" || !DATABASE_DETAILS.test(message)) return undefined;
  const cut = message.indexOf(" Error: (");
  const own = cut > 0 ? message.slice(0, cut).trim() : "";
  return JSON.stringify({ ...answer, message: own !== "" ? own : DATABASE_REFUSED });
}
