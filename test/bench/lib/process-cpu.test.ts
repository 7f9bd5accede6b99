import { cpuBetween, parseStat, readProcesses, treeOf } from "../../../bench/lib/process-cpu";

describe("parseStat", () => {
  test("reads the parent, the name and user + system ticks, a name with spaces and parentheses included", () => {
    // /proc/<pid>/stat: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const line = "4242 (python (huey) 1) S 4200 4200 4200 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0 123 0 0";
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 4200, name: "python (huey) 1", ticks: 42 });
  });

  test("text of another shape: undefined", () => {
    expect(parseStat("")).toBeUndefined();
    expect(parseStat("12 (x) S")).toBeUndefined();
  });

  test("this process, as /proc shows it", () => {
    const me = readProcesses().find((p) => p.pid === process.pid);
    expect(me).toMatchObject({ ppid: process.ppid });
    expect(me!.ticks).toBeGreaterThanOrEqual(0);
  });
});

describe("treeOf and cpuBetween", () => {
  const p = (pid: number, ppid: number, name: string, ticks: number) => ({ pid, ppid, name, ticks });
  const before = [p(1, 0, "init", 500), p(10, 1, "node", 100), p(11, 10, "python", 50), p(20, 1, "other", 7)];
  const after = [
    p(1, 0, "init", 900),
    p(10, 1, "node", 103),
    p(11, 10, "python", 60),
    p(12, 11, "python", 4), // started in the window: all of its ticks
    p(20, 1, "other", 99),
  ];

  test("the tree of a root: itself and every descendant, nothing beside it", () => {
    expect(
      treeOf(10, after)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([10, 11, 12]);
    expect(treeOf(99, after)).toEqual([]);
  });

  test("the ticks used in the window, in total and per name, largest first", () => {
    const used = cpuBetween(treeOf(10, before), treeOf(10, after));
    expect(used).toEqual({
      ticks: 3 + 10 + 4,
      processes: 3,
      byName: [
        { name: "python", processes: 2, ticks: 14 },
        { name: "node", processes: 1, ticks: 3 },
      ],
    });
  });
});
