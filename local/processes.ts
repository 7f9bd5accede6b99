import { ChildProcess, spawn } from "child_process";
import { createServer } from "net";
import { join } from "path";
import { forgetChild, recordChild } from "./leftovers";

/** A port that was free a moment ago (0 asks the OS for one); a taken port is a clear error. */
export async function claimPort(host: string, port: number, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        new Error(
          e.code === "EADDRINUSE"
            ? `port ${port} on ${host} is in use: set ${variable} to another port`
            : `cannot use port ${port} on ${host} (${e.code}): set ${variable}`,
        ),
      );
    });
    probe.listen(port, host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : port));
    });
  });
}

/** The last lines a child printed, to explain why it stopped. */
export function tailOf(child: ChildProcess, lines = 15): () => string {
  const kept: string[] = [];
  const keep = (chunk: Buffer) => {
    kept.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== ""),
    );
    kept.splice(0, Math.max(0, kept.length - lines));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => kept.join("\n");
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
/** The reaper (local/child-reaper.cjs), started with the first child; null when it could not be started. */
let reaper: ChildProcess | null | undefined;

function tellReaper(line: string): void {
  if (reaper === undefined) {
    try {
      reaper = spawn(process.execPath, [join(__dirname, "child-reaper.cjs")], {
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
      });
      reaper.once("error", () => (reaper = null));
      reaper.stdin?.on("error", () => undefined);
      // Neither the reaper nor its pipe keeps this process alive.
      reaper.unref();
      (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      reaper = null;
    }
  }
  reaper?.stdin?.write(`${line}\n`);
}

/**
 * Children run in their own process group (so that a stop reaches their workers). So that they never outlive
 * this process, however it ends: its exit hook kills their groups; a reaper of its own session kills them
 * when this process dies without running that hook (SIGKILL); and with `pidFile`, a pid file in its `runDir` lets the
 * next stack on the same data directory stop them if both were killed (local/leftovers.ts).
 */
export function killOnExit(child: ChildProcess, pidFile?: { readonly runDir: string; readonly name: string }): void {
  const pid = child.pid;
  if (pid === undefined) return;
  running.add(child);
  tellReaper(`+${pid}`);
  if (pidFile !== undefined) recordChild(pidFile.runDir, pid, pidFile.name);
  child.once("exit", () => {
    running.delete(child);
    tellReaper(`-${pid}`);
    if (pidFile !== undefined) forgetChild(pidFile.runDir, pid);
  });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of running) {
      try {
        if (c.pid !== undefined) process.kill(-c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** Stops a child started with `detached: true` (its own process group): SIGTERM, then SIGKILL. */
export async function stopProcessGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Polls `url` until it answers 200, the child exits, or the time is up. */
export async function waitForHttp(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  why: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${why()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready after ${Math.round(timeoutMs / 1000)} s:\n${why()}`);
}

/**
 * Resolves with what `ready` finds in a line the child prints on `stream` (its ready line); rejects with its
 * last lines if it exits first or stays silent for `timeoutMs`.
 */
export function untilLine<T>(
  child: ChildProcess,
  stream: "stdout" | "stderr",
  ready: (line: string) => T | undefined,
  timeoutMs: number,
  why: () => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const source = child[stream];
    let partial = "";
    const timer = setTimeout(
      () => done(new Error(`not ready after ${Math.round(timeoutMs / 1000)} s:\n${why()}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = (lines.pop() ?? "").slice(-8192);
      for (const line of lines) {
        const found = ready(line);
        if (found !== undefined) return done(undefined, found);
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`exited (${code ?? signal}) before it was ready:\n${why()}`));
    // A program that cannot be started at all (a missing interpreter) is an error event, not an exit.
    const onError = (e: Error) => done(new Error(`cannot be started: ${e.message}`));
    const done = (e?: Error, found?: T) => {
      clearTimeout(timer);
      source?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (e) reject(e);
      else resolve(found as T);
    };
    source?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}
