import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { processStartTime } from "../../local/leftovers";
import { claimPort } from "../../local/processes";
import { StackSummary } from "../../local/stack";
import { isListening, startNpm, Started, stopNpm, untilReady } from "./support/npm-start";

// `npm start` ended the ways a terminal ends it: a closed window (SIGHUP), a SIGKILL, and a SIGKILL of both
// the stack and its reaper. Each time the next start on the same ports and data directory comes up, and no
// process of the run before remains. Linux only (/proc), as CI is.

let dataDir: string;
let env: Record<string, string>;
let current: Started | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-lifecycle-"));
  const port = async () => String(await claimPort("127.0.0.1", 0, ""));
  env = {
    MLFLOW_GATE_PORT: await port(),
    MLFLOW_GATE_USER_POOL_PORT: await port(),
    MLFLOW_GATE_STS_PORT: await port(),
    MLFLOW_GATE_MLFLOW_PORT: await port(),
    MLFLOW_GATE_GUARD_PORT: await port(),
    MLFLOW_GATE_S3_PORT: await port(),
  };
});
afterAll(async () => {
  await stopNpm(current);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly started: string;
  readonly command: string;
}

/** Every live process (zombies excluded), from /proc. */
function processes(): Proc[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (fields[0] === "Z") return [];
        const command = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
        return [{ pid: Number(d), ppid: Number(fields[1]), started: fields[19] as string, command }];
      } catch {
        return [];
      }
    });
}

/** The stack process and everything under it: MLflow and its workers, the guard, cognito-local, moto, the reaper. */
function familyOf(root: number): Proc[] {
  const all = processes();
  const family = all.filter((p) => p.pid === root);
  for (let i = 0; i < family.length; i++) family.push(...all.filter((p) => p.ppid === family[i]!.pid));
  return family;
}

/** Those of `family` still running (the same pid with the same start time). */
const stillRunning = (family: readonly Proc[]): Proc[] => family.filter((p) => processStartTime(p.pid) === p.started);

async function untilGone(family: readonly Proc[], timeoutMs: number): Promise<Proc[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && stillRunning(family).length > 0) await new Promise((r) => setTimeout(r, 200));
  return stillRunning(family);
}

async function startAndExpectUp(): Promise<{ s: Started; summary: StackSummary; family: Proc[] }> {
  const s = startNpm(dataDir, env);
  current = s;
  await untilReady(s);
  const summary = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as StackSummary;
  expect(summary.gatewayUrl).toBe(`http://127.0.0.1:${env.MLFLOW_GATE_PORT}`);
  expect((await fetch(`${summary.mlflowPrivateUrl}/health`)).status).toBe(200);
  const family = familyOf(s.child.pid!);
  // The stack, MLflow (and its workers), the guard, cognito-local, the S3 emulator and the reaper at least.
  expect(family.length).toBeGreaterThanOrEqual(6);
  expect(family.some((p) => p.command.includes("child-reaper.cjs"))).toBe(true);
  return { s, summary, family };
}

describe("npm start ended by a signal", () => {
  let run: Awaited<ReturnType<typeof startAndExpectUp>>;

  test("SIGHUP (a closed terminal) stops the stack as Ctrl-C does: every child ends, exit 0", async () => {
    // Prepare
    run = await startAndExpectUp();
    // Act
    run.s.child.kill("SIGHUP");
    // Assess
    expect(await run.s.exited).toBe(0);
    expect(run.s.stderr()).toContain("SIGHUP: stopping");
    expect(await untilGone(run.family, 15_000)).toEqual([]);
    expect(await isListening(run.summary.gatewayUrl)).toBe(false);
    expect(readdirSync(join(dataDir, "run"))).toEqual([]);
  }, 300_000);

  test("SIGKILL: the reaper stops every child within seconds; the next start on the same ports comes up", async () => {
    // Prepare
    run = await startAndExpectUp();
    // Act
    run.s.child.kill("SIGKILL");
    await run.s.exited;
    // Assess: the reaper's grace period is 5 s.
    expect(await untilGone(run.family, 15_000)).toEqual([]);
    run = await startAndExpectUp();
    expect(run.s.stderr()).not.toContain("leftover");
  }, 300_000);

  test("SIGKILL of the stack and its reaper: the next start stops the leftovers from their pid files and says so", async () => {
    // Prepare: the reaper goes first, so nothing stops the children.
    const reaper = run.family.find((p) => p.command.includes("child-reaper.cjs"))!;
    process.kill(reaper.pid, "SIGKILL");
    run.s.child.kill("SIGKILL");
    await run.s.exited;
    await new Promise((r) => setTimeout(r, 1000));
    const left = stillRunning(run.family);
    expect(left.map((p) => p.command).join("\n")).toMatch(/mlflow/);
    // Act
    const next = await startAndExpectUp();
    // Assess
    for (const name of ["mlflow", "guard", "cognito-local", "s3 emulator"])
      expect(next.s.stderr()).toMatch(
        new RegExp(`stopped a leftover of an earlier run: ${name} \\(process group \\d+\\)`),
      );
    expect(stillRunning(left)).toEqual([]);
    next.s.child.kill("SIGTERM");
    expect(await next.s.exited).toBe(0);
    expect(await untilGone(next.family, 15_000)).toEqual([]);
  }, 300_000);

  test("a second stack on a data directory whose stack still runs: one line naming it, exit 1, the first untouched", async () => {
    // Prepare
    const first = await startAndExpectUp();
    // Act
    const second = startNpm(dataDir, { ...env, MLFLOW_GATE_PORT: "0", MLFLOW_GATE_USER_POOL_PORT: "0" });
    // Assess
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(
      `mlflow-gate: cannot start: another mlflow-gate stack (process ${first.s.child.pid}) runs on ${dataDir}: stop it first, or give this one another MLFLOW_GATE_DATA`,
    );
    expect(stillRunning(first.family)).toEqual(first.family);
    first.s.child.kill("SIGTERM");
    expect(await first.s.exited).toBe(0);
  }, 300_000);
});
