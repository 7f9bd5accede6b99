// Makes .venv hold the MLflow version pinned in MLFLOW_VERSION (run before the tests and by npm start).
import { ensureMlflowVenv } from "../project/mlflow-venv";

try {
  const version = ensureMlflowVenv();
  process.stderr.write(`mlflow-gate: .venv has mlflow ${version}\n`);
} catch (e) {
  process.stderr.write(`mlflow-gate: could not install the pinned MLflow into .venv: ${(e as Error).message}\n`);
  process.exit(1);
}
