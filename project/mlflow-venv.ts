import { execFileSync, spawnSync } from "child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { MLFLOW_VERSION_FILE, PYTHON_CONSTRAINTS_FILE, REPO_ROOT, VENV_DIR, VENV_PYTHON } from "./paths";

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
 * Makes .venv hold the pinned MLflow, requirements-local.txt and clients/python (editable), every
 * package at the version infra/docker/mlflow-python/constraints.txt locks (the MLflow image installs
 * with the same file), installing from PyPI when any of them changed; logs progress to stderr. Returns
 * the MLflow version. `unlocked` installs without the lock, for `npm run lock:python`.
 */
export function ensureMlflowVenv(
  log: (line: string) => void = (l) => process.stderr.write(`mlflow-gate: ${l}\n`),
  options: { unlocked?: boolean } = {},
): string {
  const pinned = loadPinnedMlflowVersion();
  const locked = options.unlocked !== true;
  const wanted = [
    `mlflow==${pinned}`,
    readFileSync(REQUIREMENTS_FILE, "utf8"),
    "-e clients/python",
    readFileSync(join(PYTHON_CLIENT_DIR, "pyproject.toml"), "utf8"),
    locked ? readFileSync(PYTHON_CONSTRAINTS_FILE, "utf8") : "(unlocked)",
  ].join("\n");
  if (
    existsSync(INSTALL_MARKER) &&
    readFileSync(INSTALL_MARKER, "utf8") === wanted &&
    installedMlflowVersion() === pinned
  )
    return pinned;
  if (locked) checkLockPinsMlflow(pinned);
  if (!existsSync(VENV_PYTHON)) {
    log(`creating ${VENV_DIR}`);
    execFileSync(process.env.PYTHON ?? "python3", ["-m", "venv", VENV_DIR], { stdio: "inherit" });
  }
  const installed = installedMlflowVersion();
  log(
    `installing mlflow==${pinned}, requirements-local.txt and clients/python into .venv${locked ? ", as constraints.txt locks them" : " (unlocked)"} (${installed ? `had ${installed}` : "first run"}; about a minute)`,
  );
  execFileSync(
    VENV_PYTHON,
    [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--quiet",
      ...(locked ? ["-c", PYTHON_CONSTRAINTS_FILE] : []),
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

/** The version the lock gives a package (PEP 503 names: case, `-`, `_` and `.` alike), or undefined. */
export function lockedVersion(lock: string, name: string): string | undefined {
  const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, "-");
  for (const line of lock.split("\n")) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/.exec(line.trim());
    if (m && norm(m[1] as string) === norm(name)) return m[2];
  }
  return undefined;
}

/** A lock made for another MLflow would make pip fail with a resolver error; say what to run instead. */
function checkLockPinsMlflow(pinned: string): void {
  const locked = lockedVersion(readFileSync(PYTHON_CONSTRAINTS_FILE, "utf8"), "mlflow");
  if (locked !== pinned)
    throw new Error(
      `infra/docker/mlflow-python/constraints.txt locks mlflow ${locked ?? "(none)"}, MLFLOW_VERSION says ${pinned}: run \`npm run lock:python\` to lock the new version's packages`,
    );
}

/** The lock's text for what .venv holds now: every installed package but the editable client, exactly. */
export function freezeVenv(): string {
  const frozen = execFileSync(
    VENV_PYTHON,
    ["-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
    {
      encoding: "utf8",
    },
  );
  const lines = frozen.split("\n").filter((l) => /^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$/.test(l.trim()));
  return [
    "# Every Python package's version, for MLflow in .venv and in its image (infra/docker/Dockerfile installs",
    "# with this file as pip constraints), so both run what the tests ran. Written by `npm run lock:python`",
    "# (after a change of MLFLOW_VERSION or requirements-local.txt); do not edit by hand.",
    ...lines,
    "",
  ].join("\n");
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
