// Where things are in this repository: every program and test finds its files here.
import { join, resolve } from "path";

/** The repository root (this file is project/paths.ts). */
export const REPO_ROOT = resolve(__dirname, "..");
/** The one place the MLflow version is pinned. */
export const MLFLOW_VERSION_FILE = join(REPO_ROOT, "MLFLOW_VERSION");
export const VENV_DIR = join(REPO_ROOT, ".venv");
export const VENV_PYTHON = join(VENV_DIR, "bin", "python");
/** Python files MLflow runs with, in .venv and in its image alike: sitecustomize.py, and the lock of every package's version. */
export const MLFLOW_PYTHON_DIR = join(REPO_ROOT, "infra", "docker", "mlflow-python");
export const PYTHON_CONSTRAINTS_FILE = join(MLFLOW_PYTHON_DIR, "constraints.txt");
export const CATALOG_FILE = join(REPO_ROOT, "policies", "mlflow-routes.json");
/** The API definition with the deployment's values as placeholders, committed (`npm run api:generate`). */
export const API_DEFINITION_FILE = join(REPO_ROOT, "policies", "api-definition.json");
export const GROUPS_DIR = join(REPO_ROOT, "policies", "groups");
/** Example group files, not loaded by default: copied into a groups directory to use (docs/policies.md). */
export const EXAMPLE_GROUPS_DIR = join(REPO_ROOT, "policies", "examples");
/** Team files (one per team, its MLflow workspace): none means one workspace and the API without `/ws/`. */
export const TEAMS_DIR = join(REPO_ROOT, "policies", "teams");
/** The two demo teams (team-a, team-b), each with a group per tier. */
export const EXAMPLE_TEAMS_DIR = join(EXAMPLE_GROUPS_DIR, "teams");
/** Build outputs: the patched UI (Amplify's zip, and the local stack's when none is given), the Lambda bundle, the guard's bundle. */
export const DIST_DIR = join(REPO_ROOT, "dist");
export const UI_BUILD_DIR = join(DIST_DIR, "ui");
export const AUTHORIZER_BUILD_DIR = join(DIST_DIR, "authorizer");
/** The guard's bundle with its route catalog (guard/build.ts), the build context of its image (infra/). */
export const GUARD_BUILD_DIR = join(DIST_DIR, "guard");
