import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { MLFLOW_WORKSPACE_HEADER } from "../../authorizer/core/contract";
import { ConfigError } from "../../authorizer/core/errors";
import {
  mlflowProcessEnv,
  mlflowServerOptions,
  MlflowOptions,
  RunningMlflow,
  startMlflow,
} from "../../local/mlflow-server";
import { isTeamName } from "../../authorizer/core/contract";
import { listMlflowWorkspaces, parseWorkspaceNames } from "../../local/mlflow-workspaces";
import { LOCAL_ARTIFACT_BUCKET, RunningS3, s3Directory, startS3Emulator } from "../../local/s3-emulator";
import { runPython } from "../support/python";
import { mlflowCall, runIdsIn } from "./support/mlflow-rest";

describe("parseWorkspaceNames: team names become MLflow workspaces", () => {
  test("duplicates are dropped and default is left out (MLflow always has it and refuses to create it)", () => {
    expect(parseWorkspaceNames(["team-a", "default", "team-b", "team-a"])).toEqual(["team-a", "team-b"]);
  });

  test("every name that is not a team name, or that MLflow would refuse, is reported at once before MLflow starts", () => {
    const error = (() => {
      try {
        parseWorkspaceNames(["team-a", "Team-B", "../x", "ok", "a", "team-", "api"]);
      } catch (e) {
        return e as ConfigError;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toEqual([
      expect.stringContaining('"Team-B" is not a team name'),
      expect.stringContaining('"../x" is not a team name'),
      expect.stringContaining('"a" is not a team name'),
      expect.stringContaining('"team-" is not a team name'),
      expect.stringContaining('"api" is not a team name'),
    ]);
  });

  test("every team name (isTeamName) is a workspace name the pinned MLflow's WorkspaceNameValidator accepts", async () => {
    // Prepare: names at each edge of the rule.
    const names = ["a", "ab", "a-b", "team-", "-ab", "9lives", "api", "ajax-api", "static-files", "workspaces"];
    names.push("x".repeat(63), "x".repeat(64), "Ab", "a_b");
    const probe = [
      "import json, sys",
      "from mlflow.store.workspace.abstract_store import WorkspaceNameValidator as V",
      "def ok(n):",
      "    try:",
      "        V.validate(n); return True",
      "    except Exception:",
      "        return False",
      "print(json.dumps([ok(n) for n in json.loads(sys.argv[1])]))",
    ].join("\n");

    // Act
    const r = await runPython(["-c", probe, JSON.stringify(names)], mlflowProcessEnv({ PATH: process.env.PATH }));

    // Assess
    expect(r.code).toBe(0);
    const mlflow = JSON.parse(r.stdout) as boolean[];
    // Ours is MLflow's, narrowed to names starting with a letter: the rule must never accept what MLflow refuses.
    expect(names.map(isTeamName)).toEqual(mlflow.map((ok, i) => ok && /^[a-z]/.test(names[i] as string)));
    expect(mlflow.filter(Boolean).length).toBeGreaterThan(2);
  }, 60_000);
});

test("without workspaces, mlflow server's options are those of the single-team stack", () => {
  const options = mlflowServerOptions("/d", "127.0.0.1", 5000);

  expect(options).not.toContain("--enable-workspaces");
  expect(mlflowServerOptions("/d", "127.0.0.1", 5000, undefined, true)).toEqual([...options, "--enable-workspaces"]);
});

describe("MLflow with team workspaces (the real MLflow, artifacts in the S3 emulator as in the stack)", () => {
  const dirs: string[] = [];
  let s3: RunningS3 | undefined;
  let mlflow: RunningMlflow | undefined;
  const lines: string[] = [];
  let dataDir = "";
  afterAll(async () => {
    await mlflow?.stop();
    await s3?.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), "mlflow-ws-"));
    dirs.push(d);
    return d;
  };
  const options = (extra: Partial<MlflowOptions>): MlflowOptions => ({
    dataDir,
    host: "127.0.0.1",
    port: 0,
    portVariable: "MLFLOW_GATE_MLFLOW_PORT",
    log: (l) => lines.push(l),
    ...extra,
  });

  beforeAll(async () => {
    dataDir = newDir();
    s3 = await startS3Emulator({
      dataDir,
      host: "127.0.0.1",
      port: 0,
      portVariable: "MLFLOW_GATE_S3_PORT",
      region: "us-east-1",
    });
  }, 60_000);

  let runId = "";
  let artifactUri = "";

  test("starting with workspaces creates each missing one, says so, and default is there as always", async () => {
    mlflow = await startMlflow(
      options({
        workspaces: ["team-a", "team-b", "default"],
        artifactStore: s3,
        restart: { log: (l) => lines.push(l), initialDelayMs: 100 },
      }),
    );

    expect(lines).toEqual(["mlflow        created workspace team-a", "mlflow        created workspace team-b"]);
    expect((await listMlflowWorkspaces(mlflow.url)).sort()).toEqual(["default", "team-a", "team-b"]);
  }, 60_000);

  test("a run logged in team-a is seen in team-a only: not in team-b, not in default", async () => {
    const m = mlflow as RunningMlflow;
    const experiment = await mlflowCall(m, "POST", "/api/2.0/mlflow/experiments/create", { name: "churn" }, "team-a");
    expect(experiment.status).toBe(200);
    const run = await mlflowCall(
      m,
      "POST",
      "/api/2.0/mlflow/runs/create",
      { experiment_id: experiment.json.experiment_id },
      "team-a",
    );
    expect(run.status).toBe(200);
    const info = (run.json.run as { info: { run_id: string; artifact_uri: string } }).info;
    [runId, artifactUri] = [info.run_id, info.artifact_uri];

    expect(await runIdsIn(m, "team-a")).toEqual([runId]);
    expect(await runIdsIn(m, "team-b")).toEqual([]);
    expect(await runIdsIn(m, undefined)).toEqual([]);
    expect((await mlflowCall(m, "GET", `/api/2.0/mlflow/runs/get?run_id=${runId}`, undefined, "team-b")).status).toBe(
      404,
    );
    // The same experiment name is free in another workspace.
    expect(
      (await mlflowCall(m, "POST", "/api/2.0/mlflow/experiments/create", { name: "churn" }, "team-b")).status,
    ).toBe(200);
  });

  test("a team's artifacts go to workspaces/<team>/ under the bucket's prefix", async () => {
    // Prepare: the run's artifact URI names the workspace; the upload goes through MLflow's proxy.
    expect(artifactUri).toMatch(new RegExp(`^mlflow-artifacts:/workspaces/team-a/\\d+/${runId}/artifacts$`));
    const key = `${artifactUri.slice("mlflow-artifacts:/".length)}/a.txt`;

    const put = await fetch(new URL(`/api/2.0/mlflow-artifacts/artifacts/${key}`, (mlflow as RunningMlflow).url), {
      method: "PUT",
      headers: { [MLFLOW_WORKSPACE_HEADER]: "team-a" },
      body: "hello",
    });

    expect(put.status).toBe(200);
    expect(readFileSync(join(s3Directory(dataDir), LOCAL_ARTIFACT_BUCKET, "artifacts", key), "utf8")).toBe("hello");
  });

  test("MLflow restarted by the supervisor comes back with its workspaces and creates nothing", async () => {
    const m = mlflow as RunningMlflow;
    lines.length = 0;
    process.kill(-(m.pid as number), "SIGKILL");

    const deadline = Date.now() + 45_000;
    while (!lines.some((l) => /restarted on/.test(l)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));

    expect(lines.filter((l) => /created workspace/.test(l))).toEqual([]);
    expect(lines.some((l) => /restarted on/.test(l))).toBe(true);
    expect(await runIdsIn(m, "team-a")).toEqual([runId]);
  }, 60_000);

  test("starting again (a second npm start) creates none; a new team file's workspace is created alone", async () => {
    await mlflow?.stop();
    lines.length = 0;

    mlflow = await startMlflow(options({ workspaces: ["team-a", "team-b", "team-c"], artifactStore: s3 }));

    expect(lines).toEqual(["mlflow        created workspace team-c"]);
    expect(await runIdsIn(mlflow, "team-a")).toEqual([runId]);
  }, 60_000);

  test("the same database started without workspaces is refused by MLflow, with a hint", async () => {
    await mlflow?.stop();
    mlflow = undefined;

    await expect(startMlflow(options({ artifactStore: s3 }))).rejects.toThrow(
      /Cannot disable workspaces[\s\S]*this database holds team workspaces/,
    );
  }, 60_000);
});
