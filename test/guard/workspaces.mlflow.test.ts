import { RawAnswer, rawRequest } from "../support/raw-request";
import { Server } from "http";
import { authTypeOf, RouteMatcher } from "../../authorizer/core/catalog";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { PolicySet } from "../../authorizer/core/policy-set";
import { closeServer } from "../../common/http-server";
import { AuditRecord } from "../../guard/audit";
import { createGuardServer } from "../../guard/server";
import { GuardWorkspaces } from "../../guard/workspaces";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { listenOnLoopback } from "../support/loopback";
import { MlflowWithWorkspaces, startMlflowWithWorkspaces, startWireTap, WireTap } from "./support/mlflow-workspaces";

// The guard with teams in front of the real pinned MLflow with workspaces on (team-a, team-b and default), and a
// guard without teams in front of the same MLflow. MLflow is started once; what it stores is read straight from it.

const catalog = loadRouteCatalog(CATALOG_FILE);
const matcher = new RouteMatcher(catalog);
const PROMOTION = {
  policySet: PolicySet.fromFiles(catalog, loadGroupFiles(GROUPS_DIR)),
  iamGroups: new Map([["role/Approver", "model-approvers"]]),
};
/** Admins reach every workspace and manage them; a team's members reach their team. */
const WORKSPACES: GuardWorkspaces = {
  reachable: (groups) =>
    groups.includes("admins")
      ? "all"
      : new Set(groups.flatMap((g) => (g.endsWith("-members") ? [g.slice(0, -"-members".length)] : []))),
  mayManage: (groups) => groups.includes("admins"),
};

let mlflow: MlflowWithWorkspaces;
let tap: WireTap;
let teamsGuard: Server;
let teamsBase: URL;
let plainGuard: Server;
let plainBase: URL;
let audit: AuditRecord[] = [];
/** Ids of what the fixture made: team-b's experiment and run (with a secret artifact), team-a's experiment. */
const ids = { expA: "", expB: "", runB: "", runA: "" };

type Answer = RawAnswer;

/** A request exactly as given (target and headers unnormalised). */
const send = rawRequest;

/** Straight to MLflow, in a workspace (undefined: MLflow's default). */
function direct(method: string, target: string, workspace?: string, body?: string): Promise<Answer> {
  return send(
    mlflow.url,
    method,
    target,
    [
      ...(workspace !== undefined ? [["X-MLFLOW-WORKSPACE", workspace] as [string, string]] : []),
      ...(body !== undefined ? [["Content-Type", "application/json"] as [string, string]] : []),
    ],
    body,
  );
}
const json = (a: Answer) => JSON.parse(a.body) as Record<string, unknown>;

/** What API Gateway maps for a Cognito user; `workspace` for a route under /ws/{workspace}/. */
function cognito(method: string, path: string, groups: string, workspace?: string): [string, string][] {
  return [
    ["x-mlflow-gate-request-id", "AbCdEfGhIjKlMnO="],
    ["x-mlflow-gate-auth", "cognito"],
    ["x-mlflow-gate-principal", "sub-alice"],
    ["x-mlflow-gate-username", "alice"],
    ["x-mlflow-gate-groups", groups],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path.split("?")[0]!],
    ["x-mlflow-gate-source-ip", "203.0.113.9"],
    ...(workspace !== undefined ? [["x-mlflow-gate-workspace", workspace] as [string, string]] : []),
  ];
}
/** What API Gateway maps for a SigV4 caller. */
function iam(method: string, path: string, workspace?: string, role = "SageMakerRole"): [string, string][] {
  const arn = `arn:aws:sts::123456789012:assumed-role/${role}/job-1`;
  return [
    ["x-mlflow-gate-request-id", "PqRsTuVwXyZaBcD="],
    ["x-mlflow-gate-auth", "iam"],
    ["x-mlflow-gate-principal", arn],
    ["x-mlflow-gate-username", arn],
    ["x-mlflow-gate-groups", "(iam)"],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path.split("?")[0]!],
    ["x-mlflow-gate-source-ip", "10.0.1.23"],
    ...(workspace !== undefined ? [["x-mlflow-gate-workspace", workspace] as [string, string]] : []),
  ];
}

/** A request through the guard with teams, as API Gateway sends a SigV4 caller's request to `/ws/<team>/...`. */
function asTeam(team: string, method: string, mlflowPath: string, body?: string, extra: [string, string][] = []) {
  const target = `/ws/${team}${mlflowPath}`;
  const headers = [...iam(method, target, team), ...extra];
  if (body !== undefined) headers.push(["Content-Type", "application/json"]);
  return send(teamsBase, method, target, headers, body);
}

/** The experiments of every workspace, read straight from MLflow. */
async function experimentsEverywhere(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const ws of ["default", "team-a", "team-b"]) {
    const r = await direct("POST", "/api/2.0/mlflow/experiments/search", ws, '{"max_results": 100}');
    out[ws] = ((json(r).experiments ?? []) as { name: string }[]).map((e) => e.name).sort();
  }
  return out;
}
async function workspaceNames(): Promise<string[]> {
  const r = await direct("GET", "/api/3.0/mlflow/workspaces");
  return ((json(r).workspaces ?? []) as { name: string }[]).map((w) => w.name).sort();
}

const SECRET = "SECRET-OF-TEAM-B";
const artifactsOfB = () => `workspaces/team-b/${ids.expB}/${ids.runB}/artifacts`;
/** team-b's secret, listed straight from MLflow in team-b. */
async function secretListed(): Promise<boolean> {
  const r = await direct("GET", `/api/2.0/mlflow-artifacts/artifacts?path=${ids.expB}/${ids.runB}/artifacts`, "team-b");
  return r.status === 200 && r.body.includes("secret.txt");
}

beforeAll(async () => {
  mlflow = await startMlflowWithWorkspaces();
  for (const name of ["team-a", "team-b"]) {
    expect((await direct("POST", "/api/3.0/mlflow/workspaces", undefined, JSON.stringify({ name }))).status).toBe(201);
  }
  const create = async (ws: string | undefined, name: string) =>
    json(await direct("POST", "/api/2.0/mlflow/experiments/create", ws, JSON.stringify({ name })))
      .experiment_id as string;
  ids.expA = await create("team-a", "exp-a");
  ids.expB = await create("team-b", "exp-b");
  await create(undefined, "exp-default");
  const run = async (ws: string, exp: string) =>
    (
      json(await direct("POST", "/api/2.0/mlflow/runs/create", ws, JSON.stringify({ experiment_id: exp }))).run as {
        info: { run_id: string };
      }
    ).info.run_id;
  ids.runB = await run("team-b", ids.expB);
  ids.runA = await run("team-a", ids.expA);
  const put = await send(
    mlflow.url,
    "PUT",
    `/api/2.0/mlflow-artifacts/artifacts/${artifactsOfB()}/secret.txt`,
    [["X-MLFLOW-WORKSPACE", "team-b"]],
    SECRET,
  );
  expect(put.status).toBe(200);

  tap = await startWireTap(mlflow.url);
  const props = {
    stagePathPrefix: "",
    matcher,
    maxBodyBytes: 1024 * 1024,
    audit: (r: AuditRecord) => void audit.push(r),
    promotion: PROMOTION,
  };
  teamsGuard = createGuardServer({ ...props, upstream: tap.url, workspaces: WORKSPACES });
  teamsBase = await listenOnLoopback(teamsGuard);
  plainGuard = createGuardServer({ ...props, upstream: mlflow.url });
  plainBase = await listenOnLoopback(plainGuard);
}, 120_000);

afterAll(async () => {
  if (teamsGuard) await closeServer(teamsGuard);
  if (plainGuard) await closeServer(plainGuard);
  await tap?.close();
  await mlflow?.stop();
});

beforeEach(() => {
  audit = [];
  tap?.clear();
});

describe("a team's requests reach its MLflow workspace only", () => {
  test("team-a sees team-a's experiment, team-b's is not there; MLflow gets the team from the guard", async () => {
    // Act
    const a = await asTeam("team-a", "POST", "/api/2.0/mlflow/experiments/search", '{"max_results": 100}');
    const b = await asTeam("team-b", "POST", "/api/2.0/mlflow/experiments/search", '{"max_results": 100}');
    const cross = await asTeam("team-a", "GET", `/api/2.0/mlflow/experiments/get?experiment_id=${ids.expB}`);

    // Assess
    expect(a.status).toBe(200);
    expect((json(a).experiments as { name: string }[]).map((e) => e.name)).toEqual(["exp-a"]);
    expect((json(b).experiments as { name: string }[]).map((e) => e.name)).toEqual(["exp-b"]);
    expect(cross.status).toBe(404);
    // On the wire to MLflow: the path without /ws/<team>, the team's header once, none of ours.
    const wire = tap.sent();
    expect(wire).toContain("POST /api/2.0/mlflow/experiments/search HTTP/1.1");
    expect(wire).not.toContain("/ws/");
    expect(wire.match(/^x-mlflow-workspace: .*$/gim)).toEqual([
      "X-MLFLOW-WORKSPACE: team-a",
      "X-MLFLOW-WORKSPACE: team-b",
      "X-MLFLOW-WORKSPACE: team-a",
    ]);
    expect(wire.toLowerCase()).not.toContain("x-mlflow-gate-");
  });

  test("the audit line of a team's write records its workspace and the path as received", async () => {
    // Act
    const r = await asTeam(
      "team-a",
      "POST",
      "/api/2.0/mlflow/runs/create",
      JSON.stringify({ experiment_id: ids.expA }),
    );

    // Assess
    expect(r.status).toBe(200);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      workspace: "team-a",
      path: "/ws/team-a/api/2.0/mlflow/runs/create",
      action: "CreateRun",
      decision: "forwarded",
    });
  });

  test("the promotion rules read the version in the request's workspace", async () => {
    // Prepare: model m version 1 is in Production in team-a; in default, a version 1 of another m is in None.
    for (const ws of ["team-a", "default"]) {
      const exp = ws === "team-a" ? ids.expA : "0";
      const run = (
        json(await direct("POST", "/api/2.0/mlflow/runs/create", ws, JSON.stringify({ experiment_id: exp }))).run as {
          info: { run_id: string; artifact_uri: string };
        }
      ).info;
      await direct("POST", "/api/2.0/mlflow/registered-models/create", ws, '{"name": "m"}');
      const v = await direct(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        ws,
        JSON.stringify({ name: "m", source: `${run.artifact_uri}/model`, run_id: run.run_id }),
      );
      expect(v.status).toBe(200);
    }
    const toProduction = JSON.stringify({
      name: "m",
      version: "1",
      stage: "Production",
      archive_existing_versions: false,
    });
    expect(
      (await direct("POST", "/api/2.0/mlflow/model-versions/transition-stage", "team-a", toProduction)).status,
    ).toBe(200);
    const stageOf = async (ws: string) =>
      (
        json(await direct("GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1", ws)).model_version as {
          current_stage: string;
        }
      ).current_stage;

    // Act: a model approver (may move None/Staging/Archived, not Production) asks team-a to move it to Staging.
    const approver = await send(
      teamsBase,
      "POST",
      "/ws/team-a/api/2.0/mlflow/model-versions/transition-stage",
      [
        ...iam("POST", "/ws/team-a/api/2.0/mlflow/model-versions/transition-stage", "team-a", "Approver"),
        ["Content-Type", "application/json"],
      ],
      JSON.stringify({ name: "m", version: "1", stage: "Staging", archive_existing_versions: false }),
    );

    // Assess: the rule read team-a's version (Production) and refused; default's (None) would have allowed it.
    expect(approver.status).toBe(403);
    expect(await stageOf("team-a")).toBe("Production");
    expect(await stageOf("default")).toBe("None");
  });
});

describe("the team header: API Gateway's, once, in its spelling, equal to the path's team", () => {
  const path = "/ws/team-a/api/2.0/mlflow/experiments/create";
  const create = (headers: [string, string][], target = path, base = teamsBase) =>
    send(base, "POST", target, [...headers, ["Content-Type", "application/json"]], '{"name": "should-not-exist"}');
  const withoutWorkspace = iam("POST", path);

  test.each<[string, () => Promise<Answer>, number, string]>([
    [
      "another team mapped",
      () => create([...withoutWorkspace, ["x-mlflow-gate-workspace", "team-b"]]),
      400,
      "workspace-identity-mismatch",
    ],
    ["none mapped", () => create(withoutWorkspace), 400, "workspace-identity-missing"],
    [
      "two copies",
      () => create([...withoutWorkspace, ["x-mlflow-gate-workspace", "team-a"], ["x-mlflow-gate-workspace", "team-b"]]),
      400,
      "identity-header-repeated",
    ],
    [
      "another spelling",
      () => create([...withoutWorkspace, ["X-Mlflow-Gate-Workspace", "team-a"]]),
      400,
      "identity-header-spelling",
    ],
    [
      "a client's X-MLFLOW-WORKSPACE",
      () => create([...iam("POST", path, "team-a"), ["X-MLFLOW-WORKSPACE", "team-b"]]),
      400,
      "workspace-header",
    ],
    [
      "a client's x-mlflow-workspace",
      () => create([...iam("POST", path, "team-a"), ["x-mlflow-workspace", "team-b"]]),
      400,
      "workspace-header",
    ],
    [
      "a client's X-Mlflow-Workspace",
      () => create([...iam("POST", path, "team-a"), ["X-Mlflow-Workspace", "default"]]),
      400,
      "workspace-header",
    ],
    [
      "no team in the path (fail closed)",
      () => create(iam("POST", "/api/2.0/mlflow/experiments/create"), "/api/2.0/mlflow/experiments/create"),
      404,
      "workspace-path-required",
    ],
    [
      "a team that is no team name",
      () =>
        create(
          iam("POST", "/ws/Team-A/api/2.0/mlflow/experiments/create", "Team-A"),
          "/ws/Team-A/api/2.0/mlflow/experiments/create",
        ),
      404,
      "workspace-path-malformed",
    ],
    [
      "a team mapped without teams",
      () =>
        create(
          iam("POST", "/api/2.0/mlflow/experiments/create", "team-a"),
          "/api/2.0/mlflow/experiments/create",
          plainBase,
        ),
      400,
      "workspace-identity-unexpected",
    ],
  ])("refused: %s; MLflow unchanged", async (_why, act, status, reason) => {
    // Prepare
    const before = await experimentsEverywhere();

    // Act
    const r = await act();

    // Assess
    expect(r.status).toBe(status);
    expect(json(r)).toMatchObject({ reason });
    expect(typeof json(r).error_code).toBe("string");
    expect(await experimentsEverywhere()).toEqual(before);
    expect(tap.sent()).not.toContain("experiments/create");
  });

  test("public routes stay without a team; one under /ws/<team>/ is refused", async () => {
    const health = await send(teamsBase, "GET", "/health", []);
    const prefixed = await send(teamsBase, "GET", "/ws/team-a/health", []);
    expect(health.status).toBe(200);
    expect(prefixed.status).toBe(404);
    expect(json(prefixed)).toMatchObject({ reason: "workspace-on-public-route" });
  });

  test("a cookie MLflow's UI would turn into a workspace header never reaches MLflow", async () => {
    // Act
    const target = "/ws/team-a/ajax-api/2.0/mlflow/experiments/search";
    const r = await send(
      teamsBase,
      "POST",
      target,
      [
        ...cognito("POST", target, "team-a-members", "team-a"),
        ["Content-Type", "application/json"],
        ["Cookie", "keep=1; mlflow-request-header-X-MLFLOW-WORKSPACE=team-b; MLFLOW-REQUEST-HEADER-Authorization=x"],
      ],
      '{"max_results": 100}',
    );

    // Assess
    expect(r.status).toBe(200);
    expect((json(r).experiments as { name: string }[]).map((e) => e.name)).toEqual(["exp-a"]);
    expect(tap.sent()).toMatch(/^Cookie: keep=1\r$/m);
    expect(tap.sent().toLowerCase()).not.toContain("mlflow-request-header-");
  });
});

describe("MLflow's default-workspace artifact traversal is refused on every artifact route", () => {
  /** Requests for team-b's artifacts from the default workspace, each a route of the catalog. */
  const attacks = (): [string, string, string?][] => {
    const rel = artifactsOfB();
    const q = (v: string) => encodeURIComponent(v);
    const run = ids.runA;
    return [
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=./${rel}`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=${q(`./${rel}`)}`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=%252E%252F${rel}`],
      ["GET", `/ajax-api/2.0/mlflow-artifacts/artifacts?path=.%2F${rel}`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=workspaces`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts?path=1&path=./${rel}`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts/./${rel}/secret.txt`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts/%2E/${rel}/secret.txt`],
      ["GET", `/ajax-api/2.0/mlflow-artifacts/artifacts/.%2F${rel}/secret.txt`],
      ["GET", `/api/2.0/mlflow-artifacts/artifacts/%252E/${rel}/secret.txt`],
      ["PUT", `/api/2.0/mlflow-artifacts/artifacts/%2E/${rel}/planted.txt`],
      ["PUT", `/ajax-api/2.0/mlflow-artifacts/artifacts/workspaces/planted.txt`],
      ["DELETE", `/api/2.0/mlflow-artifacts/artifacts/%2E/${rel}/secret.txt`],
      ["DELETE", `/api/2.0/mlflow-artifacts/artifacts/workspaces`],
      ["DELETE", `/ajax-api/2.0/mlflow-artifacts/artifacts/./${rel}`],
      ["POST", `/api/2.0/mlflow-artifacts/mpu/create/workspaces`],
      ["POST", `/api/2.0/mlflow-artifacts/mpu/complete/%2E/${rel}/secret.txt`],
      ["POST", `/ajax-api/2.0/mlflow-artifacts/mpu/abort/workspaces`],
      ["GET", `/api/2.0/mlflow-artifacts/presigned/workspaces`],
      ["GET", `/api/2.0/mlflow/artifacts/list?run_id=${run}&path=./x`],
      ["GET", `/ajax-api/2.0/mlflow/artifacts/list?run_id=${run}&path=%2E%2E%2Fx`],
      ["GET", `/get-artifact?run_id=${run}&path=.%2Fx`],
      ["GET", `/model-versions/get-artifact?name=m&version=1&path=./MLmodel`],
      ["POST", `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${run}&path=.%2Fplanted.txt`],
      ["GET", `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-1&path=./x`],
      ["GET", `/ajax-api/3.0/mlflow/get-trace-artifact?request_id=tr-1&path=%5Cx`],
      ["GET", `/ajax-api/2.0/mlflow/logged-models/m-1/artifacts/files?artifact_file_path=./x`],
      ["GET", `/api/2.0/mlflow/logged-models/m-1/artifacts/directories?artifact_directory_path=%2Fetc`],
      ["GET", `/ajax-api/2.0/mlflow/logged-models/m-1/artifacts/directories?artifact_directory_path=a/../b`],
      ["POST", `/api/2.0/mlflow/artifacts/presigned-upload-url`, JSON.stringify({ run_id: run, path: "./x" })],
      [
        "POST",
        `/ajax-api/2.0/mlflow/artifacts/presigned-download-url`,
        JSON.stringify({ run_id: run, path: "%2E%2E/x" }),
      ],
    ];
  };
  /** A caller's request as API Gateway sends it: each surface on its own routes. */
  const through = (base: URL, method: string, target: string, team?: string, jsonBody?: string) => {
    const full = team === undefined ? target : `/ws/${team}${target}`;
    const identity =
      authTypeOf(target, "read") === "cognito" ? cognito(method, full, "admins", team) : iam(method, full, team);
    if (jsonBody !== undefined) identity.push(["Content-Type", "application/json"]);
    return send(base, method, full, identity, jsonBody ?? (method === "PUT" || method === "POST" ? "x" : undefined));
  };

  test("MLflow itself, in its default workspace, reads, lists and deletes team-b's artifacts", async () => {
    const rel = artifactsOfB();
    const listed = await direct("GET", `/api/2.0/mlflow-artifacts/artifacts?path=./${rel}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toContain("secret.txt");
    const teams = await direct("GET", "/api/2.0/mlflow-artifacts/artifacts?path=workspaces");
    expect(teams.body).toContain("team-b");
    for (const target of [`%2E/${rel}/secret.txt`, `.%2F${rel}/secret.txt`]) {
      const read = await direct("GET", `/api/2.0/mlflow-artifacts/artifacts/${target}`);
      expect(read.status).toBe(200);
      expect(read.body).toBe(SECRET);
    }
    const deleted = await direct("DELETE", `/api/2.0/mlflow-artifacts/artifacts/%2E/${rel}/secret.txt`);
    expect(deleted.status).toBe(200);
    expect(await secretListed()).toBe(false);
    // Put back for the guard's tests.
    const put = await send(
      mlflow.url,
      "PUT",
      `/api/2.0/mlflow-artifacts/artifacts/${rel}/secret.txt`,
      [["X-MLFLOW-WORKSPACE", "team-b"]],
      SECRET,
    );
    expect(put.status).toBe(200);
    expect(await secretListed()).toBe(true);
  });

  test.each([
    ["without teams (MLflow's default workspace)", "plain"],
    ["with teams, in /ws/default/", "default"],
    ["with teams, in /ws/team-a/", "team-a"],
  ])("refused %s, and nothing changed in MLflow", async (_how, mode) => {
    for (const [method, target, body] of attacks()) {
      const r =
        mode === "plain"
          ? await through(plainBase, method, target, undefined, body)
          : await through(teamsBase, method, target, mode, body);
      expect([method, target, r.status]).toEqual([method, target, expect.any(Number)]);
      expect(r.status === 400 || r.status === 403 || r.status === 404 ? "4xx" : `${r.status} ${r.body}`).toBe("4xx");
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain("team-b");
      expect(json(r).reason).toEqual(
        expect.stringMatching(/^(artifact-path-unsafe|artifact-path-workspace|dot-segment|encoded-separator)$/),
      );
    }
    expect(await secretListed()).toBe(true);
    const root = await direct("GET", "/api/2.0/mlflow-artifacts/artifacts?path=workspaces/team-b", "team-b");
    expect(root.body).not.toContain("planted");
  });

  test("the same routes with plain paths still reach MLflow", async () => {
    const rel = `${ids.expB}/${ids.runB}/artifacts`;
    const listed = await asTeam("team-b", "GET", `/api/2.0/mlflow-artifacts/artifacts?path=${rel}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toContain("secret.txt");
    const read = await asTeam(
      "team-b",
      "GET",
      `/api/2.0/mlflow-artifacts/artifacts/workspaces/team-b/${rel}/secret.txt`,
    );
    expect(read.body).toBe(SECRET);
    const fromA = await asTeam("team-a", "GET", `/api/2.0/mlflow-artifacts/artifacts?path=${rel}`);
    expect(fromA.body).not.toContain("secret.txt");
  });
});

describe("workspaces themselves", () => {
  const WS = "/ajax-api/3.0/mlflow/workspaces";
  const asUser = (groups: string, method: string, mlflowPath: string, body?: string, team = "team-a") => {
    const target = `/ws/${team}${mlflowPath}`;
    return send(
      teamsBase,
      method,
      target,
      [
        ...cognito(method, target, groups, team),
        ...(body !== undefined ? [["Content-Type", "application/json"] as [string, string]] : []),
      ],
      body,
    );
  };

  test("a team's member may not create, update or delete workspaces; MLflow unchanged", async () => {
    const before = await workspaceNames();
    const answers = [
      await asUser("team-a-members", "POST", WS, '{"name": "team-z"}'),
      await asUser("team-a-members", "PATCH", `${WS}/team-a`, '{"description": "x"}'),
      await asUser("team-a-members", "DELETE", `${WS}/team-b`),
    ];
    expect(answers.map((a) => [a.status, json(a).reason])).toEqual([
      [403, "workspace-manage-denied"],
      [403, "workspace-manage-denied"],
      [403, "workspace-manage-denied"],
    ]);
    expect(await workspaceNames()).toEqual(before);
    const a = json(await direct("GET", "/api/3.0/mlflow/workspaces/team-a")).workspace as { description?: string };
    expect(a.description).toBeUndefined();
  });

  test("an admin creates, updates and deletes one", async () => {
    const created = await asUser("admins", "POST", WS, '{"name": "team-z"}');
    expect(created.status).toBe(201);
    expect(json(created)).toEqual({ workspace: { name: "team-z" } });
    const updated = await asUser("admins", "PATCH", `${WS}/team-z`, '{"description": "zed"}');
    expect(json(updated)).toEqual({ workspace: { name: "team-z", description: "zed" } });
    const deleted = await asUser("admins", "DELETE", `${WS}/team-z`);
    expect(deleted.status).toBe(204);
    expect(await workspaceNames()).toEqual(["default", "team-a", "team-b"]);
  });

  test("GetWorkspace of a workspace the groups do not reach is refused", async () => {
    const own = await asUser("team-a-members", "GET", `${WS}/team-a`);
    const other = await asUser("team-a-members", "GET", `${WS}/team-b`);
    expect(own.status).toBe(200);
    expect(json(own)).toEqual({ workspace: { name: "team-a" } });
    expect(other.status).toBe(403);
    expect(json(other)).toMatchObject({ error_code: "PERMISSION_DENIED", reason: "workspace-not-reachable" });
  });

  test("ListWorkspaces: MLflow's answer with only the reached workspaces; all for admins", async () => {
    const member = await asUser("team-a-members", "GET", WS);
    const both = await asUser("team-a-members,team-b-members", "GET", WS);
    const admin = await asUser("admins", "GET", WS);
    expect(member.status).toBe(200);
    expect(json(member)).toEqual({ workspaces: [{ name: "team-a" }] });
    expect((json(both).workspaces as { name: string }[]).map((w) => w.name)).toEqual(["team-a", "team-b"]);
    expect((json(admin).workspaces as { name: string }[]).map((w) => w.name)).toEqual(["default", "team-a", "team-b"]);
  });
});
