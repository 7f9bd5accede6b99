import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Agent, request } from "http";

// SDK-like clients for the reliability runs: SigV4 (as the local principals, signed in Node with
// @smithy/signature-v4 as the AWS SDK does) on /api, bearer (access tokens of the demo users) on /ajax-api.
// Every write carries a unique name, so afterwards the private MLflow can be asked whether it happened.

export interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Who calls: a local principal signing with SigV4, or a demo user with an access token. */
export type CallerSpec =
  | { readonly kind: "sigv4"; readonly name: string; readonly group: string; readonly keys: Keys }
  | { readonly kind: "bearer"; readonly name: string; readonly group: string; readonly accessToken: string };

export interface LoadOptions {
  readonly gatewayUrl: string;
  /** MLflow's private URL: seeding before, verification after; never load. */
  readonly privateUrl: string;
  readonly region: string;
  readonly callers: readonly CallerSpec[];
  readonly durationMs: number;
  /** Concurrent request loops per caller. */
  readonly loopsPerCaller: number;
  /** Longer than the gateway's 29 s integration timeout: a request without an answer by then hung. */
  readonly requestTimeoutMs?: number;
  /** Tells the run to stop early (fault runs). */
  readonly signal?: AbortSignal;
  readonly seed?: number;
  /** Sees every answer as it comes (fault runs watch for recovery). */
  readonly onSample?: (sample: Sample) => void;
}

type WriteKind = "create-run" | "log-metric" | "log-param" | "create-model";
type ReadKind = "search-runs" | "get-run" | "get-experiment" | "search-experiments" | "get-model";
export type OpKind = WriteKind | ReadKind;

/** One request and its answer. `status` 0 is a connection error, -1 a client timeout (a hang). */
export interface Sample {
  readonly caller: string;
  readonly group: string;
  readonly kind: OpKind;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  /** The body of a non-2xx answer (first 300 characters), or the connection error. */
  readonly error?: string;
}

/** A write and what it must leave in MLflow: a run named, a metric or param key on a run, a model named. */
export interface Write {
  readonly kind: WriteKind;
  readonly caller: string;
  readonly marker: string;
  readonly runId?: string;
  readonly value?: number;
  readonly status: number;
}

export interface Seeded {
  /** Names every model this run creates, so runs sharing one MLflow do not mix. */
  readonly label: string;
  readonly experimentId: string;
  readonly experimentName: string;
  readonly runIds: readonly string[];
  readonly modelName: string;
}

export interface LoadRun {
  readonly seeded: Seeded;
  readonly samples: readonly Sample[];
  readonly writes: readonly Write[];
  readonly startedAt: number;
  readonly elapsedMs: number;
}

/** Weights of each group's mix: admins write runs, approvers register models, readers only read (their writes are tries that must be denied). */
const MIX: Record<string, readonly [OpKind, number][]> = {
  admins: [
    ["create-run", 8],
    ["log-metric", 22],
    ["log-param", 12],
    ["search-runs", 18],
    ["get-run", 20],
    ["get-experiment", 10],
    ["search-experiments", 5],
    ["get-model", 5],
  ],
  "model-approvers": [
    ["create-model", 10],
    ["create-run", 6],
    ["log-metric", 6],
    ["search-runs", 20],
    ["get-run", 28],
    ["get-experiment", 15],
    ["get-model", 15],
  ],
  readers: [
    ["create-run", 6],
    ["log-metric", 8],
    ["log-param", 4],
    ["create-model", 4],
    ["search-runs", 22],
    ["get-run", 28],
    ["get-experiment", 14],
    ["get-model", 14],
  ],
};

/** mulberry32: a seeded generator, so a run's mix can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(mix: readonly [OpKind, number][], r: number): OpKind {
  const total = mix.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [kind, w] of mix) if ((x -= w) < 0) return kind;
  return mix[mix.length - 1]![0];
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One HTTP exchange on loopback; never rejects: connection errors are status 0, a timeout -1. */
export function send(
  agent: Agent | undefined,
  origin: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(a);
      }
    };
    const req = request({ agent, host: origin.hostname, port: origin.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => finish({ status: 0, body: `response: ${e.message}` }));
      res.on("aborted", () => finish({ status: 0, body: "response aborted" }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: -1, body: `no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => finish({ status: 0, body: `${e.code ?? "error"}: ${e.message}` }));
    req.end(body === "" ? undefined : body);
  });
}

/** Sends SigV4-signed or bearer requests for one caller, as the SDKs would. */
class Client {
  private readonly signer?: SignatureV4;
  private readonly agent: Agent;
  readonly mount: "api" | "ajax-api";

  constructor(
    readonly spec: CallerSpec,
    private readonly origin: URL,
    region: string,
    sockets: number,
    private readonly timeoutMs: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
    this.mount = spec.kind === "sigv4" ? "api" : "ajax-api";
    if (spec.kind === "sigv4")
      this.signer = new SignatureV4({ service: "execute-api", region, credentials: spec.keys, sha256: Sha256 });
  }

  async call(method: "GET" | "POST", rpc: string, payload: Record<string, unknown>): Promise<Answer> {
    const isGet = method === "GET";
    const query = isGet ? Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])) : {};
    const body = isGet ? "" : JSON.stringify(payload);
    const pathname = `/${this.mount}/2.0/mlflow/${rpc}`;
    const qs = new URLSearchParams(query).toString();
    let headers: Record<string, string> = {
      host: this.origin.host,
      ...(isGet ? {} : { "content-type": "application/json" }),
    };
    if (this.spec.kind === "sigv4") {
      const signed = await this.signer!.sign(
        new HttpRequest({
          method,
          protocol: "http:",
          hostname: this.origin.hostname,
          port: Number(this.origin.port),
          path: pathname,
          query,
          headers,
          body,
        }),
      );
      headers = signed.headers as Record<string, string>;
    } else {
      headers = { ...headers, authorization: `Bearer ${this.spec.accessToken}` };
    }
    if (!isGet) headers["content-length"] = String(Buffer.byteLength(body));
    return send(
      this.agent,
      this.origin,
      method,
      qs === "" ? pathname : `${pathname}?${qs}`,
      headers,
      body,
      this.timeoutMs,
    );
  }

  close(): void {
    this.agent.destroy();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
async function callPrivate(privateUrl: string, rpc: string, body: object): Promise<any> {
  const r = await fetch(`${privateUrl}/api/2.0/mlflow/${rpc}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${rpc} on the private MLflow: ${r.status} ${await r.text()}`);
  return r.json();
}

/** An experiment with two runs and a registered model, created on the private MLflow before the load. */
export async function seed(privateUrl: string, name: string): Promise<Seeded> {
  const label = `${name}-${Date.now()}`;
  const experimentName = `reliability-${label}`;
  const { experiment_id: experimentId } = await callPrivate(privateUrl, "experiments/create", { name: experimentName });
  const runIds: string[] = [];
  for (const name of ["seed-a", "seed-b"]) {
    const { run } = await callPrivate(privateUrl, "runs/create", {
      experiment_id: experimentId,
      run_name: name,
      start_time: Date.now(),
    });
    runIds.push(run.info.run_id);
  }
  const modelName = `reliability-seed-model-${label}`;
  await callPrivate(privateUrl, "registered-models/create", { name: modelName });
  return { label, experimentId, experimentName, runIds, modelName };
}

/**
 * Runs every caller's mix for `durationMs` (or until `signal` aborts). Runs created by accepted writes
 * join the pool that reads and later writes pick from; every write is recorded with its answer.
 */
export async function runLoad(options: LoadOptions, seeded: Seeded): Promise<LoadRun> {
  const origin = new URL(options.gatewayUrl);
  const timeoutMs = options.requestTimeoutMs ?? 40_000;
  const random = prng(options.seed ?? 7);
  const runIds = [...seeded.runIds];
  const samples: Sample[] = [];
  const writes: Write[] = [];
  const clients = options.callers.map((c) => new Client(c, origin, options.region, options.loopsPerCaller, timeoutMs));
  const startedAt = Date.now();
  const end = startedAt + options.durationMs;
  const counters = new Map<string, number>();
  const next = (caller: string) => {
    const n = (counters.get(caller) ?? 0) + 1;
    counters.set(caller, n);
    return n;
  };
  const anyRun = () => runIds[Math.floor(random() * runIds.length)]!;

  async function one(client: Client): Promise<void> {
    const { name, group } = client.spec;
    const kind = pick(MIX[group] ?? MIX.readers!, random());
    const n = next(name);
    const tag = `${client.spec.kind}_${name}_${n}`.replace(/[^A-Za-z0-9_]/g, "_");
    const t0 = Date.now();
    let answer: Answer;
    let write: Omit<Write, "status"> | undefined;
    switch (kind) {
      case "create-run": {
        write = { kind, caller: name, marker: `run-${tag}` };
        answer = await client.call("POST", "runs/create", {
          experiment_id: seeded.experimentId,
          run_name: write.marker,
          start_time: t0,
        });
        if (answer.status === 200)
          runIds.push((JSON.parse(answer.body) as { run: { info: { run_id: string } } }).run.info.run_id);
        break;
      }
      case "log-metric": {
        write = { kind, caller: name, marker: `m_${tag}`, runId: anyRun(), value: n };
        answer = await client.call("POST", "runs/log-metric", {
          run_id: write.runId,
          key: write.marker,
          value: n,
          timestamp: t0,
          step: 0,
        });
        break;
      }
      case "log-param": {
        write = { kind, caller: name, marker: `p_${tag}`, runId: anyRun(), value: n };
        answer = await client.call("POST", "runs/log-parameter", {
          run_id: write.runId,
          key: write.marker,
          value: String(n),
        });
        break;
      }
      case "create-model": {
        write = { kind, caller: name, marker: `model-${seeded.label}-${tag}` };
        answer = await client.call("POST", "registered-models/create", { name: write.marker });
        break;
      }
      case "search-runs":
        answer = await client.call("POST", "runs/search", { experiment_ids: [seeded.experimentId], max_results: 20 });
        break;
      case "get-run":
        answer = await client.call("GET", "runs/get", { run_id: anyRun() });
        break;
      case "get-experiment":
        answer = await client.call("GET", "experiments/get", { experiment_id: seeded.experimentId });
        break;
      case "search-experiments":
        answer = await client.call("POST", "experiments/search", { max_results: 10 });
        break;
      case "get-model":
        answer = await client.call("GET", "registered-models/get", { name: seeded.modelName });
        break;
    }
    const ok = answer.status >= 200 && answer.status < 300;
    const sample: Sample = {
      caller: name,
      group,
      kind,
      startedAt: t0,
      endedAt: Date.now(),
      status: answer.status,
      ...(ok ? {} : { error: answer.body.slice(0, 300) }),
    };
    samples.push(sample);
    options.onSample?.(sample);
    if (write) writes.push({ ...write, status: answer.status });
    // An SDK backs off before retrying a 5xx or a dropped connection; a client spinning on 502s would
    // only compete for the CPU that MLflow's restart needs.
    if (answer.status >= 500 || answer.status <= 0) await new Promise((r) => setTimeout(r, 100));
  }

  const loop = async (client: Client) => {
    while (Date.now() < end && !options.signal?.aborted) await one(client);
  };
  try {
    await Promise.all(clients.flatMap((c) => Array.from({ length: options.loopsPerCaller }, () => loop(c))));
  } finally {
    for (const c of clients) c.close();
  }
  return { seeded, samples, writes, startedAt, elapsedMs: Date.now() - startedAt };
}

// ---- Figures and verification

export interface LoadFigures {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Status (0 connection error, -1 hang) → count. */
  readonly statuses: Record<string, number>;
  readonly serverErrors: number;
  /** The first answers that were neither 2xx nor 403, to explain a failure. */
  readonly firstErrors: readonly string[];
  readonly byCaller: Record<string, { requests: number; statuses: Record<string, number> }>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!;
}

export function figuresOf(run: LoadRun): LoadFigures {
  const latencies = run.samples.map((s) => s.endedAt - s.startedAt).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  const byCaller: Record<string, { requests: number; statuses: Record<string, number> }> = {};
  for (const s of run.samples) {
    statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    const c = (byCaller[s.caller] ??= { requests: 0, statuses: {} });
    c.requests += 1;
    c.statuses[s.status] = (c.statuses[s.status] ?? 0) + 1;
  }
  return {
    requests: run.samples.length,
    perSecond: Math.round((run.samples.length / (run.elapsedMs / 1000)) * 10) / 10,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? 0,
    statuses,
    serverErrors: run.samples.filter((s) => s.status >= 500).length,
    firstErrors: run.samples
      .filter((s) => !(s.status >= 200 && s.status < 300) && s.status !== 403 && s.status !== 502)
      .slice(0, 5)
      .map((s) => `${s.status} ${s.kind} by ${s.caller} at +${s.startedAt - run.startedAt} ms: ${s.error ?? ""}`),
    byCaller,
  };
}

export interface WriteVerification {
  /** 200 answers whose effect is in MLflow, out of all 200 answers to writes. */
  readonly acceptedFound: number;
  readonly accepted: number;
  /** 403 answers whose effect is absent from MLflow, out of all 403 answers to writes. */
  readonly deniedAbsent: number;
  readonly denied: number;
  /** Writes with any other answer (a 502 during a fault): their effect is unknown, so not checked. */
  readonly indeterminate: number;
  /** Runs, metric or param keys, or models in MLflow that no accepted (or indeterminate) write explains. */
  readonly unexplained: readonly string[];
  /** Up to 10 markers of writes whose check failed. */
  readonly failures: readonly string[];
}

interface RunData {
  readonly info: { readonly run_id: string; readonly run_name?: string };
  readonly data: {
    readonly metrics?: { key: string; value: number }[];
    readonly params?: { key: string; value: string }[];
  };
}

async function allRuns(privateUrl: string, experimentId: string): Promise<RunData[]> {
  const runs: RunData[] = [];
  let token: string | undefined;
  do {
    const page = await callPrivate(privateUrl, "runs/search", {
      experiment_ids: [experimentId],
      max_results: 1000,
      ...(token ? { page_token: token } : {}),
    });
    runs.push(...((page.runs ?? []) as RunData[]));
    token = page.next_page_token;
  } while (token);
  return runs;
}

async function allModelNames(privateUrl: string): Promise<Set<string>> {
  const names = new Set<string>();
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ max_results: "1000", ...(token ? { page_token: token } : {}) });
    const r = await fetch(`${privateUrl}/api/2.0/mlflow/registered-models/search?${q}`);
    if (!r.ok) throw new Error(`registered-models/search on the private MLflow: ${r.status}`);
    const page = (await r.json()) as { registered_models?: { name: string }[]; next_page_token?: string };
    for (const m of page.registered_models ?? []) names.add(m.name);
    token = page.next_page_token;
  } while (token);
  return names;
}

/** Asks the private MLflow, after the load, for the effect of every write: present if it was accepted, absent if denied. */
export async function verifyWrites(privateUrl: string, run: LoadRun): Promise<WriteVerification> {
  const runs = await allRuns(privateUrl, run.seeded.experimentId);
  const models = await allModelNames(privateUrl);
  const runNames = new Set(runs.map((r) => r.info.run_name ?? ""));
  const metricsOf = new Map(
    runs.map((r) => [r.info.run_id, new Map((r.data.metrics ?? []).map((m) => [m.key, m.value]))]),
  );
  const paramsOf = new Map(
    runs.map((r) => [r.info.run_id, new Map((r.data.params ?? []).map((p) => [p.key, p.value]))]),
  );
  const present = (w: Write): boolean => {
    switch (w.kind) {
      case "create-run":
        return runNames.has(w.marker);
      case "log-metric":
        return metricsOf.get(w.runId!)?.get(w.marker) === w.value;
      case "log-param":
        return paramsOf.get(w.runId!)?.get(w.marker) === String(w.value);
      case "create-model":
        return models.has(w.marker);
    }
  };
  const keyAnywhere = (w: Write): boolean =>
    w.kind === "log-metric"
      ? runs.some((r) => metricsOf.get(r.info.run_id)?.has(w.marker))
      : w.kind === "log-param"
        ? runs.some((r) => paramsOf.get(r.info.run_id)?.has(w.marker))
        : present(w);

  let acceptedFound = 0;
  let deniedAbsent = 0;
  const failures: string[] = [];
  const accepted = run.writes.filter((w) => w.status === 200);
  const denied = run.writes.filter((w) => w.status === 403);
  for (const w of accepted)
    if (present(w)) acceptedFound++;
    else failures.push(`accepted but missing: ${w.kind} ${w.marker}`);
  for (const w of denied)
    if (!keyAnywhere(w)) deniedAbsent++;
    else failures.push(`denied but present: ${w.kind} ${w.marker}`);

  // The other direction: nothing in the experiment that an accepted (or unknown-outcome) write does not explain.
  const explained = new Set(run.writes.filter((w) => w.status !== 403).map((w) => w.marker));
  const unexplained: string[] = [];
  for (const r of runs) {
    const name = r.info.run_name ?? "";
    if (!run.seeded.runIds.includes(r.info.run_id) && !explained.has(name)) unexplained.push(`run ${name}`);
    for (const m of r.data.metrics ?? []) if (!explained.has(m.key)) unexplained.push(`metric ${m.key}`);
    for (const p of r.data.params ?? []) if (!explained.has(p.key)) unexplained.push(`param ${p.key}`);
  }
  const prefix = `model-${run.seeded.label}-`;
  for (const name of models) if (name.startsWith(prefix) && !explained.has(name)) unexplained.push(`model ${name}`);

  return {
    acceptedFound,
    accepted: accepted.length,
    deniedAbsent,
    denied: denied.length,
    indeterminate: run.writes.length - accepted.length - denied.length,
    unexplained,
    failures: failures.slice(0, 10),
  };
}
