import { ChildProcess } from "child_process";
import { claimPort, stopProcessGroup } from "./processes";

/** How a crashed child is restarted: after a delay that doubles per failed attempt. */
export interface RestartPolicy {
  /** Where restart lines go (npm start's progress). */
  readonly log: (line: string) => void;
  /** @default 1000 */
  readonly initialDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
  /** A child that stayed up this long counts as healthy again: the next crash waits `initialDelayMs`. @default 60000 */
  readonly healthyAfterMs?: number;
}

export interface SupervisedChild {
  /** The current child's process id (undefined between a crash and the restart); fault tests kill it. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The wait before restart attempt `attempt` (1-based): initial, doubled each time, capped. */
export function restartDelayMs(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}

/**
 * Starts a child with `start` (which resolves once it is ready, and hands over the child as soon as it
 * is spawned) and, with a restart policy, starts it again whenever it exits on its own, with backoff.
 * `label` names it in the restart lines (`mlflow        `, `guard         `), `where` is its address.
 */
export async function supervise(
  label: string,
  where: string,
  start: (onSpawn: (child: ChildProcess) => void) => Promise<ChildProcess>,
  restart?: RestartPolicy,
): Promise<SupervisedChild> {
  let child: ChildProcess | undefined = await start(() => undefined);
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;

  if (restart) {
    const initial = restart.initialDelayMs ?? 1000;
    const max = restart.maxDelayMs ?? 30_000;
    const healthyAfter = restart.healthyAfterMs ?? 60_000;
    let attempt = 0;
    let upSince = Date.now();

    const watch = (c: ChildProcess) => {
      c.once("exit", (code, signal) => {
        if (stopping) return;
        child = undefined;
        if (Date.now() - upSince >= healthyAfter) attempt = 0;
        scheduleRestart(`exited (${code ?? signal})`);
      });
    };
    const scheduleRestart = (why: string) => {
      attempt += 1;
      const delay = restartDelayMs(attempt, initial, max);
      restart.log(`${label}${why}; restarting on ${where} in ${(delay / 1000).toFixed(1)} s (attempt ${attempt})`);
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        const began = Date.now();
        restarting = (async () => {
          try {
            // Recorded at once, so a stop during the restart also stops this child.
            const c = await start((spawned) => (child = spawned));
            if (stopping) return void (await stopProcessGroup(c));
            upSince = Date.now();
            restart.log(`${label}restarted on ${where} (ready in ${Date.now() - began} ms)`);
            watch(c);
          } catch (e) {
            child = undefined;
            if (!stopping) scheduleRestart(`restart failed: ${(e as Error).message.split("\n")[0]}`);
          } finally {
            restarting = undefined;
          }
        })();
      }, delay);
    };
    watch(child);
  }

  return {
    get pid() {
      return child?.pid;
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (child) await stopProcessGroup(child);
      await restarting;
    },
  };
}

/** A supervised server on a loopback port of its own. */
export interface SupervisedServer extends SupervisedChild {
  readonly url: URL;
}

/**
 * Claims the port (`portVariable` names the setting in the error when it is taken), then supervises the
 * server `start` launches on it. A restart waits until that same port is free again, so the gateway's
 * upstream address never changes.
 */
export async function superviseOnPort(
  label: string,
  at: { readonly host: string; readonly port: number; readonly portVariable: string },
  start: (url: URL, onSpawn: (child: ChildProcess) => void) => Promise<ChildProcess>,
  restart?: RestartPolicy,
): Promise<SupervisedServer> {
  const port = await claimPort(at.host, at.port, at.portVariable);
  const url = new URL(`http://${at.host}:${port}`);
  let first = true;
  const child = await supervise(
    label,
    url.origin,
    async (onSpawn) => {
      if (!first) await claimPort(at.host, port, at.portVariable);
      first = false;
      return start(url, onSpawn);
    },
    restart,
  );
  return {
    url,
    get pid() {
      return child.pid;
    },
    stop: () => child.stop(),
  };
}
