// The guard's cost on a promotion call (issue 16). On TransitionModelVersionStage and SetRegisteredModelAlias the
// guard reads the body, asks MLflow for the version (GET model-versions/get, its stage and stamped creator),
// decides with the caller's groups' promotion rules, and writes an audit line; an ordinary call
// (GetModelVersion, a read) only has its identity checked and streams through. Each call is sent to MLflow
// directly and through the guard (a process of its own, started as the stack starts it, with a promotion block in
// its group files and the identity headers API Gateway maps for a model approver), in alternating slices at
// concurrency 1, on loopback, in a temporary directory. The paired differences give what the guard adds to each
// call, and what a promotion costs at the guard beyond an ordinary call.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { startGuard } from "../local/guard-process";
import { startMlflow } from "../local/mlflow-server";
import { GROUPS_DIR } from "../project/paths";
import { asMapped, call, plain, PlainRequest, seed } from "./gateway";
import { LoadTarget, LoadWorker, TargetFigures } from "./lib/load";
import { loadAverage } from "./lib/machine";
import { median, RunFigures, summarize, Summary } from "./lib/stats";

export interface PromotionOptions {
  readonly warmupMs: number;
  readonly rounds: number;
  readonly sliceMs: number;
  /** A slice also ends after this many requests: the run is bounded in count as well as in time. */
  readonly maxPerSlice: number;
}

/** The calls, each sent directly and through the guard. */
export const PROMOTION_CALLS = ["GetModelVersion", "SetRegisteredModelAlias", "TransitionModelVersionStage"] as const;
export type PromotionCall = (typeof PROMOTION_CALLS)[number];

export interface PromotionCell extends Summary {
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
}

/** Run-by-run differences (through the guard minus directly, or one such difference minus another), median. */
export interface AddedLatency {
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface PromotionResults {
  /** When the section ran, and the load around it: a partial run's figures can be read on their own. */
  readonly date: string;
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly load: PromotionOptions & { readonly concurrency: 1; readonly keepAlive: true };
  /** The caller as the guard sees it, and the rule its group file holds. */
  readonly caller: { readonly username: string; readonly groups: string; readonly rule: string };
  readonly requests: Record<PromotionCall, string>;
  /** `direct <call>` and `guard <call>`. */
  readonly targets: Record<string, PromotionCell>;
  /** What the guard adds to each call. */
  readonly guardAdds: Record<PromotionCall, AddedLatency>;
  /** What the guard adds to a promotion beyond what it adds to GetModelVersion: the lookup, the body, the decision, the audit line. */
  readonly promotionOverOrdinary: Record<Exclude<PromotionCall, "GetModelVersion">, AddedLatency>;
  /** Audit lines of promotions the guard wrote, and how many of them carry the `promotion` field. */
  readonly auditLines: { readonly promotions: number; readonly withPromotionField: number };
  readonly problems: readonly string[];
}

const MODEL = "bench-promotion";
const ALIAS = "challenger-bench";
/** The promotion block of the caller's group file, one YAML line per key. */
const BLOCK = ["stages: { to: [None, Staging, Archived] }", "aliases: { allow: ['challenger-*'] }"];
const CALLER = { principalId: "bench-approver", username: "approver", groups: "model-approvers" };

/** The three calls on the UI's mount (the one whose identity a Cognito token maps); transitions alternate two stages. */
function requestsOf(count: number): Record<PromotionCall, PlainRequest[]> {
  const prefix = "/ajax-api/2.0/mlflow";
  const post = (path: string, body: object): PlainRequest => ({
    method: "POST",
    path: `${prefix}/${path}`,
    body: JSON.stringify(body),
  });
  return {
    GetModelVersion: Array.from({ length: count }, () => ({
      method: "GET",
      path: `${prefix}/model-versions/get?name=${MODEL}&version=1`,
      body: "",
    })),
    SetRegisteredModelAlias: Array.from({ length: count }, () =>
      post("registered-models/alias", { name: MODEL, version: "1", alias: ALIAS }),
    ),
    TransitionModelVersionStage: Array.from({ length: count }, (_, i) =>
      post("model-versions/transition-stage", {
        name: MODEL,
        version: "1",
        stage: i % 2 === 0 ? "Staging" : "None",
        archive_existing_versions: false,
      }),
    ),
  };
}

const differences = (a: readonly RunFigures[], b: readonly RunFigures[], pick: (r: RunFigures) => number) =>
  a.map((r, i) => pick(r) - pick(b[i] as RunFigures));

export async function benchPromotion(o: PromotionOptions, progress: (line: string) => void): Promise<PromotionResults> {
  const loadBefore = loadAverage();
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-promotion-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    // The repository's groups, with a model approvers' file of the section's own (whatever the default tiers say).
    const groupsDir = join(dataDir, "groups");
    cpSync(GROUPS_DIR, groupsDir, { recursive: true });
    writeFileSync(
      join(groupsDir, "model-approvers.yaml"),
      [
        "description: Model approvers of the bench.",
        "extends: readers",
        "allow: [class:registry-write, class:registry-promote]",
        "promotion:",
        ...BLOCK.map((line) => `  ${line}`),
        "",
      ].join("\n"),
    );
    const mlflow = await startMlflow({ dataDir, host: "127.0.0.1", port: 0, portVariable: "none" });
    stops.push(() => mlflow.stop());
    const auditFile = join(dataDir, "audit.jsonl");
    const guard = await startGuard({
      host: "127.0.0.1",
      port: 0,
      portVariable: "none",
      upstream: mlflow.url,
      auditFile,
      auditReads: false,
      groupsDir,
      events: () => undefined,
    });
    stops.push(() => guard.stop());

    // One version of a run's model, written straight to MLflow.
    const api = (path: string, body: object) =>
      call(mlflow.url.origin, "POST", `/api/2.0/mlflow/${path}`, JSON.stringify(body), {});
    const { runId, artifactRoot } = await seed(mlflow.url.origin);
    await api("registered-models/create", { name: MODEL });
    await api("model-versions/create", {
      name: MODEL,
      source: `mlflow-artifacts:/${artifactRoot}/model`,
      run_id: runId,
    });

    // The calls are idempotent (an alias set again, a stage moved back and forth), so a loop may run past the end
    // of its sequence and start over; each entry has a request id of its own, as API Gateway would map it.
    const requests = requestsOf(o.maxPerSlice + (o.maxPerSlice % 2));
    const targets: LoadTarget[] = PROMOTION_CALLS.flatMap((c) => [
      { name: `direct ${c}`, origin: mlflow.url.origin, sequence: plain(requests[c], {}), mustNotWrap: false },
      { name: `guard ${c}`, origin: guard.url.origin, sequence: asMapped(requests[c], CALLER), mustNotWrap: false },
    ]);
    const worker = new LoadWorker();
    let figures: TargetFigures[];
    try {
      figures = await worker.run({
        targets,
        concurrency: 1,
        warmupMs: o.warmupMs,
        rounds: o.rounds,
        sliceMs: o.sliceMs,
        maxPerSlice: o.maxPerSlice,
      });
    } finally {
      await worker.close();
    }

    const byName = new Map(targets.map((t, i) => [t.name, figures[i] as TargetFigures]));
    const rounds = (name: string) => byName.get(name)!.rounds;
    const cells: Record<string, PromotionCell> = {};
    const problems: string[] = [];
    for (const [name, f] of byName) {
      cells[name] = {
        ...summarize(f.rounds),
        failures: f.failures,
        ...(f.firstFailure ? { firstFailure: f.firstFailure } : {}),
      };
      if (Object.keys(f.failures).length > 0)
        problems.push(`${name}: non-2xx ${JSON.stringify(f.failures)}; first: ${f.firstFailure}`);
    }
    const addedRuns = (c: PromotionCall, pick: (r: RunFigures) => number) =>
      differences(rounds(`guard ${c}`), rounds(`direct ${c}`), pick);
    const added = (c: PromotionCall): AddedLatency => ({
      p50Ms: median(addedRuns(c, (r) => r.p50)),
      p95Ms: median(addedRuns(c, (r) => r.p95)),
    });
    const overOrdinary = (c: PromotionCall): AddedLatency => {
      const over = (pick: (r: RunFigures) => number) => {
        const ordinary = addedRuns("GetModelVersion", pick);
        return median(addedRuns(c, pick).map((d, i) => d - (ordinary[i] as number)));
      };
      return { p50Ms: over((r) => r.p50), p95Ms: over((r) => r.p95) };
    };

    // Every promotion the guard forwarded left a line naming what was asked; the measured ones set a floor.
    const lines = readFileSync(auditFile, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { action?: string; promotion?: unknown });
    const promotionLines = lines.filter((l) => l.action !== "GetModelVersion");
    const auditLines = {
      promotions: promotionLines.length,
      withPromotionField: promotionLines.filter((l) => l.promotion !== undefined).length,
    };
    const measured = ["SetRegisteredModelAlias", "TransitionModelVersionStage"].reduce(
      (sum, c) => sum + rounds(`guard ${c}`).reduce((s, r) => s + r.count, 0),
      0,
    );
    if (auditLines.withPromotionField < measured)
      problems.push(
        `the guard wrote ${auditLines.withPromotionField} promotion audit lines for at least ${measured} promotions measured through it`,
      );

    const results: PromotionResults = {
      date: new Date().toISOString(),
      loadAverage: { before: loadBefore, after: loadAverage() },
      load: { ...o, concurrency: 1, keepAlive: true },
      caller: { username: CALLER.username, groups: CALLER.groups, rule: BLOCK.join(", ") },
      requests: Object.fromEntries(
        PROMOTION_CALLS.map((c) => {
          const r = requests[c][0] as PlainRequest;
          return [c, `${r.method} ${r.path}${r.body === "" ? "" : ` ${r.body}`}`];
        }),
      ) as Record<PromotionCall, string>,
      targets: cells,
      guardAdds: {
        GetModelVersion: added("GetModelVersion"),
        SetRegisteredModelAlias: added("SetRegisteredModelAlias"),
        TransitionModelVersionStage: added("TransitionModelVersionStage"),
      },
      promotionOverOrdinary: {
        SetRegisteredModelAlias: overOrdinary("SetRegisteredModelAlias"),
        TransitionModelVersionStage: overOrdinary("TransitionModelVersionStage"),
      },
      auditLines,
      problems,
    };
    const ms = (v: number) => v.toFixed(2);
    progress(
      `promotion     guard adds p50 ${ms(results.guardAdds.GetModelVersion.p50Ms)} ms to GetModelVersion, ` +
        `${ms(results.guardAdds.SetRegisteredModelAlias.p50Ms)} ms to SetRegisteredModelAlias, ` +
        `${ms(results.guardAdds.TransitionModelVersionStage.p50Ms)} ms to TransitionModelVersionStage (c=1)`,
    );
    return results;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
