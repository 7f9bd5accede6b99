// A closed-loop HTTP load generator: `concurrency` loops per target, each sending the target's next request as
// soon as the previous answer has ended (keep-alive, one socket per loop). It runs in a worker thread so that
// it does not share the gateway's event loop; it does share the machine's cores with everything measured.
import { Agent, request } from "http";
import { isMainThread, parentPort, Worker, workerData } from "worker_threads";
import { runFiguresOf, RunFigures } from "./stats";

/** One request as sent on the wire; SigV4 headers are computed beforehand and replayed. */
export interface WireRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LoadTarget {
  readonly name: string;
  readonly origin: string;
  readonly sequence: readonly WireRequest[];
  /** Whether running past the end of `sequence` (repeating writes) spoils the figures. */
  readonly mustNotWrap: boolean;
}

export interface LoadPlan {
  readonly targets: readonly LoadTarget[];
  readonly concurrency: number;
  /** 0: no warm-up. */
  readonly warmupMs: number;
  /** Each round gives every target one slice of `sliceMs`, in an order rotated per round. */
  readonly rounds: number;
  readonly sliceMs: number;
  /** A slice also ends once it has sent this many requests (over all its loops). @default no bound */
  readonly maxPerSlice?: number;
  /** Where the rotation starts, so that plans run one round at a time still rotate. @default 0 */
  readonly firstRound?: number;
}

/** Milliseconds; one RunFigures per round. */
export interface TargetFigures {
  readonly rounds: RunFigures[];
  /** Status (0: connection error) → count, over warm-up and measured slices; anything not 2xx. */
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
  readonly wrapped: boolean;
}

function send(agent: Agent, origin: URL, r: WireRequest): Promise<{ status: number; body?: string }> {
  return new Promise((resolve) => {
    const req = request(
      { agent, host: origin.hostname, port: origin.port, method: r.method, path: r.path, headers: r.headers },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        // The body is read in full (latency ends at its last byte) but kept only to explain a failure.
        res.on("data", (c: Buffer) => void (status >= 300 && chunks.push(c)));
        res.on("end", () =>
          resolve(status >= 300 ? { status, body: Buffer.concat(chunks).toString("utf8").slice(0, 300) } : { status }),
        );
        res.on("error", (e) => resolve({ status: 0, body: e.message }));
      },
    );
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.end(r.body === "" ? undefined : r.body);
  });
}

async function runPlan(plan: LoadPlan): Promise<TargetFigures[]> {
  const state = plan.targets.map((t) => ({
    target: t,
    origin: new URL(t.origin),
    agent: new Agent({ keepAlive: true, maxSockets: plan.concurrency }),
    next: 0,
    rounds: [] as RunFigures[],
    failures: {} as Record<string, number>,
    firstFailure: undefined as string | undefined,
  }));

  async function drive(s: (typeof state)[number], ms: number): Promise<RunFigures> {
    const samples: number[] = [];
    const start = performance.now();
    const end = start + ms;
    const max = plan.maxPerSlice ?? Infinity;
    let sent = 0;
    const loop = async () => {
      while (performance.now() < end && sent++ < max) {
        const r = s.target.sequence[s.next++ % s.target.sequence.length] as WireRequest;
        const t0 = performance.now();
        const answer = await send(s.agent, s.origin, r);
        samples.push(performance.now() - t0);
        if (answer.status < 200 || answer.status >= 300) {
          s.failures[answer.status] = (s.failures[answer.status] ?? 0) + 1;
          s.firstFailure ??= `${answer.status} ${r.method} ${r.path.split("?")[0]}: ${answer.body ?? ""}`;
        }
      }
    };
    await Promise.all(Array.from({ length: plan.concurrency }, loop));
    // The slice ends when its last answer has arrived, so requests in flight at `end` are counted in full.
    return runFiguresOf(samples, performance.now() - start);
  }

  if (plan.warmupMs > 0) for (const s of state) await drive(s, plan.warmupMs);
  for (let round = plan.firstRound ?? 0; round < (plan.firstRound ?? 0) + plan.rounds; round++) {
    for (let i = 0; i < state.length; i++) {
      const s = state[(round + i) % state.length]!;
      s.rounds.push(await drive(s, plan.sliceMs));
    }
  }
  for (const s of state) s.agent.destroy();
  return state.map((s) => ({
    rounds: s.rounds,
    failures: s.failures,
    ...(s.firstFailure ? { firstFailure: s.firstFailure } : {}),
    wrapped: s.next > s.target.sequence.length,
  }));
}

/** A worker thread of this process that runs plans one at a time; `close` ends it. */
export class LoadWorker {
  private readonly worker: Worker;
  private pending?: { resolve: (f: TargetFigures[]) => void; reject: (e: Error) => void };

  constructor() {
    // tsx/cjs lets the worker load this TypeScript file (the tsx CLI's loader does not reach workers).
    this.worker = new Worker(__filename, {
      workerData: { loadWorker: true },
      execArgv: ["--require", require.resolve("tsx/cjs")],
    });
    this.worker.on("message", (m: TargetFigures[]) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    });
    const fail = (e: Error) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`load worker exited with ${code}`)));
  }

  run(plan: LoadPlan): Promise<TargetFigures[]> {
    if (this.pending) return Promise.reject(new Error("the load worker runs one plan at a time"));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(plan);
    });
  }

  async close(): Promise<void> {
    this.pending = undefined;
    await this.worker.terminate();
  }
}

if (!isMainThread && (workerData as { loadWorker?: boolean })?.loadWorker) {
  parentPort!.on("message", (plan: LoadPlan) => void runPlan(plan).then((figures) => parentPort!.postMessage(figures)));
}
