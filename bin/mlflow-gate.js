#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so the installed command always matches the source.
require("tsx/cjs");
require("../scripts/cli.ts").main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mlflow-gate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
