// The processes the gateway benchmark measures besides the gateway: a trivial upstream, and MLflow with its
// built-in basic-auth app (the peer). Both are children in their own process groups, on loopback ports.
import { ChildProcess, execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, mkdirSync, writeFileSync } from "fs";
import { delimiter, join } from "path";
import { claimPort, killOnExit, stopProcessGroup, tailOf, waitForHttp } from "../../local/processes";
import { mlflowServerOptions } from "../../local/mlflow-server";
import { generatePassword } from "../../local/user-pool";
import { VENV_DIR, VENV_PYTHON } from "../../project/paths";

export interface RunningServer {
  readonly url: URL;
  stop(): Promise<void>;
}

export async function startTrivialUpstream(): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    ["--require", require.resolve("tsx/cjs"), join(__dirname, "trivial-upstream.ts")],
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  killOnExit(child);
  const why = tailOf(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trivial upstream did not start:\n${why()}`)), 30_000);
    child.stdout!.once("data", (c: Buffer) => {
      clearTimeout(timer);
      resolve(Number(c.toString().trim()));
    });
    child.once("exit", (code) => reject(new Error(`trivial upstream exited (${code}):\n${why()}`)));
  });
  return { url: new URL(`http://127.0.0.1:${port}`), stop: () => stopProcessGroup(child) };
}

/**
 * basic-auth's own packages live apart from .venv's site-packages, on the peer's PYTHONPATH only: with
 * Flask-WTF importable, the local stack's MLflow would load its basic-auth module on every runs/search
 * (see infra/docker/mlflow-python/sitecustomize.py), so the benchmark must not change the stack it measures.
 */
export const PEER_PACKAGES_DIR = join(VENV_DIR, "mlflow-gate-peer-packages");

/** Installs bench/requirements-peer.txt into PEER_PACKAGES_DIR when it is missing (about 10 s, once). */
export function ensurePeerDependencies(log: (line: string) => void): void {
  if (existsSync(join(PEER_PACKAGES_DIR, "flask_wtf"))) return;
  const requirements = join(__dirname, "..", "requirements-peer.txt");
  log(`installing ${requirements} into ${PEER_PACKAGES_DIR} (MLflow's basic-auth app needs it)`);
  // --no-deps: Flask and itsdangerous come from .venv, the same versions the pinned MLflow runs with.
  execFileSync(
    VENV_PYTHON,
    [
      "-m",
      "pip",
      "install",
      "--disable-pip-version-check",
      "--quiet",
      "--no-deps",
      "--target",
      PEER_PACKAGES_DIR,
      "-r",
      requirements,
    ],
    { stdio: "inherit" },
  );
}

export interface BasicAuthMlflow extends RunningServer {
  /** The bootstrap admin's basic-auth credentials. */
  readonly admin: { readonly username: string; readonly password: string };
}

/**
 * The pinned MLflow started as `mlflow server --app-name basic-auth`, otherwise as the local stack starts it
 * (sqlite, served artifacts, one worker). Its auth config (MLFLOW_AUTH_CONFIG_PATH) keeps MLflow's defaults
 * (default_permission READ) with its own user database; the admin password comes from
 * MLFLOW_AUTH_ADMIN_PASSWORD, as MLflow documents, so it is never written to a file; the CSRF secret from
 * MLFLOW_FLASK_SERVER_SECRET_KEY. `credentialCacheSeconds`
 * sets `auth_cache_ttl_seconds` (MLflow's default 0: every request checks the password hash).
 */
export async function startBasicAuthMlflow(options: {
  dataDir: string;
  credentialCacheSeconds: number;
}): Promise<BasicAuthMlflow> {
  const dir = options.dataDir;
  mkdirSync(join(dir, "artifacts"), { recursive: true });
  const configFile = join(dir, "basic_auth.ini");
  writeFileSync(
    configFile,
    [
      "[mlflow]",
      "default_permission = READ",
      `database_uri = sqlite:///${join(dir, "basic_auth.db")}`,
      "admin_username = admin",
      "authorization_function = mlflow.server.auth:authenticate_request_basic_auth",
      `auth_cache_ttl_seconds = ${options.credentialCacheSeconds}`,
      "",
    ].join("\n"),
  );
  const admin = { username: "admin", password: generatePassword() };
  const port = await claimPort("127.0.0.1", 0, "none");
  const child: ChildProcess = spawn(
    join(VENV_DIR, "bin", "mlflow"),
    ["server", "--app-name", "basic-auth", ...mlflowServerOptions(dir, "127.0.0.1", port)],
    {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PYTHONPATH: [PEER_PACKAGES_DIR, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
        MLFLOW_AUTH_CONFIG_PATH: configFile,
        MLFLOW_AUTH_ADMIN_PASSWORD: admin.password,
        // basic-auth refuses to start without a static CSRF secret.
        MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(32).toString("hex"),
        MLFLOW_DISABLE_TELEMETRY: "true",
        DO_NOT_TRACK: "true",
        PYTHONUNBUFFERED: "1",
        // As the stack's MLflow runs (mlflowProcessEnv): no job runner taking CPU from the measured processes.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false",
      },
    },
  );
  killOnExit(child);
  const why = tailOf(child);
  const url = new URL(`http://127.0.0.1:${port}`);
  try {
    await waitForHttp(new URL("/health", url).href, child, 180_000, why);
  } catch (e) {
    await stopProcessGroup(child);
    throw new Error(`MLflow basic-auth ${(e as Error).message}`);
  }
  return { url, admin, stop: () => stopProcessGroup(child) };
}

export const basicAuthHeader = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
