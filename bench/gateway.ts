// The gateway's cost on real MLflow: one fixed request mix sent directly to MLflow's private URL, through
// the gateway with SigV4 (SDK routes, /api) and with a Cognito access token (UI routes, /ajax-api), plus
// bearer with the authorizer cache off. Starts the whole local stack on free loopback ports in a temporary
// directory and removes it at the end. Runs for about a minute.
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { Agent, request, Server } from "http";
import { AddressInfo } from "net";
import { arch, cpus, loadavg, platform, tmpdir } from "os";
import { join } from "path";
import { isMainThread, parentPort, Worker, workerData } from "worker_threads";
import { parseStackConfig, StackConfig } from "../gateway/config";
import { closeServer } from "../gateway/server";
import { createLocalGateway, RunningStack, startStack } from "../gateway/stack";
import { ensureMlflowVenv } from "../scripts/lib/mlflow-env";

const CONCURRENCY = 8;
const WARMUP_MS = 2000;
/** Per path, cut into rounds, paths taking turns, so drift (sqlite growth, a noisy neighbour) hits every path alike. */
const MEASURE_MS = 10_000;
const ROUNDS = 5;
/** Distinct log-metric bodies per path: MLflow takes a slower path for a duplicate metric, so writes must not repeat. */
const WRITES_PER_PATH = 4000;

/** One request as sent on the wire; SigV4 headers are computed before the timed phase and replayed. */
interface WireRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface LoadPath {
  readonly name: string;
  /** Where the requests go, for the results file. */
  readonly via: string;
  readonly origin: string;
  readonly sequence: readonly WireRequest[];
}

interface PathFigures {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Status (0: connection error) → count, over warm-up and measured phase; anything not 2xx. */
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
  /** The sequence ran out and started again: later writes were duplicates. */
  readonly wrapped: boolean;
}

// ---- The load generator: runs in a worker thread so the client does not share the gateway's event loop.

function send(agent: Agent, origin: URL, r: WireRequest): Promise<{ status: number; body?: string }> {
  return new Promise((resolve) => {
    const req = request({ agent, host: origin.hostname, port: origin.port, method: r.method, path: r.path, headers: r.headers }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      // The body is read in full (latency ends at its last byte) but kept only to explain a failure.
      res.on("data", (c: Buffer) => void (status >= 300 && chunks.push(c)));
      res.on("end", () => resolve(status >= 300 ? { status, body: Buffer.concat(chunks).toString("utf8").slice(0, 300) } : { status }));
      res.on("error", (e) => resolve({ status: 0, body: e.message }));
    });
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.end(r.body === "" ? undefined : r.body);
  });
}

async function runLoad(paths: readonly LoadPath[]): Promise<PathFigures[]> {
  const state = paths.map((p) => ({
    path: p,
    origin: new URL(p.origin),
    agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }),
    next: 0,
    samples: [] as number[],
    elapsedMs: 0,
    failures: {} as Record<string, number>,
    firstFailure: undefined as string | undefined,
  }));

  /** CONCURRENCY loops take the path's next request until `ms` have passed; measured time runs until the last answer. */
  async function drive(s: (typeof state)[number], ms: number, measured: boolean): Promise<void> {
    const start = performance.now();
    const end = start + ms;
    const loop = async () => {
      while (performance.now() < end) {
        const r = s.path.sequence[s.next++ % s.path.sequence.length]!;
        const t0 = performance.now();
        const answer = await send(s.agent, s.origin, r);
        if (measured) s.samples.push(performance.now() - t0);
        if (answer.status < 200 || answer.status >= 300) {
          s.failures[answer.status] = (s.failures[answer.status] ?? 0) + 1;
          s.firstFailure ??= `${answer.status} ${r.method} ${r.path.split("?")[0]}: ${answer.body ?? ""}`;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    if (measured) s.elapsedMs += performance.now() - start;
  }

  for (const s of state) await drive(s, WARMUP_MS, false);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no path always follows the same one.
    for (let i = 0; i < state.length; i++) {
      const s = state[(round + i) % state.length]!;
      await drive(s, MEASURE_MS / ROUNDS, true);
    }
  }
  for (const s of state) s.agent.destroy();

  return state.map((s) => {
    const sorted = s.samples.sort((a, b) => a - b);
    const pct = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 100) / 100;
    return {
      perSecond: Math.round(sorted.length / (s.elapsedMs / 1000)),
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      requests: sorted.length,
      failures: s.failures,
      ...(s.firstFailure ? { firstFailure: s.firstFailure } : {}),
      wrapped: s.next > s.path.sequence.length,
    };
  });
}

function runLoadInWorker(paths: readonly LoadPath[]): Promise<PathFigures[]> {
  return new Promise((resolve, reject) => {
    // tsx/cjs lets the worker load this TypeScript file (the tsx CLI's loader does not reach workers); resolved
    // here so the benchmark also starts from another directory.
    const worker = new Worker(__filename, { workerData: paths, execArgv: ["--require", require.resolve("tsx/cjs")] });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`load worker exited with ${code} before reporting`)));
  });
}

// ---- The main thread: the stack (the gateway runs here), the data, the requests, the report.

/** One cycle of the mix (weights 2:2:2:1:1:1), interleaved rather than grouped so every stretch of the run sees every request. */
const CYCLE = ["GetExperiment", "SearchRuns", "GetRun", "GetMetricHistory", "GetExperiment", "SearchRuns", "GetRun", "GetRegisteredModel", "LogMetric"] as const;

interface Seeded {
  readonly experimentId: string;
  readonly runId: string;
  readonly modelName: string;
}

async function callMlflow(origin: string, path: string, body: object): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(`${origin}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`seeding ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** An experiment, a run with params and a 50-point metric history, a registered model: through the private URL. */
async function seed(origin: string): Promise<Seeded> {
  const { experiment_id: experimentId } = await callMlflow(origin, "experiments/create", { name: "bench-gateway" });
  const { run } = await callMlflow(origin, "runs/create", { experiment_id: experimentId, run_name: "bench", start_time: Date.now() });
  const runId: string = run.info.run_id;
  const t0 = Date.now();
  await callMlflow(origin, "runs/log-batch", {
    run_id: runId,
    params: [["lr", "0.01"], ["batch_size", "64"], ["optimizer", "adam"], ["epochs", "50"]].map(([key, value]) => ({ key, value })),
    metrics: Array.from({ length: 50 }, (_, step) => ({ key: "loss", value: 1 / (step + 1), timestamp: t0 + step, step })),
  });
  const modelName = "bench-model";
  await callMlflow(origin, "registered-models/create", { name: modelName });
  return { experimentId, runId, modelName };
}

/** The mix as `/api/...`-relative requests (no mount); writes are numbered so none repeats. */
function buildSequence(d: Seeded, metricKey: string): { method: "GET" | "POST"; path: string; body: string }[] {
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  const t0 = Date.now();
  const one = (kind: (typeof CYCLE)[number], write: number) => {
    switch (kind) {
      case "GetExperiment": return { method: "GET" as const, path: `experiments/get${q({ experiment_id: d.experimentId })}`, body: "" };
      case "SearchRuns": return { method: "POST" as const, path: "runs/search", body: JSON.stringify({ experiment_ids: [d.experimentId], max_results: 100 }) };
      case "GetRun": return { method: "GET" as const, path: `runs/get${q({ run_id: d.runId })}`, body: "" };
      case "GetMetricHistory": return { method: "GET" as const, path: `metrics/get-history${q({ run_id: d.runId, metric_key: "loss" })}`, body: "" };
      case "GetRegisteredModel": return { method: "GET" as const, path: `registered-models/get${q({ name: d.modelName })}`, body: "" };
      case "LogMetric": return { method: "POST" as const, path: "runs/log-metric", body: JSON.stringify({ run_id: d.runId, key: metricKey, value: write, timestamp: t0 + write, step: write }) };
    }
  };
  return Array.from({ length: WRITES_PER_PATH }, (_, w) => CYCLE.map((kind) => one(kind, w))).flat();
}

const withLength = (headers: Record<string, string>, body: string) => (body === "" ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) });

/** Signs each distinct request once (reads repeat, so they share one signature) as `mlflow-admin`. */
async function presign(stack: RunningStack, gateway: URL, requests: ReturnType<typeof buildSequence>): Promise<WireRequest[]> {
  const admin = stack.principals.find((p) => p.name === "mlflow-admin");
  if (!admin) throw new Error("no mlflow-admin principal in the stack");
  const signer = new SignatureV4({ service: "execute-api", region: stack.summary.region, credentials: admin, sha256: Sha256 });
  const signingDate = new Date();
  const signed = new Map<string, WireRequest>();
  const out: WireRequest[] = [];
  for (const r of requests) {
    const path = `/api/2.0/mlflow/${r.path}`;
    const id = `${r.method} ${path} ${r.body}`;
    let wire = signed.get(id);
    if (!wire) {
      const [pathname, query] = path.split("?") as [string, string | undefined];
      const headers: Record<string, string> = { host: gateway.host, ...(r.body === "" ? {} : { "content-type": "application/json" }) };
      const s = await signer.sign(
        new HttpRequest({ method: r.method, hostname: gateway.hostname, port: Number(gateway.port), path: pathname, query: Object.fromEntries(new URLSearchParams(query ?? "")), headers, body: r.body }),
        { signingDate },
      );
      wire = { method: r.method, path, headers: withLength(s.headers, r.body), body: r.body };
      signed.set(id, wire);
    }
    out.push(wire);
  }
  return out;
}

function unsigned(requests: ReturnType<typeof buildSequence>, mount: "api" | "ajax-api", headers: Record<string, string>): WireRequest[] {
  return requests.map((r) => ({
    method: r.method,
    path: `/${mount}/2.0/mlflow/${r.path}`,
    headers: withLength({ ...headers, ...(r.body === "" ? {} : { "content-type": "application/json" }) }, r.body),
    body: r.body,
  }));
}

/**
 * A second gateway on the same MLflow and user pool with the authorizer cache off (TTL 0, as API Gateway
 * allows): the authorizer verifies the token on every request. Wired like startStack's gateway.
 */
async function startUncachedGateway(stack: RunningStack, config: StackConfig): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createLocalGateway({
    config: { ...config, authorizerCacheTtlSeconds: 0 },
    policySet: stack.policySet,
    userPool: stack.userPool,
    principals: stack.principals,
    upstream: new URL(stack.summary.mlflowPrivateUrl),
    accessLog: () => undefined,
    authorizerLogger: { info: () => undefined, error: () => undefined },
  });
  await new Promise<void>((resolve) => server.listen(0, config.host, () => resolve()));
  return { url: `http://${config.host}:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

async function main(): Promise<void> {
  const mlflowVersion = ensureMlflowVenv();
  // Other work on the machine moves these figures more than the gateway does: record how busy it was.
  const loadAtStart = loadavg()[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-"));
  let stack: RunningStack | undefined;
  let uncached: Awaited<ReturnType<typeof startUncachedGateway>> | undefined;
  const config = parseStackConfig({ MLFLOW_GATE_DATA: dataDir, MLFLOW_GATE_PORT: "0", MLFLOW_GATE_USER_POOL_PORT: "0" });
  try {
    stack = await startStack(config, {
      progress: (line) => console.log(line),
      accessLog: () => undefined,
      authorizerLogger: { info: () => undefined, error: () => undefined },
    });
    uncached = await startUncachedGateway(stack, config);
    const { mlflowPrivateUrl: direct, gatewayUrl } = stack.summary;
    const data = await seed(direct);
    const admin = stack.summary.demoUsers.find((u) => u.username === "admin");
    if (!admin) throw new Error("no admin demo user in the stack");
    const { accessToken } = await stack.userPool.login(admin.username, admin.password);
    const bearer = { authorization: `Bearer ${accessToken}` };

    const t = Date.now();
    const paths: LoadPath[] = [
      { name: "direct (no auth)", via: "MLflow's private URL, /api", origin: direct, sequence: unsigned(buildSequence(data, "bench_direct"), "api", {}) },
      { name: "gateway SigV4", via: "gateway, /api, SigV4 as mlflow-admin", origin: gatewayUrl, sequence: await presign(stack, new URL(gatewayUrl), buildSequence(data, "bench_sigv4")) },
      { name: "gateway bearer", via: "gateway, /ajax-api, access token of admin", origin: gatewayUrl, sequence: unsigned(buildSequence(data, "bench_bearer"), "ajax-api", bearer) },
      { name: "gateway bearer, cache off", via: "second gateway with authorizer cache TTL 0, /ajax-api, access token of admin", origin: uncached.url, sequence: unsigned(buildSequence(data, "bench_bearer_nocache"), "ajax-api", bearer) },
    ];
    console.log(`requests built, SigV4 pre-signed in ${Date.now() - t} ms; load: ${CONCURRENCY} connections, warm-up ${WARMUP_MS / 1000} s, then ${ROUNDS} rounds per path`);

    const figures = await runLoadInWorker(paths);

    const [d, ...gateways] = figures as [PathFigures, ...PathFigures[]];
    const row = (name: string, f: PathFigures) =>
      `${name.padEnd(28)}${String(f.perSecond).padStart(8)}${f.p50Ms.toFixed(2).padStart(9)}${f.p99Ms.toFixed(2).padStart(9)}${String(f.requests).padStart(9)}${String(Object.values(f.failures).reduce((a, b) => a + b, 0)).padStart(8)}`;
    console.log(`\n${"".padEnd(28)}${"req/s".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"requests".padStart(9)}${"non-2xx".padStart(8)}`);
    paths.forEach((p, i) => console.log(row(p.name, figures[i]!)));
    const ratios = Object.fromEntries(
      paths.slice(1).map((p, i) => [p.name, { throughput: ratio(gateways[i]!.perSecond, d.perSecond), p50: ratio(gateways[i]!.p50Ms, d.p50Ms), p99: ratio(gateways[i]!.p99Ms, d.p99Ms) }]),
    );
    console.log("\ngateway / direct      throughput   p50    p99");
    for (const [name, r] of Object.entries(ratios)) console.log(`${name.padEnd(26)}${r.throughput.toFixed(2).padStart(6)}${r.p50.toFixed(2).padStart(7)}${r.p99.toFixed(2).padStart(7)}`);
    // Found while writing this: the pauses come every ~2-2.5 s and hold all 8 requests in flight, 1-2% of a path's requests.
    console.log("p99 is MLflow's periodic ~150-200 ms pause (direct too) or ~80 ms when a path's slices catch fewer of them: a p99 ratio is not the gateway's cost.");
    console.log("SigV4 headers were signed before the timed phase and replayed (valid for 5 minutes, as API Gateway accepts): client signing cost is not measured.");
    console.log(`Load average (1 min) before the stack started: ${loadAtStart.toFixed(2)} on ${cpus().length} cores; near or above the core count, other work competed with this run.`);
    console.log(`Bearer: one access token of the local pool; the gateway's authorizer cache (${config.authorizerCacheTtlSeconds} s) serves repeats, except in the cache-off phase.`);

    let flawed = false;
    figures.forEach((f, i) => {
      if (Object.keys(f.failures).length > 0) {
        flawed = true;
        console.error(`NOT 2xx on ${paths[i]!.name}: ${JSON.stringify(f.failures)}; first: ${f.firstFailure}`);
      }
      if (f.wrapped) {
        flawed = true;
        console.error(`${paths[i]!.name} used all ${WRITES_PER_PATH} distinct writes and repeated some: raise WRITES_PER_PATH`);
      }
    });

    const results = {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, platform: `${platform()}-${arch()}`, loadAverage1m: { start: loadAtStart, end: loadavg()[0]! } },
      mlflow: { version: mlflowVersion, workers: 1, store: "sqlite" },
      load: { concurrency: CONCURRENCY, keepAlive: true, warmupMsPerPath: WARMUP_MS, measureMsPerPath: MEASURE_MS, rounds: ROUNDS, clientInWorkerThread: true },
      mix: { cycle: CYCLE, writeTarget: "the seeded run, a distinct (key, step) per write" },
      sigv4: { principal: "mlflow-admin", presignedAndReplayed: true },
      bearer: { user: "admin", authorizerCacheTtlSeconds: config.authorizerCacheTtlSeconds },
      paths: Object.fromEntries(paths.map((p, i) => [p.name, { via: p.via, ...figures[i]! }])),
      ratiosToDirect: ratios,
      valid: !flawed,
    };
    const dir = join(__dirname, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "gateway.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${join(dir, "gateway.json")}${flawed ? " (marked invalid)" : ""}`);
    if (flawed) process.exitCode = 1;
  } finally {
    await uncached?.stop();
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
} else {
  void runLoad(workerData as LoadPath[]).then((figures) => parentPort!.postMessage(figures));
}
