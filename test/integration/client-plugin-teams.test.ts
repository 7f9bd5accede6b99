import { createHash, randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { EXAMPLE_TEAMS_DIR, REPO_ROOT } from "../../project/paths";
import { runPython } from "../support/python";
import { cliEnv, CliRun, runCliProcess } from "../scripts/support/run-cli";
import { bearerEnv, OpResult, Plan, pluginOps, sdkEnv, startTestStack, TestStack } from "./support/stack";

// Clients with a team's tracking URI (`<gateway>/ws/<team>`) on a real local stack with the demo teams: the plugin
// (MLFLOW_TRACKING_AUTH=mlflow-gate) signing with SigV4 and sending a Cognito user's token, and `mlflow-gate sign`.
// Runs, artifacts (small, and large ones in parts to presigned URLs) and the registry work inside the team; the
// other team's callers are refused through its path and find nothing through their own. The private MLflow, read
// in a workspace, is the witness of where things landed.

let t: TestStack;
let gw: string;
let work: string;
beforeAll(async () => {
  t = await startTestStack({ env: { MLFLOW_GATE_TEAMS_DIR: EXAMPLE_TEAMS_DIR } });
  gw = t.stack.summary.gatewayUrl;
  work = mkdtempSync(join(tmpdir(), "mlflow-gate-clients-teams-"));
}, 240_000);
afterAll(async () => {
  await t?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** This checkout's plugin, whichever checkout .venv's editable install points at (a git worktree shares .venv). */
const PLUGIN_SOURCE = { PYTHONPATH: join(REPO_ROOT, "clients", "python", "src") };

/** The plugin's SDK operations as a profile, with the tracking URI of a team (or any URI given). */
function asProfile(profile: string, trackingUri: string, plan: Plan): Promise<Record<string, OpResult>> {
  return pluginOps(t.stack, profile, plan, { ...PLUGIN_SOURCE, MLFLOW_TRACKING_URI: trackingUri });
}

/** The plugin's SDK operations as a demo user (bearer mode), with the tracking URI given. */
function asUser(username: string, trackingUri: string, plan: Plan): Promise<Record<string, OpResult>> {
  const user = t.stack.summary.demoUsers.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  return pluginOps(t.stack, "nobody", plan, {
    ...PLUGIN_SOURCE,
    ...bearerEnv(t.stack, user),
    MLFLOW_TRACKING_URI: trackingUri,
  });
}

/** The private MLflow, in one workspace: what arrived where. */
async function inWorkspace(workspace: string, plan: Plan): Promise<Record<string, OpResult>> {
  const r = await runPython([join("test", "integration", "python", "plugin_ops.py"), JSON.stringify(plan)], {
    ...sdkEnv(t.stack, "private"),
    MLFLOW_WORKSPACE: workspace,
  });
  if (r.code !== 0) throw new Error(`plugin_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, OpResult>;
}

function failures(results: Record<string, OpResult>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${r.error}`);
}

/** Past API Gateway's 10 MB: uploaded in parts to presigned URLs, downloaded through one. */
const LARGE = 12 * 1024 * 1024 + 5;

describe("the plugin with SigV4 and MLFLOW_TRACKING_URI=<gateway>/ws/team-a", () => {
  let runId: string;

  test("team-a's writer logs a run, a metric, a text and a large artifact; team-a's reader reads them; MLflow holds them in team-a", async () => {
    const r = await asProfile("mlflow-team-a-writer", `${gw}/ws/team-a`, [
      ["exp", "create_experiment", { name: "teams plugin sigv4" }],
      ["run", "create_run", { experiment_id: "$exp" }],
      ["metric", "log_metric", { run_id: "$run.run_id", key: "loss", value: 0.5 }],
      ["text", "log_text_artifact", { run_id: "$run.run_id", path: "notes/hello team.txt", text: "team-a\n" }],
      ["large", "log_large_artifact", { run_id: "$run.run_id", path: "weights.bin", size: LARGE }],
    ]);
    expect(failures(r)).toEqual([]);
    runId = r.run!.value.run_id;

    const read = await asProfile("mlflow-team-a-reader", `${gw}/ws/team-a`, [
      ["loss", "get_metric_history", { run_id: runId, key: "loss" }],
      ["text", "read_artifact", { run_id: runId, path: "notes/hello team.txt" }],
      ["large", "large_artifact_digest", { run_id: runId, path: "weights.bin" }],
    ]);
    expect(failures(read)).toEqual([]);
    expect(read.loss!.value.map((m: { value: number }) => m.value)).toEqual([0.5]);
    expect(read.text!.value).toBe("team-a\n");
    expect(read.large!.value).toMatchObject({ sha256: r.large!.value.sha256, size: LARGE });
    // The large file went to S3 in parts, never through the API's 10 MB.
    expect(t.accessLog.filter((e) => e.method === "PUT" && e.path.includes("weights.bin"))).toEqual([]);

    const seen = await inWorkspace("team-a", [
      ["run", "get_run", { run_id: runId }],
      ["large", "large_artifact_digest", { run_id: runId, path: "weights.bin" }],
    ]);
    expect(seen.run).toMatchObject({ ok: true, value: { run_id: runId } });
    expect(seen.large!.value.sha256).toBe(r.large!.value.sha256);
    const elsewhere = await inWorkspace("team-b", [["run", "get_run", { run_id: runId }]]);
    expect(elsewhere.run).toMatchObject({ ok: false, status: 404 });
  }, 300_000);

  test("team-a's model approver registers a model and a version of the run; team-a's reader finds it, team-b's reader does not", async () => {
    const r = await asProfile("mlflow-team-a-model-approver", `${gw}/ws/team-a`, [
      ["model", "create_registered_model", { name: "teams plugin model" }],
      [
        "version",
        "create_model_version",
        { name: "teams plugin model", source: `runs:/${runId}/model`, run_id: runId },
      ],
    ]);
    expect(failures(r)).toEqual([]);

    const a = await asProfile("mlflow-team-a-reader", `${gw}/ws/team-a`, [["models", "search_registered_models", {}]]);
    const b = await asProfile("mlflow-team-b-reader", `${gw}/ws/team-b`, [
      ["models", "search_registered_models", {}],
      ["model", "get_registered_model", { name: "teams plugin model" }],
    ]);
    const bThroughA = await asProfile("mlflow-team-b-reader", `${gw}/ws/team-a`, [
      ["models", "search_registered_models", {}],
    ]);

    expect(a.models!.value.map((m: { name: string }) => m.name)).toEqual(["teams plugin model"]);
    expect(b.models).toMatchObject({ ok: true, value: [] });
    expect(b.model).toMatchObject({ ok: false, status: 404 });
    expect(bThroughA.models).toMatchObject({ ok: false, status: 403 });
    expect(bThroughA.models!.error).toMatch(
      /PERMISSION_DENIED: User: \S+mlflow-team-b-reader is not authorized .*\/ws\/team-a\//,
    );
  }, 300_000);
});

describe("the plugin in bearer mode with a team's tracking URI", () => {
  test("team-a's writer (a Cognito user), with a trailing / on the URI, logs a run and a large artifact; team-b's reader is refused through /ws/team-a and finds nothing through /ws/team-b", async () => {
    const r = await asUser("team-a-writer", `${gw}/ws/team-a/`, [
      ["exp", "create_experiment", { name: "teams plugin bearer" }],
      ["run", "create_run", { experiment_id: "$exp" }],
      ["text", "log_text_artifact", { run_id: "$run.run_id", path: "notes/bearer.txt", text: "by a user\n" }],
      ["large", "log_large_artifact", { run_id: "$run.run_id", path: "large.bin", size: LARGE }],
      ["back", "large_artifact_digest", { run_id: "$run.run_id", path: "large.bin" }],
    ]);
    expect(failures(r)).toEqual([]);
    expect(r.back!.value.sha256).toBe(r.large!.value.sha256);
    const runId = r.run!.value.run_id;
    // The SDK's /api/ requests went to the UI routes of the team, with the user's token.
    expect(t.accessLog.some((e) => e.path === "/ws/team-a/ajax-api/2.0/mlflow/runs/create" && e.status === 200)).toBe(
      true,
    );

    const throughA = await asUser("team-b-reader", `${gw}/ws/team-a`, [["run", "get_run", { run_id: runId }]]);
    const throughB = await asUser("team-b-reader", `${gw}/ws/team-b`, [
      ["run", "get_run", { run_id: runId }],
      ["exp", "get_experiment_by_name", { name: "teams plugin bearer" }],
    ]);
    const owner = await asUser("team-a-reader", `${gw}/ws/team-a`, [
      ["text", "read_artifact", { run_id: runId, path: "notes/bearer.txt" }],
    ]);

    expect(throughA.run).toMatchObject({ ok: false, status: 403 });
    expect(throughB.run).toMatchObject({ ok: false, status: 404 });
    expect(throughB.exp).toMatchObject({ ok: true, value: null });
    expect(owner.text).toMatchObject({ ok: true, value: "by a user\n" });
    const seen = await inWorkspace("team-a", [["who", "run_identity", { run_id: runId }]]);
    expect(seen.who!.value).toEqual({ user_id: "team-a-writer", user_tag: "team-a-writer" });
  }, 300_000);
});

describe("mlflow-gate sign with a team's URL", () => {
  const sign = (args: string[]): Promise<CliRun> =>
    runCliProcess(["sign", ...args], {
      env: cliEnv({
        AWS_SHARED_CREDENTIALS_FILE: t.stack.summary.awsCredentialsFile,
        AWS_CONFIG_FILE: t.stack.summary.awsConfigFile,
      }),
    });

  test("team-a's writer creates an experiment under /ws/team-a/; team-a's reader finds it by a name with a space; team-b's reader gets IAM's 403 through /ws/team-a/ and MLflow's 404 through /ws/team-b/", async () => {
    const created = await sign([
      "--profile",
      "mlflow-team-a-writer",
      "-d",
      '{"name": "signed in team-a"}',
      `${gw}/ws/team-a/api/2.0/mlflow/experiments/create`,
    ]);
    const query = "experiment_name=signed+in+team-a";
    const found = await sign([
      "--profile",
      "mlflow-team-a-reader",
      `${gw}/ws/team-a/api/2.0/mlflow/experiments/get-by-name?${query}`,
    ]);
    const other = await sign([
      "--profile",
      "mlflow-team-b-reader",
      `${gw}/ws/team-a/api/2.0/mlflow/experiments/get-by-name?${query}`,
    ]);
    const own = await sign([
      "--profile",
      "mlflow-team-b-reader",
      `${gw}/ws/team-b/api/2.0/mlflow/experiments/get-by-name?${query}`,
    ]);

    expect(created.stderr).toBe("HTTP 200 OK\n");
    const id = (JSON.parse(created.stdout) as { experiment_id: string }).experiment_id;
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({
      experiment: { experiment_id: id, name: "signed in team-a", workspace: "team-a" },
    });
    expect(other.code).toBe(3);
    expect(other.stderr).toBe("HTTP 403 Forbidden\n");
    expect(JSON.parse(other.stdout).Message).toMatch(
      /^User: arn:aws:iam::\d{12}:user\/mlflow-team-b-reader is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:[^/]+\/[^/]+\/GET\/ws\/team-a\/api\/2\.0\/mlflow\/experiments\/get-by-name$/,
    );
    expect(own.code).toBe(3);
    expect(JSON.parse(own.stdout)).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
  }, 300_000);

  test("a binary artifact PUT under /ws/team-a/ by team-a's writer comes back byte-identical to team-a's reader; team-b's writer may not PUT there and finds nothing under /ws/team-b/", async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    const file = join(work, "weights.bin");
    writeFileSync(file, data);
    const url = (team: string, name: string) =>
      `${gw}/ws/${team}/api/2.0/mlflow-artifacts/artifacts/sign-teams/${name}`;

    const put = await sign([
      "--profile",
      "mlflow-team-a-writer",
      "-X",
      "PUT",
      "-d",
      `@${file}`,
      url("team-a", "weights.bin"),
    ]);
    const get = await runCliProcess(["sign", "--profile", "mlflow-team-a-reader", url("team-a", "weights.bin")], {
      env: cliEnv({
        AWS_SHARED_CREDENTIALS_FILE: t.stack.summary.awsCredentialsFile,
        AWS_CONFIG_FILE: t.stack.summary.awsConfigFile,
      }),
    });
    const refused = await sign([
      "--profile",
      "mlflow-team-b-writer",
      "-X",
      "PUT",
      "-d",
      `@${file}`,
      url("team-a", "other.bin"),
    ]);
    const notInB = await sign(["--profile", "mlflow-team-b-writer", url("team-b", "weights.bin")]);

    expect(put.stderr).toBe("HTTP 200 OK\n");
    expect(get.code).toBe(0);
    expect(createHash("sha256").update(get.stdoutBytes).digest("hex")).toBe(
      createHash("sha256").update(data).digest("hex"),
    );
    expect(refused.stderr).toBe("HTTP 403 Forbidden\n");
    expect(notInB.code).toBe(3);
    expect(notInB.stderr).not.toBe("HTTP 200 OK\n");
  }, 300_000);
});
