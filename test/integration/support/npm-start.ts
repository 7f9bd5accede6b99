// `npm start` as a user runs it (node scripts/start.js in a child process), for the tests of its lifecycle.
import { ChildProcess, spawn } from "child_process";
import { join } from "path";
import { claimPort } from "../../../local/processes";
import { REPO_ROOT } from "../../../project/paths";

export interface Started {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Its JSON log lines so far (stdout). */
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts the stack on `dataDir` with only PATH, HOME and `env` in its environment. */
export function startNpm(dataDir: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts", "start.js")], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MLFLOW_GATE_DATA: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
  };
}

/** Resolves with the time to its ready line; rejects with its output if it exits first or takes too long. */
export async function untilReady(s: Started, timeoutMs = 180_000): Promise<number> {
  const began = Date.now();
  while (Date.now() - began < timeoutMs) {
    if (/ready in [\d.]+ s/.test(s.stderr())) return Date.now() - began;
    if (s.child.exitCode !== null) throw new Error(`npm start exited ${s.child.exitCode}:\n${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${s.stderr()}`);
}

export async function isListening(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** Stops the stack if it still runs (SIGTERM, as Ctrl-C) and waits for it. */
export async function stopNpm(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill("SIGTERM");
  await s.exited;
}

/** The ports a stack would take by default, free ones instead: a test stack beside any other. */
export async function freePortsEnv(): Promise<{
  MLFLOW_GATE_PORT: string;
  MLFLOW_GATE_USER_POOL_PORT: string;
  MLFLOW_GATE_STS_PORT: string;
}> {
  const port = async () => String(await claimPort("127.0.0.1", 0, ""));
  return {
    MLFLOW_GATE_PORT: await port(),
    MLFLOW_GATE_USER_POOL_PORT: await port(),
    MLFLOW_GATE_STS_PORT: await port(),
  };
}
