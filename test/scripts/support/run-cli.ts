import { spawn } from "child_process";
import { join } from "path";
import { Readable } from "stream";
import { main } from "../../../scripts/cli";
import { REPO_ROOT } from "../../../project/paths";

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  /** stdout as bytes (a binary body). */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** The environment a user's shell would give the CLI: nothing of jest's own, no instance metadata lookups. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...extra,
  };
}

/**
 * Runs bin/mlflow-gate.js as a user would, without blocking the event loop (the gateway may run in
 * this process). `stdin` is piped and closed; without it stdin is closed at once.
 */
export function runCliProcess(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "mlflow-gate.js"), ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? cliEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Runs the CLI in this process with captured output, an explicit environment and stdin. */
export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<CliRun> {
  const out: Buffer[] = [];
  let stderr = "";
  const stdin = Object.assign(Readable.from([Buffer.from(options.stdin ?? "")]), { isTTY: false });
  const code = await main(args, {
    stdout: { write: (t: string | Uint8Array) => out.push(Buffer.from(t)) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin,
    env: options.env ?? {},
  });
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr };
}
