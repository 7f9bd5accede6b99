import { spawn } from "child_process";
import { mkdirSync } from "fs";
import { join } from "path";
import { pathToFileURL } from "url";
import { VENV_DIR } from "../scripts/lib/mlflow-env";
import { claimPort, killOnExit, stopProcessGroup, tailOf, waitForHttp } from "./processes";

export interface RunningMlflow {
  /** MLflow's private address: only the gateway talks to it. */
  readonly url: URL;
  stop(): Promise<void>;
}

/**
 * Starts the pinned MLflow from .venv on a loopback port, with sqlite and artifacts under
 * `<data>/mlflow` (so data survives restarts) and artifacts served through the tracking server.
 */
export async function startMlflow(options: { dataDir: string; host: string; port: number; portVariable: string; readyTimeoutMs?: number }): Promise<RunningMlflow> {
  const dir = join(options.dataDir, "mlflow");
  mkdirSync(join(dir, "artifacts"), { recursive: true });
  const port = await claimPort(options.host, options.port, options.portVariable);
  const child = spawn(
    join(VENV_DIR, "bin", "mlflow"),
    [
      "server",
      "--host", options.host,
      "--port", String(port),
      "--backend-store-uri", `sqlite:///${join(dir, "mlflow.db")}`,
      "--artifacts-destination", pathToFileURL(join(dir, "artifacts")).href,
      "--serve-artifacts",
      "--workers", "1",
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // No telemetry: the local stack makes no outbound calls.
      env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true", PYTHONUNBUFFERED: "1" },
    },
  );
  killOnExit(child);
  const why = tailOf(child);
  const url = new URL(`http://${options.host}:${port}`);
  try {
    await waitForHttp(new URL("/health", url).href, child, options.readyTimeoutMs ?? 120_000, why);
  } catch (e) {
    await stopProcessGroup(child);
    throw new Error(`MLflow ${(e as Error).message}`);
  }
  return { url, stop: () => stopProcessGroup(child) };
}
