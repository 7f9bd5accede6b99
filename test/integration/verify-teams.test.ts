import { cpSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { RunningStack } from "../../local/stack";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR } from "../../project/paths";
import { startVerifyStack, VerifyStack } from "./support/verify-stack";

// `mlflow-gate verify` against a real local stack with the demo teams (team-a, team-b): its checks run in team-a's
// workspace as team-a's callers, the routes in each team as that team's, and the isolation check between the two.
// It must fail when the deployment lets one team into the other: a gateway whose team files give team-b's groups
// team-a's tiers as well.

let v: VerifyStack;
let stack: RunningStack;
let leakyTeamsDir: string;

beforeAll(async () => {
  v = await startVerifyStack({ MLFLOW_GATE_TEAMS_DIR: EXAMPLE_TEAMS_DIR });
  stack = v.stack;
  // team-a's file with team-b's groups beside team-a's own.
  leakyTeamsDir = mkdtempSync(join(tmpdir(), "mlflow-gate-verify-teams-leaky-"));
  cpSync(EXAMPLE_TEAMS_DIR, leakyTeamsDir, { recursive: true });
  writeFileSync(
    join(leakyTeamsDir, "team-a.yaml"),
    [
      "description: team-a, and team-b's groups too",
      "tiers:",
      "  readers: [team-a-readers, team-b-readers]",
      "  writers: [team-a-writers, team-b-writers]",
      "  model-approvers: [team-a-model-approvers]",
      "  release-managers: [team-a-release-managers]",
      "",
    ].join("\n"),
  );
}, 240_000);
afterAll(async () => {
  await v?.stop();
  if (leakyTeamsDir) rmSync(leakyTeamsDir, { recursive: true, force: true });
});

/** `mlflow-gate verify` as a user runs it, with the environment `npm start` had (its data and team files). */
const verify = (...args: string[]) => v.verify(...args);

const lastLine = (out: string) => out.trimEnd().split("\n").at(-1);

/** Experiments of a workspace, read on the private MLflow (every lifecycle stage). */
async function experimentsIn(workspace: string): Promise<{ name: string; lifecycle_stage: string }[]> {
  const r = await fetch(`${stack.summary.mlflowPrivateUrl}/api/2.0/mlflow/experiments/search`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-MLFLOW-WORKSPACE": workspace },
    body: JSON.stringify({ max_results: 1000, view_type: "ALL" }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { experiments?: { name: string; lifecycle_stage: string }[] }).experiments ?? [];
}

test("against the stack's own gateway every check passes, in team-a, with the routes of both teams and the isolation check", async () => {
  const r = await verify(stack.summary.gatewayUrl, "--artifact-mb", "11");

  expect(r.out).not.toMatch(/^FAIL/m);
  expect(r.out).not.toMatch(/^SKIP/m);
  for (const team of ["team-a", "team-b"])
    for (const tier of ["reader", "writer", "model-approver", "release-manager"]) {
      expect(r.out).toMatch(
        new RegExp(
          `^PASS {2}routes mlflow-${team}-${tier} \\(${team}-${tier}s\\) in ${team}: \\d+ sampled routes`,
          "m",
        ),
      );
      expect(r.out).toMatch(new RegExp(`^PASS {2}routes ${team}-${tier} \\(${team}-${tier}s\\) in ${team}: `, "m"));
    }
  // The callers of one team are not those of the other.
  expect(r.out).not.toMatch(/^PASS {2}routes \S*team-b\S* \(team-b-\S+\) in team-a:/m);
  expect(r.out).toMatch(
    /^PASS {2}experiment: mlflow-admin \(admins\) created experiment mlflow-gate-verify-\S+ \(\d+\)$/m,
  );
  expect(r.out).toMatch(
    /^PASS {2}promotion: mlflow-team-a-model-approver \(team-a-model-approvers\) may not move a version to Production: 403 promotion-stage-not-allowed$/m,
  );
  expect(r.out).toMatch(/^PASS {2}artifact download mlflow-team-a-reader \(team-a-readers\): 11 MB byte-identical/m);
  expect(r.out).toMatch(/^PASS {2}artifact upload refused mlflow-team-a-reader \(team-a-readers\): /m);
  expect(r.out).toMatch(/^PASS {2}isolation team-a: mlflow-team-a-writer \(team-a-writers\) created experiment /m);
  expect(r.out).toMatch(
    /^PASS {2}isolation search mlflow-team-b-reader \(team-b-readers\) in team-b: no search of team-b shows team-a's experiment or run/m,
  );
  expect(r.out).toMatch(
    /^PASS {2}isolation by id mlflow-team-b-reader \(team-b-readers\) through \/ws\/team-b\/: team-a's experiment and run: MLflow's 404 RESOURCE_DOES_NOT_EXIST$/m,
  );
  expect(r.out).toMatch(
    /^PASS {2}isolation by id mlflow-team-b-reader \(team-b-readers\) through \/ws\/team-a\/: team-a's experiment and run: API Gateway's 403$/m,
  );
  expect(r.out).toMatch(/^PASS {2}isolation write mlflow-team-b-writer \(team-b-writers\) into team-a: refused: /m);
  expect(r.out).toMatch(/^PASS {2}cleanup: /m);
  expect(r.out).toMatch(
    /^PASS {2}cleanup isolation: deleted what the isolation check created in team-a \(2 objects\)$/m,
  );
  expect(lastLine(r.out)).toMatch(/^\d+ passed, 0 failed$/);
  expect(r.code).toBe(0);
  // Everything verify created is in team-a, and deleted; team-b holds nothing of it.
  const inA = (await experimentsIn("team-a")).filter((e) => e.name.startsWith("mlflow-gate-verify-"));
  expect(inA.map((e) => e.name).sort()).toEqual([
    expect.stringMatching(/-[0-9a-f]{6}$/),
    expect.stringMatching(/-isolation$/),
  ]);
  expect(inA.every((e) => e.lifecycle_stage === "deleted")).toBe(true);
  expect((await experimentsIn("team-b")).filter((e) => e.name.startsWith("mlflow-gate-verify-"))).toEqual([]);
}, 300_000);

test("--dry-run names the teams, the callers of each and the isolation check, and sends nothing", async () => {
  const before = await experimentsIn("team-a");

  const r = await verify(stack.summary.gatewayUrl, "--dry-run");

  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^teams: team-a, team-b; the checks run in team-a \(http:\/\/127\.0\.0\.1:\d+\/ws\/team-a\)/m);
  expect(r.out).toMatch(/^profile mlflow-team-b-reader \(team-b-readers\) in team-b:$/m);
  expect(r.out).not.toMatch(/^profile mlflow-team-b-reader \(team-b-readers\) in team-a:$/m);
  expect(r.out).toMatch(
    /^ {2}allow GET \/ws\/team-b\/api\/2\.0\/mlflow-artifacts\/artifacts\/\{artifact_path\+\} \(DownloadArtifact, read\)$/m,
  );
  expect(r.out).toMatch(/^ {2}deny {2}POST \/ws\/team-b\/api\/2\.0\/mlflow\/runs\/log-inputs \(LogInputs, write\)$/m);
  expect(r.out).toMatch(
    /^isolation team-a\/team-b: mlflow-team-a-writer \(team-a-writers\) creates experiment mlflow-gate-verify-\S+-isolation and a run in team-a; mlflow-team-b-reader \(team-b-readers\) must not see them/m,
  );
  expect(await experimentsIn("team-a")).toEqual(before);
}, 60_000);

test("a gateway whose team files let team-b's groups into team-a: the isolation check fails, naming what got through", async () => {
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR, undefined, leakyTeamsDir);
  const url = await v.gateway(policySet, stack.guard.url);

  const r = await verify(url, "--artifact-mb", "11");

  expect(r.code).toBe(1);
  expect(r.out).toMatch(
    /^FAIL {2}isolation by id mlflow-team-b-reader \(team-b-readers\) through \/ws\/team-a\/: mlflow-team-b-reader gets past the gateway into team-a$/m,
  );
  expect(r.out).toMatch(/^ {8}run through \/ws\/team-a\/: expected API Gateway's 403, got 200 /m);
  expect(r.out).toMatch(/^FAIL {2}isolation write mlflow-team-b-writer \(team-b-writers\) into team-a: /m);
  // Inside team-b nothing changed: MLflow still scopes by workspace.
  expect(r.out).toMatch(/^PASS {2}isolation by id mlflow-team-b-reader \(team-b-readers\) through \/ws\/team-b\/: /m);
  // What got in is deleted all the same: team-a's run and experiment, and the run team-b's writer created there.
  expect(r.out).toMatch(
    /^PASS {2}cleanup isolation: deleted what the isolation check created in team-a \(3 objects\)$/m,
  );
  expect(lastLine(r.out)).toMatch(/^\d+ passed, [1-9]\d* failed$/);
}, 300_000);
