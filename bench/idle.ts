// The local stack at rest: `npm start` as a user runs it (node scripts/start.js, a fresh data directory, free ports),
// left alone once ready, and the CPU its whole process tree uses over a window, as a share of one core. Once as
// `npm start` runs now (MLflow without its job runner) and once with MLFLOW_GATE_MLFLOW_JOBS=true, as it ran
// before. Linux only (/proc).
import { FREE_PORTS_ENV } from "../local/config";
import { spawn } from "child_process";
import { existsSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { REPO_ROOT } from "../project/paths";
import { clockTicksPerSecond, cpuBetween, readProcesses, treeOf } from "./lib/process-cpu";

export interface IdleOptions {
  /** Time left to the stack after it says it is ready, before the window opens. */
  readonly settleMs: number;
  /** The measured window. */
  readonly measureMs: number;
  readonly readyTimeoutMs: number;
}

export interface IdleStackFigures {
  /** MLFLOW_GATE_MLFLOW_JOBS: MLflow's job runner on. */
  readonly jobs: boolean;
  /** From spawning `npm start`'s script to its "ready" line. */
  readonly readyMs: number;
  /** CPU of the whole tree over the window, in per cent of one core. */
  readonly cpuPercentOfOneCore: number;
  readonly processes: number;
  /** The largest users by process name, in per cent of one core. */
  readonly top: readonly { readonly name: string; readonly processes: number; readonly percent: number }[];
}

export interface IdleResults {
  readonly measureSeconds: number;
  readonly settleSeconds: number;
  /** As `npm start` runs by default. */
  readonly stack: IdleStackFigures;
  /** With MLflow's job runner, as `npm start` ran before issue 19. */
  readonly withJobs: IdleStackFigures;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measureStack(jobs: boolean, o: IdleOptions, ticksPerSecond: number): Promise<IdleStackFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-idle-"));
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts", "start.js")], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MLFLOW_GATE_DATA: dataDir,
      ...FREE_PORTS_ENV,
      MLFLOW_GATE_MLFLOW_JOBS: String(jobs),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  try {
    const t0 = Date.now();
    while (!/ready in [\d.]+ s/.test(stderr)) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${stderr.slice(-1500)}`);
      if (Date.now() - t0 > o.readyTimeoutMs) throw new Error(`npm start not ready in ${o.readyTimeoutMs} ms`);
      await sleep(100);
    }
    const readyMs = Date.now() - t0;
    await sleep(o.settleMs);
    const before = treeOf(child.pid as number, readProcesses());
    const opened = performance.now();
    await sleep(o.measureMs);
    const after = treeOf(child.pid as number, readProcesses());
    const seconds = (performance.now() - opened) / 1000;
    const used = cpuBetween(before, after);
    const percent = (ticks: number) => Math.round((ticks / ticksPerSecond / seconds) * 1000) / 10;
    return {
      jobs,
      readyMs,
      cpuPercentOfOneCore: percent(used.ticks),
      processes: used.processes,
      top: used.byName.slice(0, 6).map((n) => ({ name: n.name, processes: n.processes, percent: percent(n.ticks) })),
    };
  } finally {
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(30_000)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchIdle(o: IdleOptions, progress: (line: string) => void): Promise<IdleResults> {
  if (!existsSync("/proc/self/stat")) throw new Error("the idle section reads /proc: it runs on Linux only");
  const ticks = clockTicksPerSecond();
  const line = (f: IdleStackFigures) =>
    `${f.cpuPercentOfOneCore} % of one core over ${o.measureMs / 1000} s, ${f.processes} processes (ready in ${(f.readyMs / 1000).toFixed(1)} s; most: ${f.top
      .slice(0, 3)
      .map((t) => `${t.name} ${t.percent} %`)
      .join(", ")})`;
  const stack = await measureStack(false, o, ticks);
  progress(`idle          npm start at rest: ${line(stack)}`);
  const withJobs = await measureStack(true, o, ticks);
  progress(`idle          with MLflow's job runner (MLFLOW_GATE_MLFLOW_JOBS=true): ${line(withJobs)}`);
  return { measureSeconds: o.measureMs / 1000, settleSeconds: o.settleMs / 1000, stack, withJobs };
}
