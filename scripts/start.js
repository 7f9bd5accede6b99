#!/usr/bin/env node
// `npm start`: installs what is missing (npm packages here, the pinned MLflow next), then runs the
// local stack. Plain JavaScript: it must run before node_modules exists.
const { existsSync, statSync } = require("fs");
const { spawnSync } = require("child_process");
const { join } = require("path");

const root = join(__dirname, "..");
const installed = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write("mlflow-gate: installing npm packages (npm ci)\n");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
require("tsx/cjs");
require("./start-stack.ts").main();
