import { execFileSync, spawnSync } from "child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { MLFLOW_VERSION_FILE, REPO_ROOT, VENV_DIR, VENV_PYTHON } from "./paths";

/** The pinned MLflow version: the file MLFLOW_VERSION at the repository root. */
export function loadPinnedMlflowVersion(): string {
  const version = readFileSync(MLFLOW_VERSION_FILE, "utf8").trim();
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`MLFLOW_VERSION must hold a version like 3.17.2, not "${version}"`);
  return version;
}

/** The MLflow version installed in .venv, or undefined when there is none. */
export function installedMlflowVersion(): string | undefined {
  if (!existsSync(VENV_PYTHON)) return undefined;
  const r = spawnSync(VENV_PYTHON, ["-c", "import importlib.metadata as m; print(m.version('mlflow'))"], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const REQUIREMENTS_FILE = join(REPO_ROOT, "requirements-local.txt");
/** The Python client (MLFLOW_TRACKING_AUTH=mlflow-gate), installed editable: only its pyproject.toml needs a reinstall. */
const PYTHON_CLIENT_DIR = join(REPO_ROOT, "clients", "python");
/** Written after a successful install: what .venv holds, so later runs skip pip. */
const INSTALL_MARKER = join(VENV_DIR, ".mlflow-gate-installed");

/**
 * Makes .venv hold the pinned MLflow, requirements-local.txt and clients/python (editable),
 * installing from PyPI when they changed; logs progress to stderr. Returns the MLflow version.
 */
export function ensureMlflowVenv(
  log: (line: string) => void = (l) => process.stderr.write(`mlflow-gate: ${l}\n`),
): string {
  const pinned = loadPinnedMlflowVersion();
  const wanted = `mlflow==${pinned}\n${readFileSync(REQUIREMENTS_FILE, "utf8")}\n-e clients/python\n${readFileSync(join(PYTHON_CLIENT_DIR, "pyproject.toml"), "utf8")}`;
  if (
    existsSync(INSTALL_MARKER) &&
    readFileSync(INSTALL_MARKER, "utf8") === wanted &&
    installedMlflowVersion() === pinned
  )
    return pinned;
  if (!existsSync(VENV_PYTHON)) {
    log(`creating ${VENV_DIR}`);
    execFileSync(process.env.PYTHON ?? "python3", ["-m", "venv", VENV_DIR], { stdio: "inherit" });
  }
  const installed = installedMlflowVersion();
  log(
    `installing mlflow==${pinned}, requirements-local.txt and clients/python into .venv (${installed ? `had ${installed}` : "first run"}; about a minute)`,
  );
  execFileSync(
    VENV_PYTHON,
    [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--quiet",
      `mlflow==${pinned}`,
      "-r",
      REQUIREMENTS_FILE,
      "-e",
      PYTHON_CLIENT_DIR,
    ],
    { stdio: "inherit" },
  );
  writeFileSync(INSTALL_MARKER, wanted);
  return pinned;
}

/**
 * The UI MLflow ships prebuilt in its wheel, in .venv (whatever its Python version); the patched UI is
 * built from it, never rebuilt from MLflow's sources.
 */
export function mlflowUiBuildDir(venv = VENV_DIR): string {
  const lib = join(venv, "lib");
  const python = existsSync(lib) ? readdirSync(lib).find((d) => /^python3\.\d+$/.test(d)) : undefined;
  return join(lib, python ?? "python3", "site-packages", "mlflow", "server", "js", "build");
}

/** Runs a Python script of scripts/ with the .venv interpreter and returns its stdout. */
export function runVenvPython(script: string, input?: string): string {
  const r = spawnSync(VENV_PYTHON, [join(REPO_ROOT, "scripts", script)], {
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONWARNINGS: "ignore" },
  });
  if (r.status !== 0)
    throw new Error(`${script} failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return r.stdout;
}
