// The local stack's reaper: a process of its own session, started by the first child the stack spawns
// (local/processes.ts). The stack writes `+<pgid>` for each child's process group and `-<pgid>` when that
// child exits. When the stack's end of the pipe closes, however the stack ended (a SIGKILL included), the
// reaper stops every group still registered: SIGTERM, then SIGKILL after a grace period. It ignores the
// signals of a closed terminal, so it outlives the stack it watches by that long at most.
"use strict";

const GRACE_MS = Number(process.env.MLFLOW_GATE_REAPER_GRACE_MS) || 5000;
const groups = new Set();
let partial = "";

for (const s of ["SIGHUP", "SIGINT"]) process.on(s, () => undefined);

const signal = (group, s) => {
  try {
    process.kill(-group, s);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
};

let reaping = false;
function reap() {
  if (reaping) return;
  reaping = true;
  for (const g of groups) signal(g, "SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  const tick = () => {
    const left = [...groups].filter((g) => signal(g, 0));
    if (left.length === 0) process.exit(0);
    if (Date.now() >= deadline) {
      for (const g of left) signal(g, "SIGKILL");
      process.exit(0);
    }
    setTimeout(tick, 100);
  };
  tick();
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  const lines = (partial + chunk).split("\n");
  partial = lines.pop() ?? "";
  for (const line of lines) {
    const m = /^([+-])(\d+)$/.exec(line);
    if (!m) continue;
    if (m[1] === "+") groups.add(Number(m[2]));
    else groups.delete(Number(m[2]));
  }
});
process.stdin.on("end", reap);
process.stdin.on("close", reap);
process.stdin.on("error", reap);
