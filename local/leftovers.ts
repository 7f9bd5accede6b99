// Pid files of the local stack's children (`<data>/run/<pid>.json`), so that the next `npm start` on the same
// data directory can stop what an earlier run left behind (its own process and its reaper both killed) and
// refuse to start beside a stack that still runs there.
import { execFileSync } from "child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";

/** What a pid file holds: the child (its process group), and the stack process that started it. */
export interface ChildRecord {
  readonly pid: number;
  /** When the process started, as the OS tells it: a pid reused by another program has another. */
  readonly started: string;
  /** The program, for the line that says what was stopped. */
  readonly command: string;
  readonly owner: { readonly pid: number; readonly started: string };
}

/** The start time of a running process, or undefined when there is none with that pid. */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    // Linux: field 22 of /proc/<pid>/stat, after the command name in parentheses (which may hold spaces);
    // a zombie (state Z) has ended, whether or not its parent has reaped it yet.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" && process.platform === "linux") return undefined;
  }
  try {
    const out = execFileSync("ps", ["-o", "lstart=", "-p", String(pid)], { encoding: "utf8", stdio: "pipe" }).trim();
    return out === "" ? undefined : out;
  } catch {
    return undefined;
  }
}

/** Whether the process a record names is still the one that was recorded. */
function isRunning(p: { readonly pid: number; readonly started: string }): boolean {
  return processStartTime(p.pid) === p.started;
}

/** Records a child started in its own process group, and forgets it when it exits. */
export function recordChild(runDir: string, pid: number, command: string): void {
  const started = processStartTime(pid);
  const owner = processStartTime(process.pid);
  if (started === undefined || owner === undefined) return;
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const record: ChildRecord = { pid, started, command, owner: { pid: process.pid, started: owner } };
  writeFileSync(join(runDir, `${pid}.json`), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function forgetChild(runDir: string, pid: number): void {
  rmSync(join(runDir, `${pid}.json`), { force: true });
}

function readRecord(file: string): ChildRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as Partial<ChildRecord>;
    if (
      typeof r.pid === "number" &&
      typeof r.started === "string" &&
      typeof r.command === "string" &&
      typeof r.owner?.pid === "number" &&
      typeof r.owner.started === "string"
    )
      return r as ChildRecord;
  } catch {
    // unreadable: not ours to act on
  }
  return undefined;
}

async function stopGroup(pid: number, graceMs: number): Promise<void> {
  const signal = (s: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal("SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (!signal(0)) return;
  }
  signal("SIGKILL");
}

/**
 * Before a stack starts on `runDir`: a child whose stack still runs means another stack uses this data
 * directory (an error naming it); a child whose stack is gone is a leftover, whose process group is stopped
 * (SIGTERM, then SIGKILL after `graceMs`) and named on `progress`. Pid files of processes gone are removed.
 */
export async function stopLeftovers(runDir: string, progress: (line: string) => void, graceMs = 10_000): Promise<void> {
  let files: string[];
  try {
    files = readdirSync(runDir).filter((f) => /^\d+\.json$/.test(f));
  } catch {
    return;
  }
  // Pid files decide which process groups get signals: only from a directory that is this user's alone.
  const dir = lstatSync(runDir);
  const uid = process.getuid?.();
  if (!dir.isDirectory() || (uid !== undefined && dir.uid !== uid) || (dir.mode & 0o022) !== 0) {
    progress(`run/          ${runDir} is not a directory of this user's alone: its pid files are ignored`);
    return;
  }
  const records = files.flatMap((f) => {
    const r = readRecord(join(runDir, f));
    return r ? [{ file: join(runDir, f), record: r }] : [];
  });
  const live = records.find(({ record }) => record.owner.pid !== process.pid && isRunning(record.owner));
  if (live)
    throw new Error(
      `another mlflow-gate stack (process ${live.record.owner.pid}) runs on ${runDir.replace(/\/run$/, "")}: stop it first, or give this one another MLFLOW_GATE_DATA`,
    );
  for (const { file, record } of records) {
    if (isRunning(record)) {
      await stopGroup(record.pid, graceMs);
      progress(`stopped a leftover of an earlier run: ${record.command} (process group ${record.pid})`);
    }
    rmSync(file, { force: true });
  }
}
