#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so the installed command always matches the source.
require("tsx/cjs");
// process.exit drops output still queued for a pipe (a large `sign` body, a long `policy render`):
// exit only once stdout and stderr have flushed what was written before.
const exitAfterFlush = (code) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
require("../scripts/cli.ts")
  .main(process.argv.slice(2))
  .then(
    (code) => exitAfterFlush(code),
    (err) => {
      process.stderr.write(`mlflow-gate: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
