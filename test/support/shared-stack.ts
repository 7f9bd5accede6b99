import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { AccessLogEntry } from "../../gateway/answer";
import { FREE_PORTS_ENV, parseStackConfig, StackConfig } from "../../local/config";
import { ACCESS_LOG_FILE } from "../../local/access-log-file";
import { RunningStack, startStack, StackSummary } from "../../local/stack";

/**
 * One local stack for every whole-system test file that needs no private one: jest's global setup starts it
 * (test/support/global-setup.ts), test files reach it by its summary (integration/support/stack.ts
 * startTestStack), one file at a time (a lock directory), and the global teardown stops it. Its access log
 * is a file, since test files may run in other processes.
 */
export const SHARED_STACK_ENV = "MLFLOW_GATE_TEST_STACK";

/** What a test file reads to reach the shared stack. */
export interface SharedStackFile {
  readonly summary: StackSummary;
  readonly config: StackConfig;
  readonly accessLogFile: string;
  /** Held (a directory) by the one test file using the stack. */
  readonly lockDir: string;
}

export interface SharedStack {
  readonly file: string;
  stop(): Promise<void>;
}

export async function startSharedStack(uiDirectory: string): Promise<SharedStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-shared-"));
  const config = parseStackConfig({
    MLFLOW_GATE_DATA: dataDir,
    ...FREE_PORTS_ENV,
  });
  // The stack's own access log file (local/access-log-file.ts).
  const accessLogFile = join(dataDir, ACCESS_LOG_FILE);
  let stack: RunningStack;
  try {
    stack = await startStack(config, {
      uiDirectory,
      progress: () => undefined,
      log: () => undefined,
    });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const file = join(dataDir, "test-stack.json");
  const shared: SharedStackFile = { summary: stack.summary, config, accessLogFile, lockDir: join(dataDir, "lock") };
  writeFileSync(file, JSON.stringify(shared));
  return {
    file,
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function readSharedStackFile(file: string): SharedStackFile {
  return JSON.parse(readFileSync(file, "utf8")) as SharedStackFile;
}

/** The access log so far. */
export function readAccessLog(file: string): AccessLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AccessLogEntry);
}

/** Waits for the shared stack to be free, then holds it (released by the returned function). */
export async function lockSharedStack(lockDir: string, timeoutMs = 30 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      return () => rmdirSync(lockDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (Date.now() > deadline) throw new Error(`the shared test stack stayed busy for ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
