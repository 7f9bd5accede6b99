import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { mlflowProcessEnv, prepareDatabase, RunningMlflow, startMlflow } from "../../local/mlflow-server";
import { MLFLOW_WORKSPACES_PATH } from "../../local/mlflow-workspaces";
import { runPython } from "../support/python";
import { mlflowCall, runIdsIn } from "./support/mlflow-rest";

describe("the MLflow server's Python environment", () => {
  // Regression: under load, MLflow 3.17.2 answered about one runs/search in 8,000 with an HTML 500
  // (AttributeError: module 'mlflow.server.auth' has no attribute 'auth_config'): its handler imports the
  // basic-auth module on every call, that import fails without Flask-WTF, and concurrent failing imports
  // can hand out a half-initialised module. In MLflow's environment the import must fail at once, alike.
  const probe = [
    "import sys, importlib.util",
    "import mlflow.server.handlers",
    "outcomes = []",
    "for _ in range(3):",
    "    try:",
    "        from mlflow.server import auth",
    "        outcomes.append('imported:' + str(hasattr(auth, 'auth_config')))",
    "    except ImportError as e:",
    "        outcomes.append(type(e).__name__)",
    "print(importlib.util.find_spec('flask_wtf') is not None, repr(sys.modules.get('mlflow.server.auth')), ','.join(outcomes))",
  ].join("\n");

  test("without Flask-WTF, importing mlflow.server.auth fails at once from sys.modules, every time", async () => {
    // Act
    const r = await runPython(
      ["-c", probe],
      mlflowProcessEnv({ PATH: process.env.PATH, HOME: process.env.HOME, PYTHONWARNINGS: "ignore" }),
    );

    // Assess: the .venv has no Flask-WTF (MLflow's auth extra), so the sentinel is in place.
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("False None ModuleNotFoundError,ModuleNotFoundError,ModuleNotFoundError");
  }, 60_000);
});

test("workspace mode is the stack's choice: the shell's MLflow workspace variables never reach the server", () => {
  // Regression: MLflow refuses to start when the client-only MLFLOW_WORKSPACE is set, and
  // MLFLOW_ENABLE_WORKSPACES would turn workspaces on without --enable-workspaces.
  const env = mlflowProcessEnv({
    PATH: "/bin",
    MLFLOW_WORKSPACE: "team-a",
    MLFLOW_ENABLE_WORKSPACES: "true",
    MLFLOW_WORKSPACE_STORE_URI: "sqlite:///elsewhere.db",
  });

  expect(Object.keys(env).filter((k) => k.includes("WORKSPACE"))).toEqual([]);
  expect(env.PATH).toBe("/bin");
});

test("MLflow's job runner is the stack's choice: off unless asked for, whatever the shell says", () => {
  // Act
  const byDefault = mlflowProcessEnv({ MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "true" });
  const asked = mlflowProcessEnv({ MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" }, true);
  // Assess
  expect(byDefault.MLFLOW_SERVER_ENABLE_JOB_EXECUTION).toBe("false");
  expect(asked.MLFLOW_SERVER_ENABLE_JOB_EXECUTION).toBe("true");
});

describe("prepareDatabase: a new MLflow pin migrates the local database instead of stopping npm start", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), "mlflow-db-"));
    dirs.push(d);
    return d;
  };
  const realDatabase = async (dir: string) => {
    const r = await runPython(
      ["-m", "mlflow", "db", "upgrade", `sqlite:///${join(dir, "mlflow.db")}`],
      mlflowProcessEnv({ PATH: process.env.PATH, HOME: process.env.HOME }),
    );
    expect(r.code).toBe(0);
  };

  test("no database yet: nothing to migrate, the version is recorded", async () => {
    const dir = newDir();
    const lines: string[] = [];

    await expect(prepareDatabase(dir, "3.17.2", (l) => lines.push(l))).resolves.toBe("new");

    expect(readFileSync(join(dir, "mlflow-version"), "utf8")).toBe("3.17.2\n");
    expect(lines).toEqual([]);
  });

  test("a database last used by another MLflow is copied, migrated with mlflow db upgrade, then recorded; the next start does nothing", async () => {
    // Prepare: a real database, last used (by its record) by an older MLflow.
    const dir = newDir();
    await realDatabase(dir);
    writeFileSync(join(dir, "mlflow-version"), "3.16.1\n");
    const before = readFileSync(join(dir, "mlflow.db"));
    const lines: string[] = [];

    // Act
    const first = await prepareDatabase(dir, "3.17.2", (l) => lines.push(l));
    const second = await prepareDatabase(dir, "3.17.2", (l) => lines.push(l));

    // Assess
    expect([first, second]).toEqual(["upgraded", "current"]);
    expect(readFileSync(join(dir, "mlflow.db.before-3.17.2")).equals(before)).toBe(true);
    expect(readFileSync(join(dir, "mlflow-version"), "utf8")).toBe("3.17.2\n");
    expect(lines).toEqual([expect.stringContaining("database last used by MLflow 3.16.1: migrating it to 3.17.2")]);
  }, 120_000);

  test("a migration that fails names the database and the copy, and records nothing", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "mlflow.db"), "not a database");

    const error = await prepareDatabase(dir, "3.17.2", () => undefined).then(
      () => undefined,
      (e: Error) => e,
    );

    expect(error?.message).toContain(`mlflow db upgrade of ${join(dir, "mlflow.db")} failed`);
    expect(error?.message).toContain(`the database before the attempt is in ${join(dir, "mlflow.db.before-3.17.2")}`);
    expect(existsSync(join(dir, "mlflow-version"))).toBe(false);
  }, 120_000);
});

describe("MLflow without the option: the single-team stack as before", () => {
  let mlflow: RunningMlflow | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-nows-"));
  afterAll(async () => {
    await mlflow?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("no workspace API, no workspace in artifact paths, runs in the one space", async () => {
    const lines: string[] = [];
    mlflow = await startMlflow({
      dataDir,
      host: "127.0.0.1",
      port: 0,
      portVariable: "MLFLOW_GATE_MLFLOW_PORT",
      log: (l) => lines.push(l),
    });

    const workspaces = await mlflowCall(mlflow, "GET", MLFLOW_WORKSPACES_PATH);
    const experiment = await mlflowCall(mlflow, "POST", "/api/2.0/mlflow/experiments/create", { name: "churn" });
    const run = await mlflowCall(mlflow, "POST", "/api/2.0/mlflow/runs/create", {
      experiment_id: experiment.json.experiment_id,
    });

    expect(workspaces.status).toBe(503);
    expect(lines).toEqual([]);
    const info = (run.json.run as { info: { run_id: string; artifact_uri: string } }).info;
    expect(info.artifact_uri).toBe(
      `mlflow-artifacts:/${String(experiment.json.experiment_id)}/${info.run_id}/artifacts`,
    );
    expect(await runIdsIn(mlflow, undefined)).toEqual([info.run_id]);
    expect(existsSync(join(dataDir, "mlflow", "artifacts"))).toBe(true);
  }, 60_000);
});
