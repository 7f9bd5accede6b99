import { ChildProcess, spawn } from "child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { forgetChild, processStartTime, recordChild, stopLeftovers } from "../../local/leftovers";

let runDir: string;
const children: ChildProcess[] = [];

/** A `sleep` in its own process group, as the stack's children run. */
function sleeper(): ChildProcess {
  const c = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  children.push(c);
  return c;
}
const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once("exit", () => r()));

beforeEach(() => {
  runDir = join(mkdtempSync(join(tmpdir(), "mlflow-gate-leftovers-")), "run");
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  rmSync(join(runDir, ".."), { recursive: true, force: true });
});

describe("processStartTime", () => {
  test("is stable for a running process and undefined for a pid with no process", () => {
    // Act / Assess
    expect(processStartTime(process.pid)).toEqual(expect.any(String));
    expect(processStartTime(process.pid)).toBe(processStartTime(process.pid));
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
    expect(processStartTime(-1)).toBeUndefined();
  });
});

describe("stopLeftovers", () => {
  test("a child whose stack is gone is stopped (its whole group), named, and its pid file removed", async () => {
    // Prepare: the record says its stack was a process that no longer runs.
    const child = sleeper();
    recordChild(runDir, child.pid!, "mlflow");
    const file = join(runDir, `${child.pid}.json`);
    const record = JSON.parse(readFileSync(file, "utf8")) as { owner: object };
    writeFileSync(file, JSON.stringify({ ...record, owner: { pid: 2 ** 22 + 1, started: "1" } }));
    const lines: string[] = [];
    // Act
    await stopLeftovers(runDir, (l) => lines.push(l), 2000);
    // Assess
    await exited(child);
    expect(child.signalCode).toBe("SIGTERM");
    expect(lines).toEqual([`stopped a leftover of an earlier run: mlflow (process group ${child.pid})`]);
    expect(readdirSync(runDir)).toEqual([]);
  });

  test("a child whose stack still runs means another stack uses the directory: an error, nothing stopped", async () => {
    // Prepare: this test process is the live stack that started it.
    const child = sleeper();
    recordChild(runDir, child.pid!, "mlflow");
    const file = join(runDir, `${child.pid}.json`);
    const record = JSON.parse(readFileSync(file, "utf8")) as { owner: object };
    const owner = sleeper();
    writeFileSync(
      file,
      JSON.stringify({ ...record, owner: { pid: owner.pid, started: processStartTime(owner.pid!) } }),
    );
    // Act
    const attempt = stopLeftovers(runDir, () => undefined, 2000);
    // Assess
    await expect(attempt).rejects.toThrow(
      `another mlflow-gate stack (process ${owner.pid}) runs on ${join(runDir, "..")}: stop it first, or give this one another MLFLOW_GATE_DATA`,
    );
    expect(processStartTime(child.pid!)).toBeDefined();
    expect(readdirSync(runDir)).toEqual([`${child.pid}.json`]);
  });

  test("a pid now held by another process (another start time) is left alone; unreadable files are ignored", async () => {
    // Prepare
    const child = sleeper();
    recordChild(runDir, child.pid!, "mlflow");
    const file = join(runDir, `${child.pid}.json`);
    const record = JSON.parse(readFileSync(file, "utf8")) as object;
    writeFileSync(file, JSON.stringify({ ...record, started: "0", owner: { pid: 2 ** 22 + 1, started: "1" } }));
    writeFileSync(join(runDir, "7.json"), "not json");
    const lines: string[] = [];
    // Act
    await stopLeftovers(runDir, (l) => lines.push(l), 2000);
    // Assess
    expect(lines).toEqual([]);
    expect(processStartTime(child.pid!)).toBeDefined();
    expect(readdirSync(runDir)).toEqual(["7.json"]);
  });

  test("a run directory others may write to is not trusted: its pid files are ignored, and said so", async () => {
    // Prepare
    const child = sleeper();
    recordChild(runDir, child.pid!, "mlflow");
    const file = join(runDir, `${child.pid}.json`);
    const record = JSON.parse(readFileSync(file, "utf8")) as object;
    writeFileSync(file, JSON.stringify({ ...record, owner: { pid: 2 ** 22 + 1, started: "1" } }));
    chmodSync(runDir, 0o777);
    const lines: string[] = [];
    // Act
    await stopLeftovers(runDir, (l) => lines.push(l), 2000);
    // Assess
    expect(lines).toEqual([
      `run/          ${runDir} is not a directory of this user's alone: its pid files are ignored`,
    ]);
    expect(processStartTime(child.pid!)).toBeDefined();
  });

  test("no run directory: nothing to do; forgetChild removes a record", async () => {
    // Act / Assess
    await expect(stopLeftovers(join(runDir, "none"), () => undefined)).resolves.toBeUndefined();
    const child = sleeper();
    recordChild(runDir, child.pid!, "guard");
    forgetChild(runDir, child.pid!);
    expect(readdirSync(runDir)).toEqual([]);
  });
});
