import { ChildProcess, spawn } from "child_process";
import { join } from "path";
import { GUARD_ENV } from "../guard/config";
import { REPO_ROOT } from "../project/paths";
import { killOnExit, stopProcessGroup, tailOf, untilLine } from "./processes";
import { RestartPolicy, superviseOnPort } from "./supervisor";

/**
 * The guard in the local stack: the same program as the MLflow task's sidecar (guard/main.ts), as a
 * child process on a private loopback port between the gateway and MLflow, supervised like MLflow.
 */
export interface GuardProcessOptions {
  /** Where its processes' pid files go (`<data>/run`), for the next stack to stop leftovers; @default none */
  readonly runDir?: string;
  readonly host: string;
  readonly port: number;
  readonly portVariable: string;
  /** MLflow's private address. */
  readonly upstream: URL;
  /** Where audit lines are appended. */
  readonly auditFile: string;
  readonly auditReads?: boolean;
  /** The group files the guard decides promotions with (the stack's); @default the repository's */
  readonly groupsDir?: string;
  /** The team files (the stack's): they must be those the API was rendered from; @default the repository's */
  readonly teamsDir?: string;
  /** The groups of SigV4 callers: `user/<name>` and `role/<name>` of the local principals; @default none */
  readonly iamGroups?: ReadonlyMap<string, string>;
  /** The guard's own event lines (JSON), as it prints them. */
  readonly events: (line: string) => void;
  readonly restart?: RestartPolicy;
  readonly readyTimeoutMs?: number;
}

export interface RunningGuard {
  readonly url: URL;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Asks the guard to read its group and team files again (SIGHUP); false when no guard runs right now. */
  reload(): boolean;
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
      ...(options.groupsDir !== undefined ? { [GUARD_ENV.groupsDir]: options.groupsDir } : {}),
      ...(options.teamsDir !== undefined ? { [GUARD_ENV.teamsDir]: options.teamsDir } : {}),
      ...(options.iamGroups !== undefined
        ? { [GUARD_ENV.iamGroups]: JSON.stringify(Object.fromEntries(options.iamGroups)) }
        : {}),
    },
  });
  killOnExit(child, options.runDir !== undefined ? { runDir: options.runDir, name: "guard" } : undefined);
  return child;
}

export async function startGuard(options: GuardProcessOptions): Promise<RunningGuard> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const supervised = await superviseOnPort(
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
        // Its "started" event says it listens.
        await untilLine(
          c,
          "stderr",
          (line) => (/"event":"started"/.test(line) ? true : undefined),
          readyTimeoutMs,
          why,
        );
      } catch (e) {
        await stopProcessGroup(c);
        throw new Error(`the guard ${(e as Error).message}`);
      }
      return c;
    },
    options.restart,
  );
  return {
    url: supervised.url,
    get pid() {
      return supervised.pid;
    },
    stop: () => supervised.stop(),
    reload() {
      const pid = supervised.pid;
      if (pid === undefined) return false;
      try {
        process.kill(pid, "SIGHUP");
        return true;
      } catch {
        return false;
      }
    },
  };
}
