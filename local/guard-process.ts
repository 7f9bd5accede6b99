import { ChildProcess, spawn } from "child_process";
import { join } from "path";
import { GUARD_ENV } from "../guard/config";
import { REPO_ROOT } from "../project/paths";
import { killOnExit, stopProcessGroup, tailOf } from "./processes";
import { RestartPolicy, superviseOnPort } from "./supervisor";

/**
 * The guard in the local stack: the same program as the MLflow task's sidecar (guard/main.ts), as a
 * child process on a private loopback port between the gateway and MLflow, supervised like MLflow.
 */
export interface GuardProcessOptions {
  readonly host: string;
  readonly port: number;
  readonly portVariable: string;
  /** MLflow's private address. */
  readonly upstream: URL;
  /** Where audit lines are appended. */
  readonly auditFile: string;
  readonly auditReads?: boolean;
  /** The guard's own event lines (JSON), as it prints them. */
  readonly events: (line: string) => void;
  readonly restart?: RestartPolicy;
  readonly readyTimeoutMs?: number;
}

export interface RunningGuard {
  readonly url: URL;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const GUARD_MAIN = join(REPO_ROOT, "guard", "main.ts");

function spawnGuard(options: GuardProcessOptions, port: number): ChildProcess {
  const child = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), GUARD_MAIN], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: process.env.NODE_ENV,
      [GUARD_ENV.host]: options.host,
      [GUARD_ENV.port]: String(port),
      [GUARD_ENV.upstream]: options.upstream.origin,
      [GUARD_ENV.auditFile]: options.auditFile,
      [GUARD_ENV.auditReads]: options.auditReads === true ? "true" : "false",
    },
  });
  killOnExit(child);
  return child;
}

/** Resolves once the guard says it listens; rejects with its last lines if it exits or stays silent. */
function untilStarted(child: ChildProcess, timeoutMs: number, why: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => done(new Error(`not ready after ${Math.round(timeoutMs / 1000)} s:\n${why()}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString("utf8")).slice(-8192);
      if (/"event":"started"/.test(seen)) done();
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`exited (${code ?? signal}) before it was ready:\n${why()}`));
    const done = (e?: Error) => {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (e) reject(e);
      else resolve();
    };
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

export function startGuard(options: GuardProcessOptions): Promise<RunningGuard> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  return superviseOnPort(
    "guard         ",
    options,
    async (url, onSpawn) => {
      const c = spawnGuard(options, Number(url.port));
      onSpawn(c);
      const why = tailOf(c);
      // Its event lines (started, stopping) join the stack's log.
      let partial = "";
      c.stderr?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line.trim() !== "") options.events(line);
      });
      c.stdout?.resume();
      try {
        await untilStarted(c, readyTimeoutMs, why);
      } catch (e) {
        await stopProcessGroup(c);
        throw new Error(`the guard ${(e as Error).message}`);
      }
      return c;
    },
    options.restart,
  );
}
