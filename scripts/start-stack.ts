// The local stack: real MLflow behind the local API Gateway, with a local Cognito pool (npm start).
import { ConfigError } from "../authorizer/core/errors";
import { jsonLineWriter } from "../common/log";
import { parseStackConfig } from "../local/config";
import { formatSummary, startStack } from "../local/stack";
import { join } from "path";
import { ensureMlflowVenv } from "../project/mlflow-venv";
import { buildUi } from "../ui-patch/build-ui";

export async function main(): Promise<void> {
  const started = Date.now();
  // The AWS SDK (the pool's admin calls) warns that its 2027 releases need Node 22; the README says so once.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const progress = (line: string) => process.stderr.write(`mlflow-gate: ${line}\n`);
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    // Ctrl-C under `npm start` arrives twice (from the terminal, and forwarded by npm): once is enough.
    if (stopping) return;
    stopping = true;
    // The gateway stops accepting, answers what is in flight (up to 10 s), then MLflow and the pool stop.
    progress(`${signal}: stopping`);
    void (stop ? stop() : Promise.resolve()).then(() => {
      progress("stopped");
      process.exit(0);
    });
  };
  // A closed terminal (SIGHUP) stops the stack as Ctrl-C does; so does the end of the process that started
  // it (npm, killed), seen as a new parent. Writes to a terminal that is gone must not stop the stopping.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => shutdown(signal));
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown("parent process gone");
  }, 1000).unref();
  try {
    const config = parseStackConfig(process.env);
    progress(`data in ${config.dataDir}`);
    ensureMlflowVenv(progress);
    // The local stack serves the patched UI; it is built here, from the pinned wheel's UI and the shell.
    const builtAt = Date.now();
    const ui = await buildUi(join(config.dataDir, "ui"));
    progress(`ui            ${ui.outDir} (${Date.now() - builtAt} ms)`);
    const stack = await startStack(config, {
      uiDirectory: ui.outDir,
      progress,
      // Every machine-readable line on stdout, in the one log shape; progress for people on stderr.
      log: jsonLineWriter(process.stdout),
    });
    stop = stack.stop;
    if (stopping) return void (await stack.stop());
    process.stderr.write(formatSummary(stack.summary, config.dataDir));
    progress(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    const message = e instanceof ConfigError ? e.message : `cannot start: ${(e as Error).message}`;
    process.stderr.write(`mlflow-gate: ${message}\n`);
    process.exit(1);
  }
}
