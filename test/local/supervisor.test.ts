import { restartDelayMs } from "../../local/supervisor";

// The supervisor's backoff; restarts themselves run against real MLflow and the real guard in test/reliability/faults.test.ts.

test("the restart delay doubles per attempt from the initial delay and stops at the cap", () => {
  // Act
  const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => restartDelayMs(attempt, 1000, 30_000));

  // Assess
  expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
});

test("a huge attempt count stays at the cap instead of overflowing", () => {
  expect(restartDelayMs(10_000, 1000, 30_000)).toBe(30_000);
});
