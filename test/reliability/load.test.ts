import { figuresOf, runLoad, seed, verifyWrites } from "./support/load";
import { ReliabilityStack, startReliabilityStack } from "./support/stack";

// Sustained load through the real local stack: SigV4 principals and bearer users of all three groups,
// reads and writes mixed, for a bounded time. Nothing may answer 5xx; afterwards the private MLflow
// must hold every accepted write and none of the denied ones. `npm run soak` runs the same for longer.

const DURATION_MS = Number(process.env.MLFLOW_GATE_LOAD_TEST_MS ?? 30_000);

let rel: ReliabilityStack;
beforeAll(async () => {
  rel = await startReliabilityStack();
}, 180_000);
afterAll(async () => rel?.stop(), 60_000);

test("6 callers (SigV4 and bearer, all groups) for 30 s: zero 5xx, every accepted write in MLflow, no denied write", async () => {
  // Prepare
  const { gatewayUrl, mlflowPrivateUrl, region } = rel.stack.summary;
  const callers = await rel.callers();
  const seeded = await seed(mlflowPrivateUrl, "load-test");

  // Act
  const run = await runLoad(
    { gatewayUrl, privateUrl: mlflowPrivateUrl, region, callers, durationMs: DURATION_MS, loopsPerCaller: 2 },
    seeded,
  );
  const figures = figuresOf(run);
  const verified = await verifyWrites(mlflowPrivateUrl, run);
  process.stderr.write(
    `load: ${figures.requests} requests in ${(run.elapsedMs / 1000).toFixed(1)} s, ${figures.perSecond} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ` +
      `statuses ${JSON.stringify(figures.statuses)}; writes: ${verified.acceptedFound}/${verified.accepted} accepted found, ${verified.deniedAbsent}/${verified.denied} denied absent\n`,
  );

  // Assess: every answer was a 2xx or a 403 (readers' and approvers' writes); nothing else.
  const unexpected = run.samples.filter((s) => !(s.status >= 200 && s.status < 300) && s.status !== 403);
  expect(unexpected.slice(0, 5)).toEqual([]);
  expect(figures.serverErrors).toBe(0);
  // Every group wrote and was denied as its policy says, on both surfaces.
  for (const c of callers) {
    const writes = run.writes.filter((w) => w.caller === c.name);
    expect(writes.length).toBeGreaterThan(0);
  }
  const deniedBy = (group: string) =>
    run.writes.filter((w) => w.status === 403 && callers.find((c) => c.name === w.caller)?.group === group).length;
  const acceptedBy = (group: string) =>
    run.writes.filter((w) => w.status === 200 && callers.find((c) => c.name === w.caller)?.group === group).length;
  expect(deniedBy("admins")).toBe(0);
  expect(acceptedBy("readers")).toBe(0);
  expect(acceptedBy("model-approvers")).toBeGreaterThan(0);
  expect(deniedBy("model-approvers")).toBeGreaterThan(0);
  // What MLflow holds: exactly the accepted writes.
  expect(verified.failures).toEqual([]);
  expect(verified.acceptedFound).toBe(verified.accepted);
  expect(verified.deniedAbsent).toBe(verified.denied);
  expect(verified.indeterminate).toBe(0);
  expect(verified.unexplained).toEqual([]);
  expect(verified.accepted).toBeGreaterThan(50);
  expect(verified.denied).toBeGreaterThan(50);
}, 180_000);
