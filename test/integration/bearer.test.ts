import { bearerCall, startTestStack, TestStack } from "./support/stack";

// The UI path: access tokens from the local Cognito pool (USER_PASSWORD_AUTH), checked by the same
// authorizer module as the Lambda, against real MLflow behind the gateway.

let t: TestStack;
let tokens: Record<string, string>;
let experimentId: string;

beforeAll(async () => {
  t = await startTestStack();
  tokens = {};
  for (const u of t.stack.summary.demoUsers)
    tokens[u.username] = (await t.stack.userPool.login(u.username, u.password)).accessToken;
  // Something to read, created through the private MLflow.
  const r = await t.sdk("private", [["exp", "create_experiment", { name: "bearer-e2e" }]]);
  experimentId = r.exp!.value;
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const call = (method: string, path: string, token?: string, body?: unknown) =>
  bearerCall(t.stack, token, method, path, body);

const READS = (): [string, string, unknown?][] => [
  ["GET", `/ajax-api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`],
  ["GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=10"],
  ["POST", "/ajax-api/2.0/mlflow/experiments/search", { max_results: 10 }],
  ["POST", "/ajax-api/2.0/mlflow/runs/search", { experiment_ids: [experimentId] }],
  ["GET", "/ajax-api/2.0/mlflow/registered-models/search"],
  [
    "POST",
    "/graphql",
    { query: `query { mlflowGetExperiment(input: {experimentId: "${experimentId}"}) { experiment { name } } }` },
  ],
];

describe("bearer tokens on the UI routes", () => {
  test.each(["admin", "reader", "model-approver"])("%s reads experiments, runs, models and /graphql", async (user) => {
    for (const [method, path, body] of READS()) {
      const r = await call(method, path, tokens[user], body);
      expect([method, path, r.status]).toEqual([method, path, 200]);
    }
    const gql = await call("POST", "/graphql", tokens[user], READS()[5]![2]);
    expect(gql.json.data.mlflowGetExperiment.experiment.name).toBe("bearer-e2e");
  });

  test("a reader cannot write: 403, and nothing changed in MLflow", async () => {
    const before = await t.sdk("private", [["s", "snapshot", {}]]);
    const writes: [string, string, unknown][] = [
      ["POST", "/ajax-api/2.0/mlflow/experiments/create", { name: "denied" }],
      ["POST", "/ajax-api/2.0/mlflow/experiments/update", { experiment_id: experimentId, new_name: "renamed" }],
      ["POST", "/ajax-api/2.0/mlflow/experiments/delete", { experiment_id: experimentId }],
      ["POST", "/ajax-api/2.0/mlflow/runs/create", { experiment_id: experimentId }],
      ["POST", "/ajax-api/2.0/mlflow/registered-models/create", { name: "denied" }],
      [
        "POST",
        "/ajax-api/2.0/mlflow/model-versions/transition-stage",
        { name: "x", version: "1", stage: "Production" },
      ],
    ];
    for (const [method, path, body] of writes) {
      const r = await call(method, path, tokens.reader, body);
      expect([path, r.status, r.json]).toEqual([
        path,
        403,
        { message: "User is not authorized to access this resource" },
      ]);
    }
    const after = await t.sdk("private", [["s", "snapshot", {}]]);
    expect(after.s!.value).toEqual(before.s!.value);
  });

  test("a model-approver registers a model and promotes a version; cannot create runs", async () => {
    const run = await t.sdk("private", [["run", "create_run", { experiment_id: experimentId }]]);
    const runId = run.run!.value.run_id;
    expect(
      (
        await call("POST", "/ajax-api/2.0/mlflow/registered-models/create", tokens["model-approver"], {
          name: "bearer-model",
        })
      ).status,
    ).toBe(200);
    const v = await call("POST", "/ajax-api/2.0/mlflow/model-versions/create", tokens["model-approver"], {
      name: "bearer-model",
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(v.status).toBe(200);
    expect(
      (
        await call("POST", "/ajax-api/2.0/mlflow/model-versions/transition-stage", tokens["model-approver"], {
          name: "bearer-model",
          version: v.json.model_version.version,
          stage: "Staging",
          archive_existing_versions: false,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call("POST", "/ajax-api/2.0/mlflow/registered-models/alias", tokens["model-approver"], {
          name: "bearer-model",
          alias: "candidate",
          version: v.json.model_version.version,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call("POST", "/ajax-api/2.0/mlflow/runs/create", tokens["model-approver"], {
          experiment_id: experimentId,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call("DELETE", "/ajax-api/2.0/mlflow/registered-models/delete", tokens["model-approver"], {
          name: "bearer-model",
        })
      ).status,
    ).toBe(403);
  });

  test("an admin renames an experiment", async () => {
    const r = await call("POST", "/ajax-api/2.0/mlflow/experiments/update", tokens.admin, {
      experiment_id: experimentId,
      new_name: "bearer-e2e",
    });
    expect(r.status).toBe(200);
  });

  test("MLflow's job routes without its job runner (the stack's default): an admin gets MLflow's own error, a reader 403", async () => {
    // Prepare
    const job = { job_name: "invoke_scorer", params: {} };
    // Act
    const admin = await call("POST", "/ajax-api/3.0/jobs/", tokens.admin, job);
    const reader = await call("POST", "/ajax-api/3.0/jobs/", tokens.reader, job);
    // Assess: the route keeps its class (admin); MLflow, not the gateway, says jobs are off and how to turn them on.
    expect(admin).toEqual({
      status: 500,
      json: { detail: expect.stringContaining("job execution feature is not enabled") },
    });
    expect(reader.status).toBe(403);
  });

  test("no token: 401 Unauthorized; a bad token: 401", async () => {
    expect(await call("GET", "/ajax-api/2.0/mlflow/experiments/search")).toEqual({
      status: 401,
      json: { message: "Unauthorized" },
    });
    expect(
      (await call("GET", "/ajax-api/2.0/mlflow/experiments/search", `${tokens.reader!.slice(0, -4)}AAAA`)).status,
    ).toBe(401);
  });

  test("a user in no group: 403", async () => {
    const nobody = await t.stack.userPool.createUser("nobody", []);
    const token = (await t.stack.userPool.login(nobody.username, nobody.password)).accessToken;
    const r = await call("GET", "/ajax-api/2.0/mlflow/experiments/search", token);
    expect(r).toEqual({
      status: 403,
      json: { message: "User is not authorized to access this resource with an explicit deny" },
    });
  });

  test("an id token is refused: only access tokens open the UI routes", async () => {
    const reader = t.stack.summary.demoUsers.find((u) => u.username === "reader")!;
    const { idToken } = await t.stack.userPool.login(reader.username, reader.password);
    expect((await call("GET", "/ajax-api/2.0/mlflow/experiments/search", idToken)).status).toBe(401);
  });

  test("a bearer token does not open the SDK routes", async () => {
    expect((await call("GET", "/api/2.0/mlflow/experiments/search", tokens.admin)).status).toBe(403);
  });
});
