import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { cliEnv, CliRun, runCliProcess } from "../scripts/support/run-cli";
import { startTestStack, TestStack } from "./support/stack";

/** IAM's denial of the reader's experiment creation, as API Gateway words it. */
const IAM_DENIAL =
  /^User: arn:aws:iam::\d{12}:user\/mlflow-reader is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:[a-z0-9-]+:\*{8}\d{4}:[^/]+\/[^/]+\/POST\/api\/2\.0\/mlflow\/experiments\/create$/;

// `mlflow-gate sign` run as a user would (bin/mlflow-gate.js in a child process), with the local
// stack's AWS profiles, against the real gateway and MLflow.

let t: TestStack;
let gw: string;
let work: string;

beforeAll(async () => {
  t = await startTestStack();
  gw = t.stack.summary.gatewayUrl;
  work = mkdtempSync(join(tmpdir(), "mlflow-gate-sign-"));
}, 240_000);
afterAll(async () => {
  await t?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cliEnv({
    AWS_SHARED_CREDENTIALS_FILE: t.stack.summary.awsCredentialsFile,
    AWS_CONFIG_FILE: t.stack.summary.awsConfigFile,
    ...extra,
  });
}

const sign = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
  runCliProcess(["sign", ...args], { env: env(extra) });

/** Neither output may hold a secret key or a signature. */
function expectNoSecrets(r: CliRun): void {
  const text = r.stdout + r.stderr;
  for (const p of t.stack.principals) expect(text).not.toContain(p.secretAccessKey);
  expect(text).not.toMatch(/Signature=|Credential=/);
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 1;
}

describe("mlflow-gate sign against the gateway", () => {
  test("an allowed call: admin creates an experiment with a JSON body (POST implied by -d); the reader finds it by a name with a space in the query", async () => {
    // Act
    const created = await sign([
      "--profile",
      "mlflow-admin",
      "-d",
      '{"name": "signed e2e"}',
      `${gw}/api/2.0/mlflow/experiments/create`,
    ]);
    const found = await sign([
      "--profile",
      "mlflow-reader",
      `${gw}/api/2.0/mlflow/experiments/get-by-name?experiment_name=signed%20e2e`,
    ]);
    // Assess
    expect(created.code).toBe(0);
    expect(created.stderr).toBe("HTTP 200 OK\n");
    const id = (JSON.parse(created.stdout) as { experiment_id: string }).experiment_id;
    expect(id).toMatch(/^\d+$/);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ experiment: { experiment_id: id, name: "signed e2e" } });
    expectNoSecrets(created);
    expectNoSecrets(found);
  });

  test("the same experiment created twice: MLflow's RESOURCE_ALREADY_EXISTS with its own sentence, never the database's SQL", async () => {
    // Prepare
    const create = () =>
      sign(["--profile", "mlflow-admin", "-d", '{"name":"created twice"}', `${gw}/api/2.0/mlflow/experiments/create`]);
    expect((await create()).code).toBe(0);
    // Act
    const again = await create();
    // Assess
    expect(again.code).toBe(3);
    expect(again.stderr).toBe("HTTP 400 Bad Request\n");
    expect(JSON.parse(again.stdout)).toMatchObject({
      error_code: "RESOURCE_ALREADY_EXISTS",
      message: "Experiment(name=created twice) already exists.",
    });
    expect(again.stdout).not.toMatch(/\[SQL|parameters|sqlite3|INSERT INTO/);
  });

  test("a denied call: the reader's write gets 403 with the gateway's body on stdout and exit 3, and MLflow has no such experiment", async () => {
    // Act
    const r = await sign([
      "--profile",
      "mlflow-reader",
      "-X",
      "POST",
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"name":"not allowed"}',
      `${gw}/api/2.0/mlflow/experiments/create`,
    ]);
    // Assess
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("HTTP 403 Forbidden\n");
    expect(JSON.parse(r.stdout)).toEqual({ Message: expect.stringMatching(IAM_DENIAL) });
    const check = await sign([
      "--profile",
      "mlflow-admin",
      `${gw}/api/2.0/mlflow/experiments/get-by-name?experiment_name=not+allowed`,
    ]);
    expect(check.code).toBe(3);
    expect(check.stdout).toContain("RESOURCE_DOES_NOT_EXIST");
    expectNoSecrets(r);
  });

  test("AWS_PROFILE picks the profile, -d @file sends a file, -i prints the status line and headers first", async () => {
    // Prepare
    const file = join(work, "search.json");
    writeFileSync(file, JSON.stringify({ max_results: 5, filter: "name = 'signed e2e'" }));
    // Act
    const r = await runCliProcess(["sign", "-i", "-d", `@${file}`, `${gw}/api/2.0/mlflow/experiments/search`], {
      env: env({ AWS_PROFILE: "mlflow-reader" }),
    });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const [head, body] = r.stdout.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/^x-amzn-RequestId: \S+$/im);
    expect(JSON.parse(body as string).experiments.map((e: { name: string }) => e.name)).toEqual(["signed e2e"]);
    expect(t.accessLog).toContainEqual(
      expect.objectContaining({
        method: "POST",
        path: "/api/2.0/mlflow/experiments/search",
        principal: "mlflow-reader",
        status: 200,
        decision: "allow",
      }),
    );
  });

  test("a binary artifact: the admin uploads 2 MB with -X PUT -d @file, a reader downloads the same bytes, a reader's upload is denied", async () => {
    // Prepare
    const bytes = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const file = join(work, "weights.bin");
    writeFileSync(file, bytes);
    const url = `${gw}/api/2.0/mlflow-artifacts/artifacts/0/sign-e2e/weights.bin`;
    // Act
    const upload = await sign(["--profile", "mlflow-admin", "-X", "PUT", "-d", `@${file}`, url]);
    const download = await sign(["--profile", "mlflow-reader", url]);
    const denied = await sign([
      "--profile",
      "mlflow-reader",
      "-X",
      "PUT",
      "-d",
      `@${file}`,
      `${gw}/api/2.0/mlflow-artifacts/artifacts/0/sign-e2e/other.bin`,
    ]);
    // Assess
    expect([upload.code, upload.stderr]).toEqual([0, "HTTP 200 OK\n"]);
    expect(download.code).toBe(0);
    expect(download.stdoutBytes.length).toBe(bytes.length);
    expect(download.stdoutBytes.equals(bytes)).toBe(true);
    expect([denied.code, denied.stderr]).toEqual([3, "HTTP 403 Forbidden\n"]);
  });

  test("an assume-role profile named by --profile gets its session from the local STS: nothing but loopback is looked up or contacted", async () => {
    // Prepare: the child records every host it looks up and every address it connects to.
    const hosts = join(work, "hosts.log");
    writeFileSync(hosts, "");
    const before = t.accessLog.length;
    const stsPort = new URL(t.stack.summary.sts.endpoint).port;
    // Act
    const r = await sign(
      ["--profile", "data-science-as-mlflow-reader", `${gw}/api/2.0/mlflow/experiments/search?max_results=5`],
      {
        NODE_OPTIONS: `--require ${join(__dirname, "..", "support", "record-hosts.cjs")}`,
        MLFLOW_GATE_TEST_HOSTS_FILE: hosts,
      },
    );
    // Assess: the local STS gave data-science the role's session, the call was the role's, and no other host was tried.
    expect(r.stderr).toBe("HTTP 200 OK\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty("experiments");
    expect(t.accessLog.slice(before).map((e) => [e.principal, e.status])).toEqual([
      [expect.stringMatching(/:user\/data-science$/), 200],
      [expect.stringMatching(/^assumed-role\/mlflow-reader\//), 200],
    ]);
    const seen = readFileSync(hosts, "utf8").trim().split("\n");
    expect(seen).toContain(`connect 127.0.0.1:${stsPort}`);
    expect(
      seen.filter((l) => !/^(lookup (localhost|127\.0\.0\.1)|connect 127\.0\.0\.1:\d+|connect unix:.*)$/.test(l)),
    ).toEqual([]);
  });

  test("a profile that is in neither file: exit 1 naming it and the files, nothing sent", async () => {
    // Prepare
    const before = t.accessLog.length;
    // Act
    const r = await sign(["--profile", "mlflow-nobody", `${gw}/api/2.0/mlflow/experiments/search`]);
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `mlflow-gate: profile "mlflow-nobody" is in neither ${t.stack.summary.awsCredentialsFile} nor ${t.stack.summary.awsConfigFile} (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)\n`,
    );
    expect(r.stdout).toBe("");
    expect(t.accessLog.length).toBe(before);
  });

  test("an unreachable URL (a closed loopback port): exit 1 with one line", async () => {
    // Prepare
    const port = await closedPort();
    // Act
    const r = await sign(["--profile", "mlflow-reader", `http://127.0.0.1:${port}/api/2.0/mlflow/experiments/search`]);
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`mlflow-gate: cannot reach http://127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`);
    expect(r.stdout).toBe("");
  });

  test("a bad header is a usage error (exit 2) before anything is read or sent", async () => {
    // Act
    const r = await sign([
      "--profile",
      "mlflow-reader",
      "-H",
      "X-Team mlops",
      `${gw}/api/2.0/mlflow/experiments/search`,
    ]);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'mlflow-gate: a -H header must be "Name: value" (got 12 characters without a ":"); run "mlflow-gate --help"\n',
    );
  });
});
