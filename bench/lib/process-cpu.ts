// CPU time of a process tree, read from Linux's /proc: what an idle benchmark needs and `ps` cannot sum reliably.
// Pure parts (parsing, the tree, the difference of two snapshots) and one reader.
import { readdirSync, readFileSync } from "fs";
import { execFileSync } from "child_process";

/** One process as /proc/<pid>/stat gives it: its parent, its name, and the CPU it used (user + system), in ticks. */
export interface ProcessTicks {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly ticks: number;
}

/**
 * Parses /proc/<pid>/stat. The name (field 2) is in parentheses and may hold spaces and parentheses itself, so the
 * fields after it are counted from its last `)`. Undefined for text of another shape.
 */
export function parseStat(text: string): ProcessTicks | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After the name: state(3) ppid(4) … utime(14) stime(15).
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![pid, ppid, utime, stime].every(Number.isInteger)) return undefined;
  return { pid, ppid, name: text.slice(open + 1, close), ticks: utime + stime };
}

/** The root and every process below it, by parent links. */
export function treeOf(root: number, all: readonly ProcessTicks[]): ProcessTicks[] {
  const children = new Map<number, ProcessTicks[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcessTicks[] = [];
  const queue = all.filter((p) => p.pid === root);
  while (queue.length > 0) {
    const p = queue.shift() as ProcessTicks;
    out.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

export interface TreeCpu {
  /** Ticks the tree used between the snapshots: processes in both by their difference, new ones by all of theirs. */
  readonly ticks: number;
  /** The same per process name, largest first. */
  readonly byName: readonly { readonly name: string; readonly processes: number; readonly ticks: number }[];
  /** Processes of the tree at the end. */
  readonly processes: number;
}

/** The CPU a tree used between two snapshots of it (a process gone by the end is not counted). */
export function cpuBetween(before: readonly ProcessTicks[], after: readonly ProcessTicks[]): TreeCpu {
  const start = new Map(before.map((p) => [p.pid, p.ticks]));
  const byName = new Map<string, { processes: number; ticks: number }>();
  let ticks = 0;
  for (const p of after) {
    const used = Math.max(0, p.ticks - (start.get(p.pid) ?? 0));
    ticks += used;
    const entry = byName.get(p.name) ?? { processes: 0, ticks: 0 };
    byName.set(p.name, { processes: entry.processes + 1, ticks: entry.ticks + used });
  }
  return {
    ticks,
    processes: after.length,
    byName: [...byName].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ticks - a.ticks),
  };
}

/** Every process /proc shows now (those that vanish while it is read are skipped). */
export function readProcesses(): ProcessTicks[] {
  const out: ProcessTicks[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const p = parseStat(readFileSync(`/proc/${entry}/stat`, "utf8"));
      if (p) out.push(p);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Clock ticks per second (`getconf CLK_TCK`); 100 where it cannot be read, as on every common Linux. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
