import { mlflowProcessEnv, restartDelayMs } from "../../gateway/mlflow-server";
import { runPython } from "../integration/support/stack";

// The supervisor's backoff; the restart itself runs against real MLflow in test/reliability/faults.test.ts.

test("the restart delay doubles per attempt from the initial delay and stops at the cap", () => {
  // Act
  const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => restartDelayMs(attempt, 1000, 30_000));

  // Assess
  expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});

test("a huge attempt count stays at the cap instead of overflowing", () => {
  expect(restartDelayMs(10_000, 1000, 30_000)).toBe(30_000);
});

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
    const r = await runPython(["-c", probe], mlflowProcessEnv({ PATH: process.env.PATH, HOME: process.env.HOME, PYTHONWARNINGS: "ignore" }));

    // Assess: the .venv has no Flask-WTF (MLflow's auth extra), so the sentinel is in place.
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("False None ModuleNotFoundError,ModuleNotFoundError,ModuleNotFoundError");
  }, 60_000);
});
