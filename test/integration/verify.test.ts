import { spawn } from "child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { RunningStack } from "../../local/stack";
import { CATALOG_FILE, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { startVerifyStack, VerifyStack } from "./support/verify-stack";

// `mlflow-gate verify` must fail, with a clear line, when a deployment does not do what the group files
// say. Two such deployments, built from a real local stack (MLflow, the guard, the user pool): a gateway
// whose group files let readers write, and a gateway that calls MLflow without the guard. It passes
// against `npm start` itself: test/integration/start.test.ts.

let v: VerifyStack;
let stack: RunningStack;
let dataDir: string;
let groupsDir: string;

beforeAll(async () => {
  v = await startVerifyStack();
  ({ stack, dataDir } = v);
  // Readers who may write: the same files with one line more.
  groupsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-verify-groups-"));
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  writeFileSync(
    join(groupsDir, "readers.yaml"),
    "description: readers who may write\nallow:\n  - class:read\n  - class:write\n",
  );
}, 240_000);
afterAll(async () => {
  await v?.stop();
  if (groupsDir) rmSync(groupsDir, { recursive: true, force: true });
});

const gateway = (policySet: PolicySet, upstream: URL) => v.gateway(policySet, upstream);
const verify = (...args: string[]) => v.verify(...args);

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
