// `npm run bench:graphql`: the guard's cost on an ordinary GraphQL request of the UI (issue 13). The guard reads
// a `/graphql` body whole and checks it (JSON, size, tokens, depth, a parse) before MLflow sees it; before that
// change it streamed the body through. Measured two ways, on loopback, in a temporary directory:
// - in process: the check alone (JSON parse + checkGraphqlRequest) per request, in microseconds;
// - end to end: the UI's run query and a run search, sent to MLflow directly and through the guard (a process
//   of its own, with the identity headers API Gateway maps for an admin), in alternating slices; the paired
//   difference of their p50s is the guard's whole cost on that request.
// Prints the figures and writes them to bench/results/graphql.json (or --out FILE). `--quick` shortens the runs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join, resolve } from "path";
import { checkGraphqlRequest, DEFAULT_GRAPHQL_LIMITS } from "../guard/graphql";
import { JsonObject } from "../guard/json-body";
import { startGuard } from "../local/guard-process";
import { startMlflow } from "../local/mlflow-server";
import { ensureMlflowVenv } from "../project/mlflow-venv";
import { asMapped, plain, PlainRequest, seed } from "./gateway";
import { LoadWorker } from "./lib/load";
import { describeMachine, loadAverage } from "./lib/machine";
import { pairedDifference, round, summarize, timeLoop } from "./lib/stats";

/** The MLflow UI's run query (as test/guard/graphql.test.ts has it) and a run search, with their variables. */
const RUN_QUERY = `query MlflowGetRunQuery($data: MlflowGetRunInput) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    run { info { runUuid experimentId status startTime endTime lifecycleStage artifactUri }
      data { metrics { key value step timestamp } params { key value } tags { key value } } }
  }
}`;
const SEARCH_QUERY = `query MlflowSearchRuns($data: MlflowSearchRunsInput) {
  mlflowSearchRuns(input: $data) { runs { info { runUuid runName status } data { metrics { key value } } } nextPageToken }
}`;

function graphqlRequests(experimentId: string, runId: string): PlainRequest[] {
  return [
    { query: RUN_QUERY, operationName: "MlflowGetRunQuery", variables: { data: { runId } } },
    { query: SEARCH_QUERY, operationName: "MlflowSearchRuns", variables: { data: { experimentIds: [experimentId] } } },
  ].map((body) => ({ method: "POST", path: "/graphql", body: JSON.stringify(body) }));
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const outIndex = process.argv.indexOf("--out");
  const out = resolve(outIndex > 0 ? (process.argv[outIndex + 1] ?? "") : join(__dirname, "results", "graphql.json"));
  const o = quick
    ? { warmupMs: 300, rounds: 5, sliceMs: 300, checkMs: 300 }
    : { warmupMs: 1000, rounds: 9, sliceMs: 1600, checkMs: 1000 };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const loadBefore = loadAverage();
  ensureMlflowVenv(log);
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-graphql-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    const mlflow = await startMlflow({ dataDir, host: "127.0.0.1", port: 0, portVariable: "none" });
    stops.push(() => mlflow.stop());
    const guard = await startGuard({
      host: "127.0.0.1",
      port: 0,
      portVariable: "none",
      upstream: mlflow.url,
      auditFile: join(dataDir, "audit.jsonl"),
      auditReads: false,
      events: () => undefined,
    });
    stops.push(() => guard.stop());
    const seeded = await seed(mlflow.url.origin);
    const requests = graphqlRequests(seeded.experimentId, seeded.runId);

    // In process: what the guard adds per request in CPU (it did none of it before).
    const bodies = requests.map((r) => r.body);
    const check = await timeLoop(o.checkMs, (i) => {
      const refused = checkGraphqlRequest(
        JSON.parse(bodies[i % bodies.length] as string) as JsonObject,
        DEFAULT_GRAPHQL_LIMITS,
      );
      if (refused) throw new Error(`the bench's query is refused: ${refused.message}`);
    });

    // End to end: MLflow directly and through the guard, in alternating slices at concurrency 1.
    const sequence = Array.from({ length: 2000 }, (_, i) => requests[i % requests.length] as PlainRequest);
    const direct = plain(sequence, {});
    const viaGuard = asMapped(sequence, { principalId: "bench", username: "admin", groups: "admins" });
    const worker = new LoadWorker();
    try {
      const [d, g] = await worker.run({
        targets: [
          { name: "direct", origin: mlflow.url.origin, sequence: direct, mustNotWrap: false },
          { name: "guard", origin: guard.url.origin, sequence: viaGuard, mustNotWrap: false },
        ],
        concurrency: 1,
        warmupMs: o.warmupMs,
        rounds: o.rounds,
        sliceMs: o.sliceMs,
      });
      for (const [name, f] of [
        ["direct", d],
        ["guard", g],
      ] as const)
        if (!f || Object.keys(f.failures).length > 0) throw new Error(`${name}: ${f?.firstFailure ?? "no figures"}`);
      const results = {
        date: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        machine: describeMachine(),
        loadAverage: { before: loadBefore, after: loadAverage() },
        requestBytes: bodies.map((b) => b.length),
        checkMicroseconds: {
          p50: round(check.p50, 1),
          p99: round(check.p99, 1),
          perSecond: Math.round(check.perSecond),
        },
        direct: summarize(d!.rounds),
        guard: summarize(g!.rounds),
        guardAddedP50Ms: round(
          pairedDifference(g!.rounds, d!.rounds, (r) => r.p50),
          3,
        ),
      };
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
      log(
        `graphql: the check ${results.checkMicroseconds.p50} µs p50 per request (${results.requestBytes.join(" and ")} B); ` +
          `MLflow p50 ${round(results.direct.p50, 2)} ms directly, guard adds ${results.guardAddedP50Ms} ms p50 (c=1); ${out}`,
      );
    } finally {
      await worker.close();
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:graphql: ${e.message}\n`);
  process.exit(1);
});
