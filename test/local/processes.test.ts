import { spawn } from "child_process";
import { tailOf, untilLine } from "../../local/processes";

const node = (script: string) => spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });

describe("untilLine: a child's ready line", () => {
  test("resolves with what the line gives, even split across chunks", async () => {
    const child = node(
      `process.stdout.write('noise\\n{"event": "re'); setTimeout(() => process.stdout.write('ady", "port": 7}\\n'), 50)`,
    );
    const found = await untilLine(
      child,
      "stdout",
      (line) => (line.includes('"event": "ready"') ? (JSON.parse(line) as { port: number }).port : undefined),
      5000,
      () => "",
    );
    expect(found).toBe(7);
  });

  test("rejects with the child's last lines when it exits first", async () => {
    const child = node(`console.error("config is wrong"); process.exit(3)`);
    const why = tailOf(child);
    await expect(untilLine(child, "stderr", () => undefined, 5000, why)).rejects.toThrow(
      /exited \(3\) before it was ready:\nconfig is wrong/,
    );
  });

  test("rejects with a clear message when the program cannot be started at all", async () => {
    const child = spawn("/nonexistent/python", [], { stdio: ["ignore", "pipe", "pipe"] });
    await expect(
      untilLine(
        child,
        "stdout",
        () => undefined,
        5000,
        () => "",
      ),
    ).rejects.toThrow(/cannot be started: spawn \/nonexistent\/python ENOENT/);
  });

  test("rejects after the time is up", async () => {
    const child = node(`setTimeout(() => undefined, 5000)`);
    await expect(
      untilLine(
        child,
        "stdout",
        () => undefined,
        200,
        () => "(silent)",
      ),
    ).rejects.toThrow(/not ready after 0 s:\n\(silent\)/);
    child.kill();
  });
});
