// What Linux's /proc says about local processes: who listens where, and how much memory they hold. For
// tests that check a process's reach (a port it must not open) or its memory (it must not grow).
import { readdirSync, readFileSync, readlinkSync } from "fs";

/** Every process id, read now; processes that end while they are read are skipped by the callers. */
function pids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** The socket inodes a process holds open; empty when it is gone or not ours to read. */
export function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1] as string);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  return inodes;
}

/** Listening TCP sockets (IPv4 and IPv6): inode → local port. */
export function tcpListeners(): Map<string, number> {
  const listeners = new Map<string, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; st 0A is LISTEN; the inode is the tenth column.
      if (cols.length < 10 || cols[3] !== "0A") continue;
      const port = parseInt((cols[1] ?? "").split(":")[1] ?? "", 16);
      listeners.set(cols[9] as string, port);
    }
  }
  return listeners;
}

/** The TCP ports a process listens on. */
export function tcpPortsOf(pid: number): number[] {
  const listeners = tcpListeners();
  return [...socketInodesOf(pid)].flatMap((inode) => (listeners.has(inode) ? [listeners.get(inode) as number] : []));
}

/** The processes that hold a listening socket of `port` (a server and the workers it forked). */
export function pidsListeningOn(port: number): number[] {
  const inodes = new Set([...tcpListeners()].filter(([, p]) => p === port).map(([inode]) => inode));
  return pids().filter((pid) => [...socketInodesOf(pid)].some((inode) => inodes.has(inode)));
}

/** The processes whose working directory is `dir`. */
export function pidsWithCwd(dir: string): number[] {
  return pids().filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === dir;
    } catch {
      return false;
    }
  });
}

/** A process's resident memory in bytes (VmRSS); 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
