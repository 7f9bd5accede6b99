import { mkdtempSync, readFileSync, rmSync } from "fs";
import { createServer, Server } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { StackSummary } from "../../local/stack";
import { REPO_ROOT } from "../../project/paths";
import { runProcess } from "../support/run-process";
import { freePortsEnv, isListening, startNpm, Started, untilReady } from "./support/npm-start";

// `npm start` as a user runs it: a real process (node scripts/start.js), its summary, stack.json,
// SIGTERM, a second start on the same data (and `mlflow-gate verify` against it), and a taken port.

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-start-"));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (env: Record<string, string>): Started => startNpm(dataDir, env);

/** `mlflow-gate verify URL` as a user runs it, on the local stack of this file's data directory. */
const runVerify = (url: string) =>
  runProcess(process.execPath, [join(REPO_ROOT, "bin", "mlflow-gate.js"), "verify", url], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MLFLOW_GATE_DATA: dataDir },
    timeoutMs: 240_000,
  });

/** MLflow's SubmitJob, on its private address: its status, and whether MLflow says its job runner is off. */
async function submitJob(mlflowUrl: string): Promise<{ status: number; notEnabled: boolean }> {
  const res = await fetch(`${mlflowUrl}/ajax-api/3.0/jobs/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ job_name: "invoke_scorer", params: {} }),
  });
  return { status: res.status, notEnabled: (await res.text()).includes("job execution feature is not enabled") };
}

const ports = freePortsEnv;

describe("npm start", () => {
  let first: StackSummary;

  test("reaches ready, prints the summary, writes stack.json, and stops every child on SIGTERM", async () => {
    const env = await ports();
    const s = start(env);
    const ms = await untilReady(s);
    process.stderr.write(`npm start: ready in ${ms} ms (first run of this data directory)\n`);
    // The summary names the gateway and every demo user with a password.
    expect(s.stderr()).toContain(`mlflow-gate is ready: http://127.0.0.1:${env.MLFLOW_GATE_PORT}`);
    first = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as StackSummary;
    for (const u of first.demoUsers) expect(s.stderr()).toContain(u.password);
    expect(first).toMatchObject({
      gatewayUrl: `http://127.0.0.1:${env.MLFLOW_GATE_PORT}`,
      region: "us-east-1",
      profiles: [
        { name: "mlflow-admin" },
        { name: "mlflow-reader" },
        { name: "mlflow-model-approver" },
        { name: "mlflow-release-manager" },
      ],
    });
    expect(first.cognito.jwksUri).toBe(`${first.cognito.issuer}/.well-known/jwks.json`);
    // The local STS: its own port, listed with the assume-role profiles; unsigned calls get STS's XML error.
    expect(first.sts).toMatchObject({
      endpoint: `http://127.0.0.1:${env.MLFLOW_GATE_STS_PORT}`,
      accountId: "000000000000",
    });
    expect(first.roleProfiles.map((r) => r.name)).toEqual([
      "data-science-as-mlflow-admin",
      "data-science-as-mlflow-reader",
    ]);
    const unsigned = await fetch(first.sts.endpoint, {
      method: "POST",
      body: new URLSearchParams({ Action: "GetCallerIdentity", Version: "2011-06-15" }),
    });
    expect([unsigned.status, await unsigned.text()]).toEqual([
      403,
      expect.stringContaining("<Code>MissingAuthenticationToken</Code>"),
    ]);
    // The gateway answers by the API definition it wrote (`api render --local`): its MOCK is the shell's config,
    // its integrations go to the guard.
    const api = JSON.parse(readFileSync(join(dataDir, "api-definition.json"), "utf8")) as {
      paths: Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    };
    const mock = api.paths["/mlflow-gate-ui.json"]!.get!["x-amazon-apigateway-integration"]!;
    const config = await fetch(`${first.gatewayUrl}/mlflow-gate-ui.json`);
    expect(config.status).toBe(200);
    expect(await config.json()).toEqual(
      JSON.parse(
        (mock.responses as { default: { responseTemplates: Record<string, string> } }).default.responseTemplates[
          "application/json"
        ]!,
      ),
    );
    expect(api.paths["/api/2.0/mlflow/runs/{proxy+}"]!.post!["x-amazon-apigateway-integration"]!.uri).toBe(
      `${first.guardPrivateUrl}/api/2.0/mlflow/runs/{proxy}`,
    );
    expect((await fetch(`${first.gatewayUrl}/ajax-api/2.0/mlflow/experiments/search`)).status).toBe(401);
    const created = await fetch(`${first.mlflowPrivateUrl}/api/2.0/mlflow/experiments/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"survives-restart"}',
    });
    expect(created.status).toBe(200);
    // MLflow runs without its job runner unless asked for (MLFLOW_GATE_MLFLOW_JOBS): its own error says so.
    expect(await submitJob(first.mlflowPrivateUrl)).toEqual({ status: 500, notEnabled: true });

    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toContain("stopped");
    expect(await isListening(first.gatewayUrl)).toBe(false);
    expect(await isListening(first.mlflowPrivateUrl)).toBe(false);
    expect(await isListening(first.cognito.endpoint)).toBe(false);
    expect(await isListening(first.sts.endpoint)).toBe(false);
  }, 240_000);

  test("a second start reuses the data: same users, passwords, keys and MLflow data; MLFLOW_GATE_MLFLOW_JOBS=true runs MLflow's jobs", async () => {
    const s = start({ ...(await ports()), MLFLOW_GATE_MLFLOW_JOBS: "true" });
    const ms = await untilReady(s);
    process.stderr.write(`npm start: ready in ${ms} ms (later run)\n`);
    const again = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as StackSummary;
    expect(again.demoUsers).toEqual(first.demoUsers);
    expect(again.cognito.userPoolId).toBe(first.cognito.userPoolId);
    expect(readFileSync(again.awsCredentialsFile, "utf8")).toBe(readFileSync(first.awsCredentialsFile, "utf8"));
    const found = await fetch(
      `${again.mlflowPrivateUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=survives-restart`,
    );
    expect(found.status).toBe(200);
    // With the job runner, MLflow takes the job (and refuses its parameters) instead of saying jobs are off.
    expect((await submitJob(again.mlflowPrivateUrl)).notEnabled).toBe(false);
    // The README's last step of a deployment, against what npm start runs: every check passes.
    const verify = await runVerify(again.gatewayUrl);
    process.stderr.write(`mlflow-gate verify against npm start:\n${verify.stdout}`);
    expect(verify.stdout).not.toMatch(/^FAIL/m);
    expect(verify.stdout.trimEnd().split("\n").at(-1)).toMatch(/^([2-9]\d|\d{3,}) passed, 0 failed$/);
    expect(verify.code).toBe(0);
    s.child.kill("SIGINT");
    expect(await s.exited).toBe(0);
  }, 240_000);

  test("a port in use: one line naming the variable to change, exit 1, nothing left running", async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const env = { ...(await ports()), MLFLOW_GATE_PORT: String(port) };
      const s = start(env);
      expect(await s.exited).toBe(1);
      expect(s.stderr()).toMatch(
        new RegExp(
          `mlflow-gate: cannot start: port ${port} on 127.0.0.1 is in use: set MLFLOW_GATE_PORT to another port\\n`,
        ),
      );
      expect(await isListening(`http://127.0.0.1:${env.MLFLOW_GATE_USER_POOL_PORT}`)).toBe(false);
    } finally {
      taken.close();
    }
  }, 240_000);

  test("a bad configuration: every problem listed, exit 1", async () => {
    const s = start({ MLFLOW_GATE_PORT: "eighty", MLFLOW_GATE_REGION: "moon" });
    expect(await s.exited).toBe(1);
    expect(s.stderr()).toMatch(/MLFLOW_GATE_PORT must be an integer/);
    expect(s.stderr()).toMatch(/MLFLOW_GATE_REGION "moon"/);
  }, 60_000);
});
