// `mlflow-gate verify` with teams: the isolation check between two teams. A writer of team A creates an experiment
// and a run in A; a reader of team B must not find them in B (no search shows them, MLflow's 404 by id) nor reach
// them through A's path (API Gateway's 403); a writer of B must not write into them either way.
import { Caller, RawRequest } from "./callers";
import { CheckResult, describeAnswer, isGatewayRefusal, VERIFY_PREFIX, VerifyPrincipal, Answer } from "./plan";
import { IsolationPlan } from "./teams";
import { json, parsed } from "./checks";

/** The isolation check's callers: each principal with the base URL of team A and of team B. */
export interface IsolationCallers {
  readonly plan: IsolationPlan;
  /** A caller of the principal under `/ws/<team>/`. */
  readonly as: (principal: VerifyPrincipal, team: string) => Caller;
  /** verify's unique name; the isolation experiment is `<name>-isolation`. */
  readonly name: string;
}

/** What the isolation check created, for its cleanup: in A by A's writer, and in B should B's writer get a run in. */
export interface IsolationCreated {
  experimentId?: string;
  runId?: string;
  /** Runs B's writer should never have got (a write into A carried out), with the team whose path created them. */
  strayRuns: { readonly runId: string; readonly team: string }[];
}

const who = (p: VerifyPrincipal) => `${p.name} (${p.group})`;
const ok = (id: string, text: string): CheckResult => ({ id, ok: true, text });
const fail = (id: string, text: string, details: string[] = []): CheckResult => ({ id, ok: false, text, details });

/** MLflow's own 404 for something its workspace does not hold (RESOURCE_DOES_NOT_EXIST), not the gateway's or the guard's. */
export function isMlflowNotFound(a: Answer): boolean {
  return a.status === 404 && parsed(a).error_code === "RESOURCE_DOES_NOT_EXIST";
}

/** The path of a run or experiment read with the id in the query. */
const byId = (what: "experiments" | "runs", key: string, id: string) =>
  `/api/2.0/mlflow/${what}/get?${key}=${encodeURIComponent(id)}`;

export async function checkIsolation(c: IsolationCallers, created: IsolationCreated): Promise<CheckResult[]> {
  const { a, b, writerA, readerB, writerB } = c.plan;
  const results: CheckResult[] = [];
  const inA = c.as(writerA, a);
  const experimentName = `${c.name}-isolation`;

  // Team A's experiment and run.
  const e = await inA.send({
    method: "POST",
    path: "/api/2.0/mlflow/experiments/create",
    body: json({ name: experimentName }),
  });
  const experimentId = parsed(e).experiment_id;
  if (e.status !== 200 || typeof experimentId !== "string")
    return [
      fail(`isolation ${a}`, `${who(writerA)} could not create experiment ${experimentName} in ${a}`, [
        describeAnswer(e),
      ]),
    ];
  created.experimentId = experimentId;
  const r = await inA.send({
    method: "POST",
    path: "/api/2.0/mlflow/runs/create",
    body: json({ experiment_id: experimentId }),
  });
  const runId = (parsed(r).run as { info?: { run_id?: unknown } } | undefined)?.info?.run_id;
  if (r.status !== 200 || typeof runId !== "string")
    return [fail(`isolation ${a}`, `${who(writerA)} could not create a run in ${a}`, [describeAnswer(r)])];
  created.runId = runId;
  results.push(
    ok(
      `isolation ${a}`,
      `${who(writerA)} created experiment ${experimentName} (${experimentId}) and run ${runId} in ${a}`,
    ),
  );

  // B's reader, in B: no search shows them; by id, MLflow's 404.
  const readB = c.as(readerB, b);
  const searches: [string, RawRequest, (body: Record<string, unknown>) => boolean][] = [
    [
      "experiments/search (all)",
      {
        method: "POST",
        path: "/api/2.0/mlflow/experiments/search",
        body: json({ max_results: 1000, view_type: "ALL" }),
      },
      (body) => JSON.stringify(body.experiments ?? []).includes(`"${experimentId}"`),
    ],
    [
      "experiments/search (by name)",
      {
        method: "GET",
        path: `/api/2.0/mlflow/experiments/search?max_results=10&filter=${encodeURIComponent(`name = '${experimentName}'`)}`,
      },
      (body) => (Array.isArray(body.experiments) ? body.experiments.length > 0 : false),
    ],
    [
      "runs/search (A's experiment id)",
      {
        method: "POST",
        path: "/api/2.0/mlflow/runs/search",
        body: json({ experiment_ids: [experimentId], run_view_type: "ALL" }),
      },
      (body) => JSON.stringify(body.runs ?? []).includes(runId),
    ],
  ];
  const seen: string[] = [];
  for (const [what, request, shows] of searches) {
    const answer = await readB.send(request);
    // An empty 200, or MLflow's own 4xx for an id its workspace does not hold; anything else is no proof.
    const answeredByMlflow =
      answer.status === 200 ||
      (answer.status >= 400 &&
        answer.status < 500 &&
        parsed(answer).error_code !== undefined &&
        !isGatewayRefusal(answer));
    if (!answeredByMlflow || (answer.status === 200 && shows(parsed(answer))))
      seen.push(`${what}: ${describeAnswer(answer)}`);
  }
  const byName = await readB.send({
    method: "GET",
    path: `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experimentName)}`,
  });
  if (!isMlflowNotFound(byName))
    seen.push(`experiments/get-by-name: expected MLflow's 404, got ${describeAnswer(byName)}`);
  results.push(
    seen.length === 0
      ? ok(
          `isolation search ${who(readerB)} in ${b}`,
          `no search of ${b} shows ${a}'s experiment or run; get-by-name: MLflow's 404`,
        )
      : fail(`isolation search ${who(readerB)} in ${b}`, `${a}'s experiment or run is visible in ${b}`, seen),
  );

  const ids: [string, string][] = [
    ["experiment", byId("experiments", "experiment_id", experimentId)],
    ["run", byId("runs", "run_id", runId)],
  ];
  const wrongInB: string[] = [];
  for (const [what, path] of ids) {
    const answer = await readB.send({ method: "GET", path });
    if (!isMlflowNotFound(answer))
      wrongInB.push(`${what} through /ws/${b}/: expected MLflow's 404, got ${describeAnswer(answer)}`);
  }
  results.push(
    wrongInB.length === 0
      ? ok(
          `isolation by id ${who(readerB)} through /ws/${b}/`,
          `${a}'s experiment and run: MLflow's 404 RESOURCE_DOES_NOT_EXIST`,
        )
      : fail(`isolation by id ${who(readerB)} through /ws/${b}/`, `${a}'s objects are readable in ${b}`, wrongInB),
  );

  // B's reader through A's path: API Gateway refuses before anything is read.
  const readA = c.as(readerB, a);
  const wrongInA: string[] = [];
  for (const [what, path] of ids) {
    const answer = await readA.send({ method: "GET", path });
    if (!(answer.status === 403 && isGatewayRefusal(answer)))
      wrongInA.push(`${what} through /ws/${a}/: expected API Gateway's 403, got ${describeAnswer(answer)}`);
  }
  results.push(
    wrongInA.length === 0
      ? ok(`isolation by id ${who(readerB)} through /ws/${a}/`, `${a}'s experiment and run: API Gateway's 403`)
      : fail(
          `isolation by id ${who(readerB)} through /ws/${a}/`,
          `${readerB.name} gets past the gateway into ${a}`,
          wrongInA,
        ),
  );

  // B's writer: refused by the gateway through A's path, by MLflow (its 404) with A's ids through B's own.
  const writeA = c.as(writerB, a);
  const writeB = c.as(writerB, b);
  const metric = { run_id: runId, key: `${VERIFY_PREFIX}-isolation`, value: 1, timestamp: Date.now(), step: 0 };
  const attempts: [string, Caller, RawRequest, (x: Answer) => boolean, string, string][] = [
    [
      `runs/create in ${a}'s experiment through /ws/${a}/`,
      writeA,
      { method: "POST", path: "/api/2.0/mlflow/runs/create", body: json({ experiment_id: experimentId }) },
      (x) => x.status === 403 && isGatewayRefusal(x),
      "API Gateway's 403",
      a,
    ],
    [
      `runs/log-metric on ${a}'s run through /ws/${a}/`,
      writeA,
      { method: "POST", path: "/api/2.0/mlflow/runs/log-metric", body: json(metric) },
      (x) => x.status === 403 && isGatewayRefusal(x),
      "API Gateway's 403",
      a,
    ],
    [
      `runs/create in ${a}'s experiment through /ws/${b}/`,
      writeB,
      { method: "POST", path: "/api/2.0/mlflow/runs/create", body: json({ experiment_id: experimentId }) },
      isMlflowNotFound,
      "MLflow's 404",
      b,
    ],
    [
      `runs/log-metric on ${a}'s run through /ws/${b}/`,
      writeB,
      { method: "POST", path: "/api/2.0/mlflow/runs/log-metric", body: json(metric) },
      isMlflowNotFound,
      "MLflow's 404",
      b,
    ],
  ];
  const written: string[] = [];
  for (const [what, caller, request, refused, expected, team] of attempts) {
    const answer = await caller.send(request);
    const stray = (parsed(answer).run as { info?: { run_id?: unknown } } | undefined)?.info?.run_id;
    if (answer.status === 200 && typeof stray === "string") created.strayRuns.push({ runId: stray, team });
    if (!refused(answer)) written.push(`${what}: expected ${expected}, got ${describeAnswer(answer)}`);
  }
  // The witness: A's run as A's writer reads it holds no metric of B's writer.
  const run = parsed(await inA.send({ method: "GET", path: byId("runs", "run_id", runId) })).run as
    { data?: { metrics?: { key: string }[] } } | undefined;
  if (run === undefined) written.push(`${a}'s run cannot be read back by ${writerA.name}`);
  else if ((run.data?.metrics ?? []).some((m) => m.key === metric.key))
    written.push(`${a}'s run holds the metric ${metric.key} that ${writerB.name} logged`);
  results.push(
    written.length === 0
      ? ok(
          `isolation write ${who(writerB)} into ${a}`,
          `refused: API Gateway's 403 through /ws/${a}/, MLflow's 404 with ${a}'s ids through /ws/${b}/; ${a}'s run unchanged`,
        )
      : fail(
          `isolation write ${who(writerB)} into ${a}`,
          `${writerB.name} wrote into ${a}, or was not refused as expected`,
          written,
        ),
  );
  return results;
}

/** Deletes the isolation check's run and experiment (as A's writer), and any run B's writer should not have got. */
export async function cleanUpIsolation(c: IsolationCallers, created: IsolationCreated): Promise<CheckResult> {
  const { a, b, writerA, writerB } = c.plan;
  const problems: string[] = [];
  const step = async (caller: Caller, what: string, request: RawRequest) => {
    const answer = await caller.send(request);
    if (answer.status !== 200) problems.push(`${what}: ${describeAnswer(answer)}`);
  };
  const inA = c.as(writerA, a);
  // A stray run in A is A's writer's to delete; one in B's workspace, B's writer's.
  for (const { runId, team } of created.strayRuns)
    await step(team === a ? inA : c.as(writerB, b), `run ${runId}`, {
      method: "POST",
      path: "/api/2.0/mlflow/runs/delete",
      body: json({ run_id: runId }),
    });
  if (created.runId !== undefined)
    await step(inA, `run ${created.runId}`, {
      method: "POST",
      path: "/api/2.0/mlflow/runs/delete",
      body: json({ run_id: created.runId }),
    });
  if (created.experimentId !== undefined)
    await step(inA, `experiment ${created.experimentId}`, {
      method: "POST",
      path: "/api/2.0/mlflow/experiments/delete",
      body: json({ experiment_id: created.experimentId }),
    });
  const count = created.strayRuns.length + (created.runId ? 1 : 0) + (created.experimentId ? 1 : 0);
  return problems.length === 0
    ? ok("cleanup isolation", `deleted what the isolation check created in ${a} (${count} objects)`)
    : fail("cleanup isolation", "could not delete everything the isolation check created", problems);
}
