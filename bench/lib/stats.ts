// Statistics shared by every benchmark: per-run figures, medians across runs, ratios within one run.

/** The value at quantile `q` (0..1) of an ascending array; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** One measured run: how many operations in how long, and their latencies. */
export interface RunFigures {
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly count: number;
}

/** Per-run figures from latencies (any unit) and the run's wall time in ms. */
export function runFiguresOf(latencies: number[], elapsedMs: number): RunFigures {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    perSecond: sorted.length / (elapsedMs / 1000),
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    count: sorted.length,
  };
}

/** Medians over runs, plus the spread of the rate so a reader sees how steady the runs were. */
export interface Summary {
  readonly runs: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly perSecondMin: number;
  readonly perSecondMax: number;
  readonly count: number;
}

export function summarize(runs: readonly RunFigures[]): Summary {
  const rates = runs.map((r) => r.perSecond);
  return {
    runs: runs.length,
    perSecond: median(rates),
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    p99: median(runs.map((r) => r.p99)),
    perSecondMin: Math.min(...rates),
    perSecondMax: Math.max(...rates),
    count: runs.reduce((a, r) => a + r.count, 0),
  };
}

/** Median over runs of a/b taken run by run: both sides of a ratio come from the same stretch of time. */
export function pairedRatio(
  a: readonly RunFigures[],
  b: readonly RunFigures[],
  pick: (r: RunFigures) => number = (r) => r.perSecond,
): number {
  return median(a.map((r, i) => pick(r) / pick(b[i] as RunFigures)));
}

/** Median over runs of a−b taken run by run. */
export function pairedDifference(
  a: readonly RunFigures[],
  b: readonly RunFigures[],
  pick: (r: RunFigures) => number,
): number {
  return median(a.map((r, i) => pick(r) - pick(b[i] as RunFigures)));
}

/**
 * Calls `op` back to back for `ms`, timing each call in microseconds. Synchronous results are not
 * awaited, so a synchronous operation is not charged a microtask per call.
 */
export async function timeLoop(ms: number, op: (i: number) => unknown): Promise<RunFigures> {
  const samples: number[] = [];
  const start = performance.now();
  const end = start + ms;
  let t = start;
  for (let i = 0; t < end; i++) {
    const t0 = performance.now();
    const r = op(i);
    if (r instanceof Promise) await r;
    t = performance.now();
    samples.push((t - t0) * 1000);
  }
  return runFiguresOf(samples, t - start);
}
