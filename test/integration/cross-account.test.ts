import { join } from "path";
import { runPython } from "../support/python";
import { OpResult, Plan, sdkEnv, startTestStack, TestStack } from "./support/stack";
import { signedWithKeys, stsCall, StsResult, TemporaryKeys } from "./support/sts";

// Cross-account access, locally: the data-science principal has no MLflow group; its only right is
// to assume the roles whose trust policy names it (mlflow-reader; mlflow-admin with an ExternalId)
// through the local STS. boto3 reaches the STS through the generated AWS config; the MLflow SDK
// signs with the plugin (clients/python) and MLFLOW_GATE_ASSUME_ROLE_ARN. The STS issues
// credentials for 20 s, so a job of 60 s only finishes if the plugin renews them in time (three times at least).

const ACCOUNT = "000000000000";
const ROLE = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const JOB_SECONDS = 60;
const SESSION_SECONDS = 20;

let t: TestStack;
let job: Promise<{ code: number | null; stdout: string; stderr: string }>;
let experimentId: string;

beforeAll(async () => {
  t = await startTestStack({
    env: { MLFLOW_GATE_STS_MIN_DURATION_SECONDS: "15", MLFLOW_GATE_STS_MAX_DURATION_SECONDS: String(SESSION_SECONDS) },
  });
  // The long job runs while the other tests do; the last test waits for it.
  job = runPython(
    [join("test", "integration", "python", "metrics_job.py"), String(JOB_SECONDS)],
    pluginEnv("data-science", {
      MLFLOW_GATE_ASSUME_ROLE_ARN: ROLE("mlflow-admin"),
      MLFLOW_GATE_EXTERNAL_ID: "mlflow-gate-local",
      MLFLOW_GATE_ROLE_SESSION_NAME: "long-job",
    }),
    (JOB_SECONDS + 90) * 1000,
  );
  const r = await t.sdk("private", [["exp", "create_experiment", { name: "cross-account" }]]);
  experimentId = r.exp!.value;
}, 240_000);
afterAll(async () => {
  await job?.catch(() => undefined);
  await t?.stop();
});

/** The SDK with the plugin as an AWS profile of the generated config, plus MLFLOW_GATE_* settings. */
function pluginEnv(profile: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { MLFLOW_TRACKING_AWS_SIGV4: _stock, ...env } = sdkEnv(t.stack, profile);
  return { ...env, MLFLOW_TRACKING_AUTH: "mlflow-gate", ...extra };
}

async function ops(profile: string, plan: Plan, extra: NodeJS.ProcessEnv = {}): Promise<Record<string, OpResult>> {
  const r = await runPython(
    [join("test", "integration", "python", "plugin_ops.py"), JSON.stringify(plan)],
    pluginEnv(profile, extra),
  );
  if (r.code !== 0) throw new Error(`plugin_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, OpResult>;
}

const sts = (profile: string, op: string, kwargs: Record<string, unknown> = {}): Promise<StsResult> =>
  stsCall(t.stack, profile, op, kwargs);
const signedWith = (keys: TemporaryKeys, method: string, path: string, body?: string) =>
  signedWithKeys(t.stack, keys, method, path, body);

/** The plugin's reading of IAM's denial: PERMISSION_DENIED, naming the caller (a user or a role's session) and the action. */
const DENIED = expect.stringMatching(
  /^PERMISSION_DENIED: User: arn:aws:(iam::\d{12}:user\/[^ ]+|sts::\d{12}:assumed-role\/[^/]+\/[^ ]+) is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:/,
);

describe("the data-science principal", () => {
  test("alone has no MLflow rights: even a read is denied", async () => {
    const r = await ops("data-science", [["search", "search_experiments", {}]]);
    expect(r.search).toMatchObject({ ok: false, status: 403, error: DENIED });
  });

  test("as mlflow-reader (plugin, MLFLOW_GATE_ASSUME_ROLE_ARN): reads, and a write is denied", async () => {
    const r = await ops(
      "data-science",
      [
        ["get", "get_experiment", { experiment_id: experimentId }],
        ["create", "create_experiment", { name: "reader may not" }],
      ],
      { MLFLOW_GATE_ASSUME_ROLE_ARN: ROLE("mlflow-reader") },
    );
    expect(r.get).toMatchObject({ ok: true, value: expect.objectContaining({ name: "cross-account" }) });
    expect(r.create).toMatchObject({ ok: false, status: 403, error: DENIED });
    // Logged as the session (assumed-role/<role>/<session>, as AWS logs it), decided as the role.
    const denied = t.accessLog.filter((e) => e.action === "CreateExperiment" && e.username === "mlflow-reader");
    expect(denied.map((e) => e.reason)).toEqual(["not-allowed"]);
    expect(denied[0]).toMatchObject({
      principal: expect.stringMatching(/^assumed-role\/mlflow-reader\/./),
      accessKeyId: expect.stringMatching(/^ASIA/),
    });
  });

  test("as mlflow-admin (boto3's role_arn + source_profile + external_id profile): writes; without the ExternalId the role is refused", async () => {
    const r = await ops("data-science-as-mlflow-admin", [["create", "create_experiment", { name: "admin may" }]]);
    expect(r.create).toMatchObject({ ok: true });
    const withoutId = await ops("data-science", [["search", "search_experiments", {}]], {
      MLFLOW_GATE_ASSUME_ROLE_ARN: ROLE("mlflow-admin"),
    });
    expect(withoutId.search).toMatchObject({
      ok: false,
      error: expect.stringContaining(`could not assume the role ${ROLE("mlflow-admin")}: AccessDenied`),
    });
  });

  test("with a wrong ExternalId, or for a role that does not trust it, gets AccessDenied naming the role; nothing reaches MLflow", async () => {
    // The long job logs through the gateway meanwhile (as mlflow-admin): count the other MLflow requests only.
    const mlflowRequests = () => t.accessLog.filter((e) => e.path !== "/" && e.username !== "mlflow-admin").length;
    const before = mlflowRequests();
    const wrongId = await ops("data-science", [["search", "search_experiments", {}]], {
      MLFLOW_GATE_ASSUME_ROLE_ARN: ROLE("mlflow-admin"),
      MLFLOW_GATE_EXTERNAL_ID: "not-the-id",
    });
    expect(wrongId.search).toMatchObject({
      ok: false,
      error: expect.stringContaining(
        `User: arn:aws:iam::${ACCOUNT}:user/data-science is not authorized to perform: sts:AssumeRole on resource: ${ROLE("mlflow-admin")}`,
      ),
    });
    const untrusted = await ops("data-science", [["search", "search_experiments", {}]], {
      MLFLOW_GATE_ASSUME_ROLE_ARN: ROLE("mlflow-model-approver"),
    });
    expect(untrusted.search).toMatchObject({
      ok: false,
      error: expect.stringContaining(`could not assume the role ${ROLE("mlflow-model-approver")}: AccessDenied`),
    });
    expect(mlflowRequests()).toBe(before);
  });
});

describe("the local STS with boto3", () => {
  test("an untrusted principal (mlflow-reader's own keys) is refused mlflow-admin: AccessDenied, 403", async () => {
    const r = await sts("mlflow-reader", "assume_role", {
      RoleArn: ROLE("mlflow-admin"),
      RoleSessionName: "escalate",
      ExternalId: "mlflow-gate-local",
    });
    expect(r).toEqual({
      ok: false,
      status: 403,
      code: "AccessDenied",
      message: `User: arn:aws:iam::${ACCOUNT}:user/mlflow-reader is not authorized to perform: sts:AssumeRole on resource: ${ROLE("mlflow-admin")}`,
    });
  });

  test("temporary credentials work with the role's rights until they expire, then the gateway refuses them as expired", async () => {
    // Prepare
    const assumed = await sts("data-science", "assume_role", {
      RoleArn: ROLE("mlflow-reader"),
      RoleSessionName: "short",
    });
    if (!assumed.ok) throw new Error(`assume_role failed: ${assumed.code} ${assumed.message}`);
    const keys = assumed.value.Credentials;
    expect(keys.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(assumed.value.AssumedRoleUser.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/mlflow-reader/short`);
    const expiresAt = Date.parse(keys.Expiration);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(SESSION_SECONDS * 1000);
    // Act and assess: the reader's rights while valid
    expect(
      (await signedWith(keys, "GET", `/api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`)).status,
    ).toBe(200);
    expect(await signedWith(keys, "POST", "/api/2.0/mlflow/experiments/create", '{"name":"temp-reader"}')).toEqual({
      status: 403,
      body: expect.stringMatching(
        /^\{"Message":"User: arn:aws:sts::\d{12}:assumed-role\/mlflow-reader\/short is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:[^"]+\/POST\/api\/2\.0\/mlflow\/experiments\/create"\}$/,
      ),
    });
    // ... and after expiry
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1500));
    expect(await signedWith(keys, "GET", `/api/2.0/mlflow/experiments/get?experiment_id=${experimentId}`)).toEqual({
      status: 403,
      body: '{"message":"The security token included in the request is expired"}',
    });
    expect(t.accessLog.filter((e) => e.reason === "expired-credentials").length).toBe(1);
  }, 120_000);
});

test(
  `a ${JOB_SECONDS} s job on ${SESSION_SECONDS} s credentials (plugin, assumed mlflow-admin) finishes with no error, every metric in MLflow`,
  async () => {
    // Act: the job started in beforeAll
    const r = await job;
    // Assess
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
    const result = r.stdout.split("\n").find((line) => line.startsWith("RESULT "));
    const out = JSON.parse(result?.slice("RESULT ".length) ?? "null") as {
      run_id: string;
      steps: number;
      access_keys: string[];
      errors: string[];
    };
    process.stderr.write(
      `cross-account job: ${out.steps} metrics in ${JOB_SECONDS} s on ${out.access_keys.length} sessions of ${SESSION_SECONDS} s\n`,
    );
    expect(out.errors).toEqual([]);
    expect(out.steps).toBeGreaterThan(JOB_SECONDS / 2);
    // Renewed before expiry: several sessions, each used in turn.
    expect(out.access_keys.length).toBeGreaterThanOrEqual(Math.floor(JOB_SECONDS / SESSION_SECONDS) + 1);
    const issued = t.accessLog.filter(
      (e) =>
        e.action === "sts:AssumeRole" &&
        e.decision === "allow" &&
        (e as { sessionName?: string }).sessionName === "long-job",
    );
    // end_run, after the last key was recorded, may have renewed once more.
    expect(issued.length).toBeGreaterThanOrEqual(out.access_keys.length);
    expect(issued.length).toBeLessThanOrEqual(out.access_keys.length + 1);
    expect(t.accessLog.filter((e) => e.username === "mlflow-admin" && e.decision !== "allow")).toEqual([]);
    // The audit trail names the job's sessions, each by its key: every key the job used is in the log.
    const jobEntries = t.accessLog.filter((e) => e.principal === "assumed-role/mlflow-admin/long-job");
    const logged = new Set(jobEntries.map((e) => e.accessKeyId));
    expect(out.access_keys.filter((k) => !logged.has(k))).toEqual([]);
    expect(logged.size).toBeLessThanOrEqual(out.access_keys.length + 1);
    // On the private MLflow: every step, in order, in the run.
    const seen = await t.sdk("private", [["history", "get_metric_history", { run_id: out.run_id, key: "step" }]]);
    expect(
      seen
        .history!.value.map((m: { step: number; value: number }) => [m.step, m.value])
        .sort((a: number[], b: number[]) => a[0]! - b[0]!),
    ).toEqual(Array.from({ length: out.steps }, (_, i) => [i, i]));
  },
  (JOB_SECONDS + 120) * 1000,
);
