// `npm run lock:python`: installs MLflow (MLFLOW_VERSION), requirements-local.txt and the client into .venv
// without the lock, at the versions pip resolves now, and writes what .venv then holds as the lock
// (infra/docker/mlflow-python/constraints.txt) that .venv and the MLflow image install with.
import { writeFileSync } from "fs";
import { relative } from "path";
import { ensureMlflowVenv, freezeVenv } from "../project/mlflow-venv";
import { PYTHON_CONSTRAINTS_FILE, REPO_ROOT } from "../project/paths";

try {
  const version = ensureMlflowVenv(undefined, { unlocked: true });
  const lock = freezeVenv();
  writeFileSync(PYTHON_CONSTRAINTS_FILE, lock);
  const count = lock.split("\n").filter((l) => l.includes("==")).length;
  process.stderr.write(
    `mlflow-gate: locked ${count} packages for MLflow ${version} in ${relative(REPO_ROOT, PYTHON_CONSTRAINTS_FILE)}\n`,
  );
} catch (e) {
  process.stderr.write(`mlflow-gate: could not lock the Python packages: ${(e as Error).message}\n`);
  process.exit(1);
}
