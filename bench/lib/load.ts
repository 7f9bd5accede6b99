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
  readonly warmupMs: number;
  /** Each round gives every target one slice of `sliceMs`, in an order rotated per round. */
  readonly rounds: number;
  readonly sliceMs: number;
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
    const loop = async () => {
      while (performance.now() < end) {
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

  for (const s of state) await drive(s, plan.warmupMs);
  for (let round = 0; round < plan.rounds; round++) {
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

/** Runs the plan in a worker thread of this process and resolves with one TargetFigures per target. */
export function runLoad(plan: LoadPlan): Promise<TargetFigures[]> {
  return new Promise((resolve, reject) => {
    // tsx/cjs lets the worker load this TypeScript file (the tsx CLI's loader does not reach workers).
    const worker = new Worker(__filename, { workerData: plan, execArgv: ["--require", require.resolve("tsx/cjs")] });
    worker.once("message", (m: TargetFigures[]) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`load worker exited with ${code} before reporting`)));
  });
}

if (!isMainThread && (workerData as { targets?: unknown })?.targets) {
  void runPlan(workerData as LoadPlan).then((figures) => parentPort!.postMessage(figures));
}
