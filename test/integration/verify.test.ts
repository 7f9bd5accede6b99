import { cpSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { renderLocalApiDefinition } from "../../gateway/local-api";
import { closeServer } from "../../common/http-server";
import { parseStackConfig } from "../../local/config";
import { createLocalGateway, RunningStack, startStack } from "../../local/stack";
import { CATALOG_FILE, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { spawn } from "child_process";
import { testUiDirectory } from "../support/test-ui";

// `mlflow-gate verify` must fail, with a clear line, when a deployment does not do what the group files
// say. Two such deployments, built from a real local stack (MLflow, the guard, the user pool): a gateway
// whose group files let readers write, and a gateway that calls MLflow without the guard. It passes
// against `npm start` itself: test/integration/start.test.ts.

let stack: RunningStack;
let dataDir: string;
let groupsDir: string;
const gateways: Server[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-verify-"));
  stack = await startStack(
    parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      MLFLOW_GATE_PORT: "0",
      MLFLOW_GATE_USER_POOL_PORT: "0",
      MLFLOW_GATE_STS_PORT: "0",
    }),
    { uiDirectory: await testUiDirectory(), progress: () => undefined, log: () => undefined },
  );
  // Readers who may write: the same files with one line more.
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-verify-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  writeFileSync(
    join(groupsDir, "readers.yaml"),
    "description: readers who may write\nallow:\n  - class:read\n  - class:write\n",
  );
}, 240_000);
afterAll(async () => {
  for (const g of gateways) await closeServer(g);
  await stack?.stop();
  for (const d of [dataDir, groupsDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Another gateway in front of the stack's MLflow or guard, deciding with these policies. */
async function gateway(policySet: PolicySet, upstream: URL): Promise<string> {
  const server = createLocalGateway({
    region: stack.summary.region,
    api: renderLocalApiDefinition(policySet.catalog.routes, {
      upstream,
      uiConfigJson: JSON.stringify({
        userPoolId: stack.summary.cognito.userPoolId,
        userPoolClientId: stack.summary.cognito.clientId,
        region: stack.summary.region,
      }),
      integrationTimeoutMs: 29_000,
      authorizerTtlSeconds: 300,
      version: policySet.catalog.mlflowVersion,
    }),
    policySet,
    userPool: stack.userPool,
    principals: stack.principals,
    accessLog: () => undefined,
    authorizerLogger: { info: () => undefined, error: () => undefined },
    uiDirectory: await testUiDirectory(),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gateways.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** `mlflow-gate verify` as a user runs it (bin/mlflow-gate.js), on this file's local stack. */
function verify(...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "mlflow-gate.js"), "verify", ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MLFLOW_GATE_DATA: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => resolve({ code, out }));
  });
}

const lastLine = (out: string) => out.trimEnd().split("\n").at(-1);

test("against the stack's own gateway, every check passes", async () => {
  const r = await verify(stack.summary.gatewayUrl);
  expect(r.out).not.toMatch(/^FAIL/m);
  // The promotion rules hold for a SigV4 role, its group from the guard's role table.
  expect(r.out).toMatch(
    /^PASS {2}promotion: mlflow-model-approver \(model-approvers\) may not move a version to Production: 403 promotion-stage-not-allowed$/m,
  );
  expect(lastLine(r.out)).toMatch(/^\d+ passed, 0 failed$/);
  expect(r.code).toBe(0);
}, 300_000);

test("a gateway whose group files let readers write: the readers' lines fail, naming the routes", async () => {
  const url = await gateway(loadPolicySet(CATALOG_FILE, groupsDir), stack.guard.url);

  const r = await verify(url);

  expect(r.code).toBe(1);
  expect(r.out).toMatch(
    /^FAIL {2}routes mlflow-reader \(readers\): \d+ of \d+ sampled routes decided otherwise than the group files$/m,
  );
  expect(r.out).toMatch(/^ {8}[A-Z]+ \/\S+ \(\w+, write\): expected refused by the gateway, got 400 /m);
  expect(r.out).toMatch(/^FAIL {2}routes reader \(readers\): /m);
  expect(r.out).toMatch(
    /^FAIL {2}artifact upload refused mlflow-reader \(readers\): a group that may not write artifacts got past the gateway$/m,
  );
  // What the changed file does not touch still passes.
  expect(r.out).toMatch(/^PASS {2}routes mlflow-admin \(admins\): /m);
  expect(r.out).toMatch(/^PASS {2}stamping run: /m);
  expect(lastLine(r.out)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
}, 300_000);

test("a gateway that calls MLflow without the guard: stamping, forged identity, path tricks and the audit trail fail", async () => {
  const url = await gateway(stack.policySet, new URL(stack.summary.mlflowPrivateUrl));

  const r = await verify(url);

  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^FAIL {2}stamping run: a run stores the name the client claimed, not the verified caller$/m);
  expect(r.out).toMatch(/^FAIL {2}identity header X-MLFLOW-GATE-USERNAME: the forged name reached MLflow$/m);
  // Every path trick reaches MLflow, which answers it: none is refused.
  expect(r.out).not.toMatch(/^PASS {2}path /m);
  expect(r.out.match(/^FAIL {2}path \S+: not refused by the guard or the gateway$/gm)?.length).toBeGreaterThanOrEqual(
    5,
  );
  expect(r.out).toMatch(/^FAIL {2}audit: \d+ of \d+ writes are not in the audit trail with their caller$/m);
  expect(lastLine(r.out)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
}, 300_000);

test("Ctrl-C after verify created its experiment: it cleans up, says so, and exits 130", async () => {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "bin", "mlflow-gate.js"), "verify", stack.summary.gatewayUrl],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MLFLOW_GATE_DATA: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let signalled = false;
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (!signalled && /^PASS {2}experiment: /m.test(out)) {
      signalled = true;
      child.kill("SIGINT");
    }
  });
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

  expect(code).toBe(130);
  expect(out).toMatch(/interrupted: cleaning up what verify created/);
  expect(out).toMatch(/^PASS {2}cleanup: /m);
  expect(out).toMatch(/^FAIL {2}interrupted: stopped by a signal before every check ran$/m);
  const id = /^PASS {2}experiment: .* \((\d+)\)$/m.exec(out)?.[1];
  const experiment = (await fetch(
    `${stack.summary.mlflowPrivateUrl}/api/2.0/mlflow/experiments/get?experiment_id=${id}`,
  ).then((r) => r.json())) as { experiment: { lifecycle_stage: string } };
  expect(experiment.experiment.lifecycle_stage).toBe("deleted");
}, 120_000);

test("--dry-run prints the plan, sends nothing and creates nothing", async () => {
  const before = await fetch(
    `${stack.summary.mlflowPrivateUrl}/api/2.0/mlflow/experiments/search?max_results=1000`,
  ).then((x) => x.json());

  const r = await verify(stack.summary.gatewayUrl, "--dry-run");

  expect(r.code).toBe(0);
  expect(r.out).toMatch(/nothing is sent/);
  expect(r.out).toMatch(
    /^writer: mlflow-admin \(admins\) creates experiment and registered model mlflow-gate-verify-/m,
  );
  expect(r.out).toMatch(/^ {2}deny {2}[A-Z]+ \/\S+ \(\w+, write\)$/m);
  const after = await fetch(
    `${stack.summary.mlflowPrivateUrl}/api/2.0/mlflow/experiments/search?max_results=1000`,
  ).then((x) => x.json());
  expect(after).toEqual(before);
}, 60_000);
