import { EXAMPLE_TEAMS_DIR } from "../../project/paths";
import { OpResult, Plan, startTestStack, TestStack } from "./support/stack";
import { Caller, failures, teamOps } from "./support/teams";

// Issue 18's acceptance: two teams on one MLflow, each its own workspace under /ws/<team>/, through the real
// SDK with the repository's plugin, signing with SigV4 as the teams' roles and with the Cognito users' bearer
// tokens. Team A's people see nothing of team B: every search answers only team A, every by-id read or write of
// team B's objects is MLflow's 404 in /ws/team-a/ (not in the workspace) and API Gateway's 403 in /ws/team-b/,
// and team B's objects, read as admin in /ws/team-b/, are as they were after each refusal.

let t: TestStack;
let teamBSeeded: unknown;
beforeAll(async () => {
  t = await startTestStack({ env: { MLFLOW_GATE_TEAMS_DIR: EXAMPLE_TEAMS_DIR } });
  await seed();
  // Nothing in this file may change team B after its seeding: every test compares against this.
  teamBSeeded = await teamBState();
}, 300_000);
afterAll(async () => {
  await t?.stop();
});

const ops = (caller: Caller, team: string, plan: Plan) => teamOps(t.stack, caller, team, plan);

/** What one team holds, all created through the gateway by its own writer and model approver. */
interface TeamObjects {
  readonly experimentId: string;
  readonly runId: string;
  readonly traceId: string;
  readonly loggedModelId: string;
  readonly model: string;
  readonly artifact: string;
  readonly secret: string;
}
const objects: Record<string, TeamObjects> = {};

/** Team A is seeded with SigV4 (its roles), team B with bearer tokens (its users). */
const WRITER: Record<string, Caller> = {
  "team-a": { sigv4: "mlflow-team-a-writer" },
  "team-b": { bearer: "team-b-writer" },
};
const APPROVER: Record<string, Caller> = {
  "team-a": { sigv4: "mlflow-team-a-model-approver" },
  "team-b": { bearer: "team-b-model-approver" },
};
const ADMIN: Caller = { sigv4: "mlflow-admin" };

async function seed(): Promise<void> {
  await Promise.all(["team-a", "team-b"].map(seedTeam));
}

async function seedTeam(team: string): Promise<void> {
  const secret = `${team} secret ${Math.random()}`;
  const w = await ops(WRITER[team]!, team, [
    ["exp", "create_experiment", { name: `${team}-experiment` }],
    ["run", "create_run", { experiment_id: "$exp" }],
    ["metric", "log_metric", { run_id: "$run.run_id", key: "loss", value: 0.5 }],
    ["tag", "set_tag", { run_id: "$run.run_id", key: "team", value: team }],
    ["art", "log_text_artifact", { run_id: "$run.run_id", path: `notes/${team}.txt`, text: secret }],
    ["trace", "make_trace", { experiment_id: "$exp", name: `${team}-trace` }],
    ["lm", "create_logged_model", { experiment_id: "$exp", name: `${team}-logged-model` }],
  ]);
  if (failures(w).length > 0) throw new Error(`seeding ${team}: ${failures(w).join("\n")}`);
  const runId = w.run!.value.run_id as string;
  const a = await ops(APPROVER[team]!, team, [
    ["model", "create_registered_model", { name: `${team}-model` }],
    ["version", "create_model_version", { name: `${team}-model`, source: `runs:/${runId}/model`, run_id: runId }],
  ]);
  if (failures(a).length > 0) throw new Error(`seeding ${team}'s registry: ${failures(a).join("\n")}`);
  objects[team] = {
    experimentId: w.exp!.value,
    runId,
    traceId: w.trace!.value,
    loggedModelId: w.lm!.value.model_id,
    model: `${team}-model`,
    artifact: `notes/${team}.txt`,
    secret,
  };
}

const A = () => objects["team-a"]!;
const B = () => objects["team-b"]!;

/** Team B as its admin reads it in /ws/team-b/: experiments, runs (metrics, tags, artifacts), models, versions, traces, logged models. */
async function teamBState(): Promise<unknown> {
  const r = await ops(ADMIN, "team-b", [["s", "team_snapshot", {}]]);
  expect(failures(r)).toEqual([]);
  return r.s!.value;
}

/** Each step must have been refused with `status` (403: API Gateway; 404: MLflow, the object is not in the workspace). */
function expectRefusedWith(results: Record<string, OpResult>, names: readonly string[], status: number): void {
  const wrong = names
    .filter((n) => results[n]?.ok !== false || results[n]?.status !== status)
    .map((n) => `${n}: ${JSON.stringify(results[n]).slice(0, 300)}`);
  expect(wrong).toEqual([]);
}

const GRAPHQL_SEARCH = () => ({
  query: `query { mlflowSearchRuns(input: {experimentIds: ["${A().experimentId}", "${B().experimentId}"]}) { runs { info { runId experimentId } } } }`,
});
const GRAPHQL_GET_RUN = (runId: string) => ({
  query: `query { mlflowGetRun(input: {runId: "${runId}"}) { run { info { runId } } } }`,
});

/** Every search of team A's workspace, over both teams' experiment ids where a search takes some. */
const SEARCHES = (): Plan => {
  const both = [A().experimentId, B().experimentId];
  return [
    ["experiments", "search_experiments", {}],
    ["runs", "search_runs", { experiment_ids: both }],
    ["models", "search_registered_models", {}],
    ["versions", "search_model_versions", {}],
    ["traces", "search_traces", { locations: both }],
    ["logged_models", "search_logged_models", { experiment_ids: both }],
    ["gql_runs", "rest", { method: "POST", endpoint: "/graphql", json: GRAPHQL_SEARCH() }],
    ["gql_get_b", "rest", { method: "POST", endpoint: "/graphql", json: GRAPHQL_GET_RUN(B().runId) }],
    ["gql_get_a", "rest", { method: "POST", endpoint: "/graphql", json: GRAPHQL_GET_RUN(A().runId) }],
  ];
};

/** By-id reads of one team's objects (the same plan reads team A's, to show the reader can read). */
const READS = (o: TeamObjects): Plan => [
  ["get_run", "get_run", { run_id: o.runId }],
  ["metric_history", "get_metric_history", { run_id: o.runId, key: "loss" }],
  ["get_experiment", "get_experiment", { experiment_id: o.experimentId }],
  ["get_model", "get_registered_model", { name: o.model }],
  ["get_version", "get_model_version", { name: o.model, version: "1" }],
  ["latest_versions", "get_latest_versions", { name: o.model }],
  ["download_uri", "get_model_version_download_uri", { name: o.model, version: "1" }],
  ["list_artifacts", "list_artifacts", { run_id: o.runId, path: "notes" }],
  ["read_artifact", "read_artifact", { run_id: o.runId, path: o.artifact }],
  ["get_trace", "get_trace", { trace_id: o.traceId }],
  ["get_logged_model", "get_logged_model", { model_id: o.loggedModelId }],
  ["logged_model_artifacts", "list_logged_model_artifacts", { model_id: o.loggedModelId }],
];
const READ_NAMES = READS({} as TeamObjects).map(([n]) => n);
const names = (plan: Plan) => plan.map(([n]) => n);
const prefixed = (prefix: string, plan: Plan): Plan => plan.map(([n, op, k]) => [`${prefix}${n}`, op, k]);
/** The results whose names start with `prefix`, without it. */
const unprefixed = (prefix: string, results: Record<string, OpResult>): Record<string, OpResult> =>
  Object.fromEntries(
    Object.entries(results)
      .filter(([n]) => n.startsWith(prefix))
      .map(([n, v]) => [n.slice(prefix.length), v]),
  );

describe.each<[string, Caller]>([
  ["SigV4", { sigv4: "mlflow-team-a-reader" }],
  ["bearer", { bearer: "team-a-reader" }],
])("team A's reader (%s)", (mode, reader) => {
  test("sees only team A in every search: experiments, runs, models, versions, traces, logged models, GraphQL", async () => {
    // Act
    const r = await ops(reader, "team-a", SEARCHES());
    // Assess
    expect(failures(r)).toEqual([]);
    expect(r.experiments!.value.map((e: { name: string }) => e.name)).toEqual(["team-a-experiment"]);
    expect(r.runs!.value.map((x: { run_id: string }) => x.run_id)).toEqual([A().runId]);
    expect(r.models!.value.map((m: { name: string }) => m.name)).toEqual(["team-a-model"]);
    expect(r.versions!.value.map((v: { name: string }) => v.name)).toEqual(["team-a-model"]);
    expect(r.traces!.value.map((x: { trace_id: string }) => x.trace_id)).toEqual([A().traceId]);
    expect(r.logged_models!.value.map((m: { model_id: string }) => m.model_id)).toEqual([A().loggedModelId]);
    expect(JSON.stringify(r)).not.toContain(B().secret);
    expect(JSON.stringify(r)).not.toContain("team-b-");
    if (mode === "SigV4") {
      // GraphQL is a UI route: its authorizer takes bearer tokens only.
      expect([r.gql_runs!.value.status, r.gql_get_a!.value.status, r.gql_get_b!.value.status]).toEqual([401, 401, 401]);
      return;
    }
    expect(r.gql_runs!.value).toEqual({
      status: 200,
      body: {
        data: { mlflowSearchRuns: { runs: [{ info: { runId: A().runId, experimentId: A().experimentId } }] } },
        errors: null,
      },
    });
    expect(r.gql_get_a!.value.body.data.mlflowGetRun.run.info.runId).toBe(A().runId);
    expect(r.gql_get_b!.value).toEqual({
      status: 200,
      body: { data: { mlflowGetRun: null }, errors: [`Run with id=${B().runId} not found`] },
    });
  });

  test("reads team A's objects by id, and gets MLflow's 404 for team B's in /ws/team-a/ and API Gateway's 403 in /ws/team-b/", async () => {
    // Act
    // One process, one identity: team A's objects, then team B's in /ws/team-a/, then in /ws/team-b/.
    const r = await ops(reader, "team-a", [
      ...prefixed("own_", READS(A())),
      ...READS(B()),
      ["by_name", "get_experiment_by_name", { name: "team-b-experiment" }],
      // The store path of team B's artifact, and the same path relative to team A's root.
      [
        "store_path",
        "rest",
        {
          method: "GET",
          endpoint: `/api/2.0/mlflow-artifacts/artifacts/workspaces/team-b/${B().experimentId}/${B().runId}/artifacts/${B().artifact}`,
        },
      ],
      [
        "store_path_relative",
        "rest",
        {
          method: "GET",
          endpoint: `/api/2.0/mlflow-artifacts/artifacts/${B().experimentId}/${B().runId}/artifacts/${B().artifact}`,
        },
      ],
      ["create_experiment", "create_experiment", { name: "reader-must-not" }],
      ["to_b", "use_workspace", { team: "team-b" }],
      ...prefixed("b_", [
        ...READS(B()),
        ["search_experiments", "search_experiments", {}],
        ["search_models", "search_registered_models", {}],
        ["gql", "rest", { method: "POST", endpoint: "/graphql", json: GRAPHQL_GET_RUN(B().runId) }],
      ]),
    ]);
    const own = unprefixed("own_", r);
    const inB = unprefixed("b_", r);
    const inA = r;
    // Assess
    expect(failures(own)).toEqual([]);
    expect(own.read_artifact!.value).toBe(A().secret);
    expect(own.get_trace!.value).toBeTruthy();
    expectRefusedWith(inA, READ_NAMES, 404);
    expect(inA.by_name).toMatchObject({ ok: true, value: null });
    // A reader writes nothing, not even in its own team.
    expectRefusedWith(inA, ["create_experiment"], 403);
    expect(inA.store_path!.value).toMatchObject({ status: 403, body: { reason: "artifact-path-workspace" } });
    // Relative paths are rooted at workspaces/team-a/: not there (MLflow answers a missing S3 object with a 500).
    expect([404, 500]).toContain(inA.store_path_relative!.value.status);
    expect(JSON.stringify(r)).not.toContain(B().secret);
    expectRefusedWith(inB, [...READ_NAMES, "search_experiments", "search_models"], 403);
    expect(inB.gql!.value.status).toBe(mode === "SigV4" ? 401 : 403);
    expect(JSON.stringify(inB)).not.toContain(B().secret);
    expect(await teamBState()).toEqual(teamBSeeded);
  });
});

/** Writes of a writer's tier on one team's objects. */
const WRITES = (o: TeamObjects, tag: string): Plan => [
  ["log_metric", "log_metric", { run_id: o.runId, key: "intruder", value: 1 }],
  ["log_param", "log_param", { run_id: o.runId, key: `intruder-${tag}`, value: tag }],
  ["set_tag", "set_tag", { run_id: o.runId, key: "intruder", value: tag }],
  ["set_experiment_tag", "set_experiment_tag", { experiment_id: o.experimentId, key: "intruder", value: tag }],
  ["create_run", "create_run", { experiment_id: o.experimentId }],
  ["log_artifact", "log_text_artifact", { run_id: o.runId, path: `intruder/${tag}.txt`, text: tag }],
  ["set_trace_tag", "set_trace_tag", { trace_id: o.traceId, key: "intruder", value: tag }],
  ["set_logged_model_tags", "set_logged_model_tags", { model_id: o.loggedModelId, tags: { intruder: tag } }],
];
const DESTRUCTIVE = (o: TeamObjects): Plan => [
  ["delete_run", "delete_run", { run_id: o.runId }],
  ["rename_experiment", "rename_experiment", { experiment_id: o.experimentId, new_name: "taken-over" }],
  ["delete_experiment", "delete_experiment", { experiment_id: o.experimentId }],
  ["delete_traces", "delete_traces", { experiment_id: o.experimentId, trace_ids: [o.traceId] }],
];
/** Registry writes of a model approver's tier on one team's model. */
const REGISTRY_WRITES = (o: TeamObjects, tag: string): Plan => [
  ["model_tag", "set_registered_model_tag", { name: o.model, key: "intruder", value: tag }],
  ["version_tag", "set_model_version_tag", { name: o.model, version: "1", key: "intruder", value: tag }],
  ["new_version", "create_model_version", { name: o.model, source: `runs:/${o.runId}/model`, run_id: o.runId }],
  ["alias", "set_registered_model_alias", { name: o.model, alias: "intruder", version: "1" }],
  ["describe", "update_model_version", { name: o.model, version: "1", description: tag }],
];

describe.each<[string, Caller, Caller]>([
  ["SigV4", { sigv4: "mlflow-team-a-writer" }, { sigv4: "mlflow-team-a-model-approver" }],
  ["bearer", { bearer: "team-a-writer" }, { bearer: "team-a-model-approver" }],
])("team A's writer and model approver (%s)", (mode, writer, approver) => {
  test("cannot write into team B: 404 for team B's ids in /ws/team-a/, 403 in /ws/team-b/; team B unchanged", async () => {
    // Act
    const [w, a] = await Promise.all([
      ops(writer, "team-a", [
        ...WRITES(B(), mode),
        ...DESTRUCTIVE(B()),
        ["use_b", "use_workspace", { team: "team-b" }],
        ...WRITES(B(), mode).map(([n, op, k]): Plan[number] => [`b_${n}`, op, k]),
        ...DESTRUCTIVE(B()).map(([n, op, k]): Plan[number] => [`b_${n}`, op, k]),
        ["b_create_experiment", "create_experiment", { name: `intruder-${mode}` }],
      ]),
      ops(approver, "team-a", [
        ...REGISTRY_WRITES(B(), mode),
        ["delete_version", "delete_model_version", { name: B().model, version: "1" }],
        ["use_b", "use_workspace", { team: "team-b" }],
        ...REGISTRY_WRITES(B(), mode).map(([n, op, k]): Plan[number] => [`b_${n}`, op, k]),
        ["b_delete_version", "delete_model_version", { name: B().model, version: "1" }],
        ["b_create_model", "create_registered_model", { name: `intruder-${mode}` }],
      ]),
    ]);
    // Assess
    const inA = [...names(WRITES(B(), mode)), ...names(DESTRUCTIVE(B()))].filter((n) => n !== "delete_traces");
    expectRefusedWith(w, inA, 404);
    // MLflow's DeleteTraces by id in another workspace deletes nothing and says so (0), rather than a 404.
    expect(w.delete_traces).toMatchObject({ ok: true, value: 0 });
    expectRefusedWith(
      w,
      [...names(WRITES(B(), mode)), ...names(DESTRUCTIVE(B()))].map((n) => `b_${n}`),
      403,
    );
    expectRefusedWith(w, ["b_create_experiment"], 403);
    // The SDK reads the model before it deletes a version (is it a prompt?): that read is MLflow's 404 in
    // /ws/team-a/, so the delete (not a model approver's route anyway) is never sent.
    expectRefusedWith(a, [...names(REGISTRY_WRITES(B(), mode)), "delete_version"], 404);
    expectRefusedWith(
      a,
      [...names(REGISTRY_WRITES(B(), mode)).map((n) => `b_${n}`), "b_delete_version", "b_create_model"],
      403,
    );
    expect(await teamBState()).toEqual(teamBSeeded);
  });

  test("the same writes on team A's own objects succeed in /ws/team-a/", async () => {
    const [w, a] = await Promise.all([
      ops(writer, "team-a", WRITES(A(), mode)),
      ops(
        approver,
        "team-a",
        REGISTRY_WRITES(A(), mode).filter(([n]) => n !== "new_version"),
      ),
    ]);
    expect(failures(w)).toEqual([]);
    expect(failures(a)).toEqual([]);
    const seen = await ops(ADMIN, "team-a", [["s", "team_snapshot", {}]]);
    const run = seen.s!.value.experiments[0].runs.find((x: { id: string }) => x.id === A().runId);
    expect(run.tags.intruder).toBe(mode);
    expect(run.metrics.intruder).toBe(1);
  });
});
