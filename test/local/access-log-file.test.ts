import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ACCESS_LOG_FILE, openAccessLogFile } from "../../local/access-log-file";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-access-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (event: string, n: number) => ({ time: "t", level: "info" as const, component: "gateway", event, n });

describe("openAccessLogFile", () => {
  test("appends request lines only, at once, to a file only its owner may read; a later stack appends", async () => {
    // Prepare
    const first = openAccessLogFile(dir);
    // Act
    first.sink(line("request", 1));
    first.sink(line("decision", 2));
    const written = readFileSync(join(dir, ACCESS_LOG_FILE), "utf8");
    await first.close();
    first.sink(line("request", 3));
    const second = openAccessLogFile(dir);
    second.sink(line("request", 4));
    await second.close();
    // Assess
    expect(written).toBe(`${JSON.stringify(line("request", 1))}\n`);
    const all = readFileSync(join(dir, ACCESS_LOG_FILE), "utf8").trim().split("\n");
    expect(all.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([1, 4]);
    expect(statSync(join(dir, ACCESS_LOG_FILE)).mode & 0o777).toBe(0o600);
  });

  test("an older file readable by others becomes 0600; a planted symlink is refused", async () => {
    // Prepare
    writeFileSync(join(dir, ACCESS_LOG_FILE), "", { mode: 0o644 });
    // Act
    await openAccessLogFile(dir).close();
    expect(statSync(join(dir, ACCESS_LOG_FILE)).mode & 0o777).toBe(0o600);
    rmSync(join(dir, ACCESS_LOG_FILE));
    symlinkSync(join(dir, "elsewhere"), join(dir, ACCESS_LOG_FILE));
    // Assess
    expect(() => openAccessLogFile(dir)).toThrow(/ELOOP/);
  });

  test("a file over the size limit moves to access.jsonl.1 when a stack starts", async () => {
    // Prepare
    writeFileSync(join(dir, ACCESS_LOG_FILE), "x".repeat(200));
    // Act
    const log = openAccessLogFile(dir, 100);
    log.sink(line("request", 1));
    await log.close();
    // Assess
    expect(readFileSync(join(dir, `${ACCESS_LOG_FILE}.1`), "utf8")).toBe("x".repeat(200));
    expect(readFileSync(join(dir, ACCESS_LOG_FILE), "utf8")).toBe(`${JSON.stringify(line("request", 1))}\n`);
  });
});
