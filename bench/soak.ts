// `npm run soak [-- --duration 300 --loops 2]`: the reliability runs of test/reliability/, longer and
// reported. 1) Sustained load (SigV4 and bearer callers of all three groups, reads and writes) on the
// local stack as `npm start` configures it, then every write checked on the private MLflow. 2) MLflow
// killed under load on a second stack (authorizer cache off), its recovery, then the user pool and JWKS
// down. 3) SIGTERM to a real `npm start` under load. Loopback only; every phase is bounded and the run
// stops by itself. Figures go to stdout and bench/results/soak.json; exit 1 if a check failed.
import { mkdirSync, writeFileSync } from "fs";
import { cpus, loadavg } from "os";
import { join } from "path";
import { crashUnderLoad, sigtermUnderLoad, userPoolOutage } from "../test/reliability/support/faults";
import { figuresOf, runLoad, seed, verifyWrites } from "../test/reliability/support/load";
import { startReliabilityStack } from "../test/reliability/support/stack";

interface SoakOptions {
  readonly durationSeconds: number;
  readonly loopsPerCaller: number;
}

export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  const problems: string[] = [];
  const value = (flag: string, fallback: number, min: number, max: number): number => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const raw = argv[i + 1] ?? "";
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) problems.push(`${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
    return n;
  };
  const known = new Set(["--duration", "--loops"]);
  argv.forEach((a, i) => {
    if (a.startsWith("--") && !known.has(a)) problems.push(`unknown option ${a}`);
    if (!a.startsWith("--") && !known.has(argv[i - 1] ?? "")) problems.push(`unexpected argument ${a}`);
  });
  const options = { durationSeconds: value("--duration", 300, 10, 3600), loopsPerCaller: value("--loops", 2, 1, 16) };
  if (problems.length > 0)
    throw new Error(`npm run soak -- [--duration SECONDS (300)] [--loops PER_CALLER (2)]\n  ${problems.join("\n  ")}`);
  return options;
}

const checks: { name: string; ok: boolean }[] = [];
function check(name: string, ok: boolean): void {
  checks.push({ name, ok });
  console.log(`  ${ok ? "ok  " : "FAIL"} ${name}`);
}

async function main(): Promise<void> {
  const options = parseSoakArgs(process.argv.slice(2));
  const loadAtStart = loadavg()[0]!;
  const echo = (line: string) => console.log(`  ${line}`);

  console.log(
    `1. sustained load, ${options.durationSeconds} s, ${options.loopsPerCaller} loops per caller (stack as npm start runs it: authorizer cache 300 s)`,
  );
  const a = await startReliabilityStack({ echo });
  let load;
  try {
    const callers = await a.callers();
    const seeded = await seed(a.stack.summary.mlflowPrivateUrl, "soak");
    const run = await runLoad(
      {
        gatewayUrl: a.stack.summary.gatewayUrl,
        privateUrl: a.stack.summary.mlflowPrivateUrl,
        region: a.stack.summary.region,
        callers,
        durationMs: options.durationSeconds * 1000,
        loopsPerCaller: options.loopsPerCaller,
      },
      seeded,
    );
    const figures = figuresOf(run);
    const writes = await verifyWrites(a.stack.summary.mlflowPrivateUrl, run);
    load = {
      callers: callers.map((c) => `${c.name} (${c.kind}, ${c.group})`),
      elapsedSeconds: Math.round(run.elapsedMs / 100) / 10,
      ...figures,
      writes,
    };
    console.log(
      `  ${figures.requests} requests, ${figures.perSecond} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, statuses ${JSON.stringify(figures.statuses)}`,
    );
    for (const e of figures.firstErrors) console.log(`  unexpected: ${e}`);
    console.log(
      `  writes: ${writes.acceptedFound}/${writes.accepted} accepted found in MLflow, ${writes.deniedAbsent}/${writes.denied} denied absent, ${writes.unexplained.length} unexplained`,
    );
    check("load: zero 5xx", figures.serverErrors === 0);
    check(
      "load: only 2xx and 403 answers",
      Object.keys(figures.statuses).every((s) => s === "403" || (Number(s) >= 200 && Number(s) < 300)),
    );
    check(
      "load: every accepted write is in MLflow",
      writes.acceptedFound === writes.accepted && writes.failures.length === 0,
    );
    check("load: no denied write is in MLflow", writes.deniedAbsent === writes.denied);
    check("load: MLflow holds nothing the accepted writes do not explain", writes.unexplained.length === 0);
  } finally {
    await a.stop();
  }

  console.log("\n2. faults on a second stack (authorizer cache off, MLflow restart as npm start: 1 s doubling)");
  const b = await startReliabilityStack({ echo, config: { authorizerCacheTtlSeconds: 0 } });
  let crash;
  let pool;
  try {
    crash = await crashUnderLoad(b, "mlflow", {
      killAfterMs: 10_000,
      afterRecoveryMs: 10_000,
      maxMs: 180_000,
      loopsPerCaller: options.loopsPerCaller,
    });
    console.log(
      `  MLflow SIGKILLed after 10 s: recovered in ${crash.recoveryMs ?? "never"} ms; ${crash.badGateway} x 502 (${crash.badGatewayWithMessage} with the message), slowest 502 ${crash.slowest502Ms} ms, slowest answer sent during the outage ${crash.slowestOutageAnswerMs} ms, statuses ${JSON.stringify(crash.load.statuses)}`,
    );
    for (const e of crash.load.firstErrors) console.log(`  unexpected: ${e}`);
    console.log(
      `  writes: ${crash.writes.acceptedFound}/${crash.writes.accepted} accepted found, ${crash.writes.deniedAbsent}/${crash.writes.denied} denied absent, ${crash.writes.indeterminate} answered 502 (outcome unknown, not checked)`,
    );
    check(
      "crash: the outage answered 502 with the gateway's message",
      crash.badGateway > 0 && crash.badGatewayWithMessage === crash.badGateway,
    );
    check(
      "crash: no other 5xx, no connection error, no hang",
      crash.otherServerErrors === 0 && crash.connectionErrors === 0 && crash.hangs === 0,
    );
    check(
      "crash: MLflow restarted by the stack and traffic recovered",
      crash.recoveryMs !== undefined && crash.restartLog.some((l) => l.includes("restarted on")),
    );
    check(
      "crash: accepted writes found, denied absent",
      crash.writes.failures.length === 0 &&
        crash.writes.acceptedFound === crash.writes.accepted &&
        crash.writes.deniedAbsent === crash.writes.denied,
    );
    pool = await userPoolOutage(b);
    console.log(
      `  user pool stopped: cached key ${JSON.stringify(pool.cachedKeyStatuses)}, unseen token ${JSON.stringify(pool.unseenTokenStatuses)}, unknown kid ${JSON.stringify(pool.unknownKidStatuses)}, known kid wrong key ${JSON.stringify(pool.wrongKeyStatuses)}, slowest ${pool.slowestMs} ms; login ${pool.login.status} in ${pool.login.ms} ms`,
    );
    check(
      "pool down: tokens whose key is cached keep working",
      Object.keys(pool.cachedKeyStatuses).join() === "200" && Object.keys(pool.unseenTokenStatuses).join() === "200",
    );
    check(
      "pool down: unknown kid and wrong key are 401",
      Object.keys(pool.unknownKidStatuses).join() === "401" && Object.keys(pool.wrongKeyStatuses).join() === "401",
    );
    check(
      "pool down: the UI's login call gets a 503 JSON error",
      pool.login.status === 503 && /user pool is unavailable/.test(pool.login.body),
    );
  } finally {
    await b.stop();
  }

  console.log("\n3. SIGTERM to npm start under load, 4 requests mid-body at the gateway");
  const drain = await sigtermUnderLoad({ loadBeforeMs: 5000, inFlight: 4 });
  console.log(
    `  in flight ${drain.inFlightCompleted}/${drain.inFlight} answered 200 (${drain.inFlightStatuses.join(", ")}); new connections refused: ${drain.refusedNewConnections}; exit ${drain.exitCode} ${drain.drainMs} ms after SIGTERM; load statuses ${JSON.stringify(drain.load.statuses)}`,
  );
  check("drain: requests in flight answered 200", drain.inFlightCompleted === drain.inFlight);
  check(
    "drain: stopped accepting, exited 0, no 5xx",
    drain.refusedNewConnections && drain.exitCode === 0 && drain.load.serverErrors === 0,
  );

  const failed = checks.filter((c) => !c.ok);
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      node: process.version,
      loadAverage1m: { start: loadAtStart, end: loadavg()[0]! },
    },
    options,
    load,
    crash: crash && {
      ...crash,
      load: { requests: crash.load.requests, statuses: crash.load.statuses, perSecond: crash.load.perSecond },
    },
    poolOutage: pool,
    drain: drain && { ...drain, load: { requests: drain.load.requests, statuses: drain.load.statuses } },
    checks,
    valid: failed.length === 0,
  };
  const dir = join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "soak.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\n${checks.length - failed.length}/${checks.length} checks passed; load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (${cpus().length} cores); wrote ${join(dir, "soak.json")}`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  // Exits when done even if a socket lingers: the run is bounded.
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
