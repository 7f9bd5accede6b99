import { ChildProcess, spawn } from "child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { delimiter, join } from "path";
import { pathToFileURL } from "url";
import { loadPinnedMlflowVersion } from "../project/mlflow-venv";
import { MLFLOW_PYTHON_DIR, VENV_DIR } from "../project/paths";
import { killOnExit, stopProcessGroup, tailOf, waitForHttp } from "./processes";
import { ensureMlflowWorkspaces, parseWorkspaceNames } from "./mlflow-workspaces";
import { localArtifactsDestination, RunningS3, s3ClientEnv } from "./s3-emulator";
import { RestartPolicy, superviseOnPort } from "./supervisor";

export type { RestartPolicy } from "./supervisor";

export interface RunningMlflow {
  /** MLflow's private address: only the gateway talks to it. */
  readonly url: URL;
  /** The process id of the current MLflow child (undefined between a crash and the restart); fault tests kill it. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface MlflowOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly portVariable: string;
  readonly readyTimeoutMs?: number;
  /** Restart MLflow when it exits on its own; @default no restart (the gateway answers 502 until it is back) */
  readonly restart?: RestartPolicy;
  /** Progress lines (a database migration, a created workspace); @default none */
  readonly log?: (line: string) => void;
  /**
   * The S3 emulator that holds artifacts, as the artifact bucket does on AWS (so clients get presigned
   * S3 URLs for large files); @default files under `<data>/mlflow/artifacts` (benchmarks that never
   * touch artifacts)
   */
  readonly artifactStore?: Pick<RunningS3, "url" | "region" | "bucket">;
  /**
   * Team workspaces (TEAM_NAME each): MLflow runs with `--enable-workspaces` and, whenever it is ready (a
   * restart too), creates those it does not have yet; `default` always exists. An empty list runs
   * workspaces with `default` only. @default no workspaces (MLflow as before teams)
   */
  readonly workspaces?: readonly string[];
  /** Run MLflow's job runner (MLFLOW_SERVER_ENABLE_JOB_EXECUTION); @default false: no huey consumers */
  readonly jobs?: boolean;
  /** Where its processes' pid files go (`<data>/run`), for the next stack to stop leftovers; @default none */
  readonly runDir?: string;
}

/** Python that the MLflow server process loads at start (sitecustomize.py): the container image's own. */

/** The environment of the MLflow server process; `jobs` turns MLflow's job runner on (@default off). */
export function mlflowProcessEnv(base: NodeJS.ProcessEnv, jobs = false): NodeJS.ProcessEnv {
  // Workspace mode is the stack's choice (its --enable-workspaces), never the shell's: MLflow reads
  // MLFLOW_ENABLE_WORKSPACES and MLFLOW_WORKSPACE_STORE_URI too, and refuses to start at all when the
  // client-only MLFLOW_WORKSPACE is set.
  const {
    MLFLOW_WORKSPACE: _workspace,
    MLFLOW_ENABLE_WORKSPACES: _enable,
    MLFLOW_WORKSPACE_STORE_URI: _store,
    ...rest
  } = base;
  return {
    ...rest,
    // No telemetry: the local stack makes no outbound calls.
    MLFLOW_DISABLE_TELEMETRY: "true",
    DO_NOT_TRACK: "true",
    PYTHONUNBUFFERED: "1",
    // The job runner is the stack's choice too: on, MLflow keeps about six huey consumers that each use a few
    // per cent of a core while idle (MLflow's own default is on).
    MLFLOW_SERVER_ENABLE_JOB_EXECUTION: jobs ? "true" : "false",
    // sitecustomize.py there works around an MLflow race that answers search_runs with a 500 under load.
    PYTHONPATH: [MLFLOW_PYTHON_DIR, base.PYTHONPATH].filter(Boolean).join(delimiter),
  };
}

/**
 * `mlflow server`'s options for the local stack: sqlite under `dir`, one worker, and artifacts served
 * through the tracking server from `artifactsDestination` (@default files under `dir`). With
 * `enableWorkspaces`, the sqlite database is the workspace store too (MLflow's default).
 */
export function mlflowServerOptions(
  dir: string,
  host: string,
  port: number,
  artifactsDestination = pathToFileURL(join(dir, "artifacts")).href,
  enableWorkspaces = false,
): string[] {
  return [
    "--host",
    host,
    "--port",
    String(port),
    "--backend-store-uri",
    `sqlite:///${join(dir, "mlflow.db")}`,
    "--artifacts-destination",
    artifactsDestination,
    "--serve-artifacts",
    "--workers",
    "1",
    ...(enableWorkspaces ? ["--enable-workspaces"] : []),
  ];
}

function spawnMlflow(
  dir: string,
  host: string,
  port: number,
  launch: Pick<MlflowOptions, "artifactStore" | "jobs" | "runDir">,
  enableWorkspaces: boolean,
): ChildProcess {
  const { artifactStore } = launch;
  const options = mlflowServerOptions(
    dir,
    host,
    port,
    artifactStore ? localArtifactsDestination(artifactStore.bucket) : undefined,
    enableWorkspaces,
  );
  const env = mlflowProcessEnv(process.env, launch.jobs === true);
  const child = spawn(join(VENV_DIR, "bin", "mlflow"), ["server", ...options], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: artifactStore ? s3ClientEnv(env, artifactStore) : env,
  });
  killOnExit(child, launch.runDir !== undefined ? { runDir: launch.runDir, name: "mlflow" } : undefined);
  return child;
}

/** What `prepareDatabase` found: no database yet, one of the pinned MLflow, or one it upgraded. */
export type DatabaseState = "new" | "current" | "upgraded";

/**
 * MLflow refuses to start on a database of an older schema ("run mlflow db upgrade"), so a new pin in
 * MLFLOW_VERSION would stop `npm start`. The MLflow version that last used `<dir>/mlflow.db` is kept
 * beside it; when it differs (or was never recorded), the database is copied to
 * `mlflow.db.before-<version>` and migrated with `mlflow db upgrade`, which is a no-op when nothing changed.
 */
export async function prepareDatabase(
  dir: string,
  mlflowVersion: string,
  log: (line: string) => void,
): Promise<DatabaseState> {
  const db = join(dir, "mlflow.db");
  const marker = join(dir, "mlflow-version");
  const recorded = existsSync(marker) ? readFileSync(marker, "utf8").trim() : undefined;
  if (!existsSync(db)) {
    writeFileSync(marker, `${mlflowVersion}\n`);
    return "new";
  }
  if (recorded === mlflowVersion) return "current";
  const backup = join(dir, `mlflow.db.before-${mlflowVersion}`);
  if (!existsSync(backup)) copyFileSync(db, backup);
  log(
    `mlflow        database last used by MLflow ${recorded ?? "(unrecorded)"}: migrating it to ${mlflowVersion} (copy kept in ${backup})`,
  );
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(join(VENV_DIR, "bin", "mlflow"), ["db", "upgrade", `sqlite:///${db}`], {
      cwd: dir,
      env: mlflowProcessEnv(process.env),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.on("error", (e) => resolve({ code: null, stderr: e.message }));
    child.on("close", (code) => resolve({ code, stderr }));
  });
  if (result.code !== 0) {
    const tail = result.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new Error(
      `mlflow db upgrade of ${db} failed (exit ${result.code}): ${tail}\n  the database before the attempt is in ${backup}`,
    );
  }
  writeFileSync(marker, `${mlflowVersion}\n`);
  return "upgraded";
}

/** MLflow's refusal to start a database that holds team workspaces without `--enable-workspaces`. */
const WORKSPACE_DATA_WITHOUT_WORKSPACES = "Cannot disable workspaces";

/**
 * Spawns MLflow, waits for /health and creates the missing `workspaces` (undefined: workspaces off); a
 * child that never gets ready, or refuses a workspace, is stopped before the error is thrown.
 */
async function startChild(
  dir: string,
  url: URL,
  readyTimeoutMs: number,
  launch: Pick<MlflowOptions, "artifactStore" | "jobs" | "runDir">,
  workspaces: readonly string[] | undefined,
  log: (line: string) => void,
  onSpawn: (c: ChildProcess) => void = () => undefined,
): Promise<ChildProcess> {
  const child = spawnMlflow(dir, url.hostname, Number(url.port), launch, workspaces !== undefined);
  onSpawn(child);
  const why = tailOf(child);
  try {
    await waitForHttp(new URL("/health", url).href, child, readyTimeoutMs, why);
    if (workspaces) await ensureMlflowWorkspaces(url, workspaces, log);
  } catch (e) {
    await stopProcessGroup(child);
    const hint = why().includes(WORKSPACE_DATA_WITHOUT_WORKSPACES)
      ? "\n  this database holds team workspaces: start with team files, or move their resources to default (docs/teams-migration.md)"
      : "";
    throw new Error(`MLflow ${(e as Error).message}${hint}`);
  }
  return child;
}

/**
 * Starts the pinned MLflow from .venv on a loopback port, with sqlite under `<data>/mlflow` (so data
 * survives restarts) and artifacts served through the tracking server from the S3 emulator.
 * With `restart`, an MLflow that exits on its own (a crash, an OOM kill) is started again on the same
 * port with backoff, so the gateway's 502s end by themselves.
 */
export async function startMlflow(options: MlflowOptions): Promise<RunningMlflow> {
  const workspaces = options.workspaces && parseWorkspaceNames(options.workspaces);
  const log = options.log ?? (() => undefined);
  const dir = join(options.dataDir, "mlflow");
  if (!options.artifactStore) mkdirSync(join(dir, "artifacts"), { recursive: true });
  else mkdirSync(dir, { recursive: true });
  await prepareDatabase(dir, loadPinnedMlflowVersion(), log);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  return superviseOnPort(
    "mlflow        ",
    options,
    (url, onSpawn) => startChild(dir, url, readyTimeoutMs, options, workspaces, log, onSpawn),
    options.restart,
  );
}
