import { cliEnv, runCliProcess } from "../scripts/support/run-cli";
import { bearerCall, startTestStack, TestStack } from "./support/stack";

// `mlflow-gate why` on the local stack's access log (access.jsonl in its data directory): a denied SDK call
// (the real MLflow SDK, SigV4), a denied UI call (a Cognito token) and a guard refusal, each explained by the
// enforcement point that decided it.

let t: TestStack;
let readerToken: string;

beforeAll(async () => {
  t = await startTestStack();
  const reader = t.stack.summary.demoUsers.find((u) => u.username === "reader")!;
  readerToken = (await t.stack.userPool.login(reader.username, reader.password)).accessToken;
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const why = (args: string[]) =>
  runCliProcess(["why", ...args], { env: cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir }) });

describe("mlflow-gate why", () => {
  test("a denied SDK call: API Gateway decided, by IAM, with the group's rule", async () => {
    // Prepare: the reader's SDK tries to create an experiment.
    const before = t.accessLog.length;
    const r = await t.sdk("mlflow-reader", [["e", "create_experiment", { name: "why-denied" }]]);
    expect(r.e!.ok).toBe(false);
    const entry = t.accessLog.slice(before).find((e) => e.action === "CreateExperiment" && e.status === 403)!;
    // Act
    const out = await why([entry.requestId]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout.split("\n")).toEqual([
      `request  ${entry.requestId} (${entry.extendedRequestId}) at ${entry.time}`,
      "         POST /api/2.0/mlflow/experiments/create -> 403",
      `caller   mlflow-reader, signed with SigV4 (access key ${entry.accessKeyId}), groups readers`,
      "route    /api/2.0/mlflow/experiments/{proxy+}: CreateExperiment, an IAM (SigV4) route",
      "decided  by API Gateway (IAM): the caller's execute-api policy has no statement that allows it",
      "rule     today's policy files deny it: no statement allows it (mlflow-gate policy check POST /api/2.0/mlflow/experiments/create --group readers)",
      "",
    ]);
  });

  test("a denied UI call, without an id (the last refused request): the Lambda authorizer decided", async () => {
    // Prepare
    const r = await bearerCall(t.stack, readerToken, "POST", "/ajax-api/2.0/mlflow/experiments/create", { name: "x" });
    expect(r.status).toBe(403);
    // Act
    const out = await why([]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("         POST /ajax-api/2.0/mlflow/experiments/create -> 403\n");
    expect(out.stdout).toContain("caller   user reader (Cognito token), groups readers\n");
    expect(out.stdout).toContain(
      "decided  by the Lambda authorizer: the policy it returned for the caller's groups has no statement that allows it\n",
    );
  });

  test("a guard refusal, by the answer's x-amz-apigw-id: the guard decided, after API Gateway let it through", async () => {
    // Prepare: an artifact path that climbs out of the run's artifacts.
    const res = await fetch(
      `${t.stack.summary.gatewayUrl}/ajax-api/2.0/mlflow/artifacts/list?run_id=r1&path=../../etc`,
      {
        headers: { authorization: `Bearer ${readerToken}` },
      },
    );
    expect(res.status).toBe(400);
    const id = res.headers.get("x-amz-apigw-id")!;
    // Act
    const out = await why([id]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(
      "decided  by the guard, after API Gateway let it through: artifact-path-unsafe: an artifact path may not hold",
    );
    expect(out.stdout).toContain(
      "rule     today's policy files allow it: allowed by GET/ajax-api/2.0/mlflow/artifacts/list",
    );
  });

  test("an id the log does not have: exit 1, one line naming the file", async () => {
    // Act
    const out = await why(["no-such-request"]);
    // Assess
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(
      `mlflow-gate: no request no-such-request in ${t.config.dataDir}/access.jsonl (the x-amzn-RequestId or x-amz-apigw-id of an answer)\n`,
    );
  });
});
