// `npm run bench -- --only promotion --quick` end to end: MLflow and the guard as processes of their own, the six
// targets measured, the figures sane and rendered. Whether they are fast is the benchmark's business.
import { spawn } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { BenchRun } from "../../bench/index";
import { PROMOTION_CALLS, PromotionResults } from "../../bench/promotion";
import { renderResults } from "../../bench/report";
import { REPO_ROOT } from "../../project/paths";

let out: string;
let exit: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-promotion-test-"));
  exit = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        require.resolve("tsx/cli"),
        join(REPO_ROOT, "bench", "index.ts"),
        "--only",
        "promotion",
        "--quick",
        "--out",
        out,
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), 170_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const read = <T>(file: string): T => JSON.parse(readFileSync(join(out, "results", file), "utf8")) as T;
const finite = (v: number) => Number.isFinite(v);

test("measures every call directly and through the guard, without a failed request", () => {
  expect(exit.code).toBe(0);
  const p = read<PromotionResults>("promotion.json");
  expect(p.problems).toEqual([]);
  for (const c of PROMOTION_CALLS)
    for (const via of ["direct", "guard"]) {
      const cell = p.targets[`${via} ${c}`]!;
      expect(cell.failures).toEqual({});
      expect([cell.p50, cell.p95, cell.perSecond, cell.count].every((v) => finite(v) && v > 0)).toBe(true);
      expect(cell.p95).toBeGreaterThanOrEqual(cell.p50);
      expect(cell.count).toBeLessThanOrEqual(p.load.rounds * p.load.maxPerSlice);
    }
  expect(Object.values(p.guardAdds).every((a) => finite(a.p50Ms) && finite(a.p95Ms))).toBe(true);
  expect(Object.values(p.promotionOverOrdinary).every((a) => finite(a.p50Ms) && finite(a.p95Ms))).toBe(true);
});

test("every promotion through the guard left an audit line with its promotion field", () => {
  const p = read<PromotionResults>("promotion.json");
  const measured =
    p.targets["guard SetRegisteredModelAlias"]!.count + p.targets["guard TransitionModelVersionStage"]!.count;
  expect(p.auditLines.withPromotionField).toBeGreaterThanOrEqual(measured);
  expect(p.auditLines.withPromotionField).toBe(p.auditLines.promotions);
});

test("RESULTS.md gets a section of its figures", () => {
  const run = { ...read<Omit<BenchRun, "promotion">>("run.json"), promotion: read<PromotionResults>("promotion.json") };
  const md = renderResults(run as BenchRun);
  expect(md).toContain("## 6. Promotion calls through the guard");
  expect(md).toMatch(/\| TransitionModelVersionStage \| through the guard \| [\d.]+ \| [\d.]+ \|/);
  expect(md).toContain("| SetRegisteredModelAlias | ");
  expect(md).not.toMatch(/\bNaN\b|undefined/);
});
