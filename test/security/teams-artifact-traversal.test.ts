import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { RawResponse, refusedByGuard, sendRaw } from "./support/attack";
import { principalHeaders, privateInWorkspace, TEAMS_STACK } from "./support/teams";

// MLflow 3.17's proxied artifact routes root a path at workspaces/<ws>/, except in `default`, where a path that
// does not start with `workspaces/` is left alone: `./workspaces/team-b/...` (or `%2E/`, `.%2F`, `%252E%252F`, or
// in `?path=`) reaches team-b's artifacts, and `workspaces` alone lists (and deletes) every team's folder
// (docs/guard.md, Artifact paths). Through the emulated API Gateway, as the admin in /ws/default/ (admins reach
// default) and as team-a's writer in /ws/team-a/, with bearer tokens (/ajax-api) and SigV4 (/api): every such
// path on every artifact route is refused, nothing of team-b is in a body, and team-b's artifact is still there.

let t: TestStack;
const tokens: Record<string, string> = {};
let storeFile: string;
let storeDir: string;
let teamBRelative: string;
let ownRun: Record<string, string>;
const SECRET = `team-b's secret ${Date.now()}`;

beforeAll(async () => {
  t = await startTestStack(TEAMS_STACK);
  // team-b's artifact, written as MLflow's proxy stores it: workspaces/team-b/<exp>/<run>/artifacts/secret.txt
  const exp = await privateInWorkspace(t, "team-b", "POST", "/api/2.0/mlflow/experiments/create", { name: "b" });
  const run = (
    await privateInWorkspace(t, "team-b", "POST", "/api/2.0/mlflow/runs/create", { experiment_id: exp.experiment_id })
  ).run.info;
  teamBRelative = `${exp.experiment_id}/${run.run_id}/artifacts/secret.txt`;
  await privateInWorkspace(t, "team-b", "PUT", `/api/2.0/mlflow-artifacts/artifacts/${teamBRelative}`, SECRET);
  expect(run.artifact_uri).toBe(`mlflow-artifacts:/workspaces/team-b/${exp.experiment_id}/${run.run_id}/artifacts`);
  storeDir = `workspaces/team-b/${exp.experiment_id}/${run.run_id}/artifacts`;
  storeFile = `${storeDir}/secret.txt`;
  // A run of the caller's own workspace, for the routes that read a path relative to a run.
  ownRun = {};
  for (const ws of ["default", "team-a"]) {
    const e = await privateInWorkspace(t, ws, "POST", "/api/2.0/mlflow/experiments/create", { name: `own-${ws}` });
    ownRun[ws] = (
      await privateInWorkspace(t, ws, "POST", "/api/2.0/mlflow/runs/create", { experiment_id: e.experiment_id })
    ).run.info.run_id;
  }
  for (const user of ["admin", "team-a-writer"]) tokens[user] = await demoAccessToken(t, user);
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;

interface Caller {
  readonly name: string;
  readonly workspace: string;
  readonly mode: "bearer" | "SigV4";
  readonly identity: string;
}
const CALLERS: Caller[] = [
  { name: "admin in /ws/default/ (bearer)", workspace: "default", mode: "bearer", identity: "admin" },
  { name: "admin in /ws/default/ (SigV4)", workspace: "default", mode: "SigV4", identity: "mlflow-admin" },
  { name: "team-a-writer in /ws/team-a/ (bearer)", workspace: "team-a", mode: "bearer", identity: "team-a-writer" },
  {
    name: "team-a-writer in /ws/team-a/ (SigV4)",
    workspace: "team-a",
    mode: "SigV4",
    identity: "mlflow-team-a-writer",
  },
];

/** One request as `caller` to MLflow's `route` (after /api/ or /ajax-api/, or from the root when it starts with `/`) in its workspace. */
async function send(caller: Caller, method: string, route: string, body = ""): Promise<RawResponse> {
  const mount = caller.mode === "bearer" ? "ajax-api/" : "api/";
  const [path, query = ""] = route.split("?") as [string, string?];
  // A route of MLflow's root (/get-artifact) has no mount.
  const wirePath = path.startsWith("/") ? `/ws/${caller.workspace}${path}` : `/ws/${caller.workspace}/${mount}${path}`;
  const auth: [string, string][] =
    caller.mode === "bearer"
      ? [["Authorization", `Bearer ${tokens[caller.identity]}`]]
      : await principalHeaders(t, caller.identity, method, wirePath, query, body);
  const target = query === "" ? wirePath : `${wirePath}?${query}`;
  const typed: [string, string][] = caller.mode === "bearer" ? [["Content-Type", "application/json"]] : [];
  return sendRaw(gateway(), { method, target, headers: [...auth, ...typed], body });
}

/** team-b's artifact, read as the admin in /ws/team-b/ (and so through the gateway and the guard). */
async function teamBArtifact(): Promise<RawResponse> {
  return sendRaw(gateway(), {
    method: "GET",
    target: `/ws/team-b/ajax-api/2.0/mlflow-artifacts/artifacts/${teamBRelative}`,
    headers: [["Authorization", `Bearer ${tokens.admin}`]],
  });
}

/** The ways to spell a store path that escapes the caller's workspace. */
const PATH_SPELLINGS = (p: () => string): [string, () => string][] => [
  ["./", () => `./${p()}`],
  ["%2E/", () => `%2E/${p()}`],
  [".%2F", () => `.%2F${p()}`],
  ["%2E%2F", () => `%2E%2F${p()}`],
  ["%252E%252F", () => `%252E%252F${p()}`],
  ["plain", p],
  ["Workspaces/ (case)", () => p().replace(/^workspaces/, "Workspaces")],
  ["%2F-joined", () => p().replace(/\//g, "%2F")],
];
const QUERY_SPELLINGS = (p: () => string): [string, () => string][] => [
  ["./", () => `./${p()}`],
  ["%2E/", () => `%2E/${p()}`],
  [".%2F", () => `.%2F${p()}`],
  ["%252E%252F", () => `%252E%252F${p()}`],
  ["plain", p],
  ["workspaces", () => "workspaces"],
  ["./workspaces", () => "./workspaces"],
  ["workspaces/team-b", () => "workspaces/team-b"],
];

/** Every artifact route, each with an escaping path in the place the route reads one. */
const ATTEMPTS = (caller: Caller): [string, string, string, string?][] => [
  ...PATH_SPELLINGS(() => storeFile).flatMap(([how, p]): [string, string, string, string?][] => [
    [`download ${how}`, "GET", `2.0/mlflow-artifacts/artifacts/${p()}`],
    [`delete ${how}`, "DELETE", `2.0/mlflow-artifacts/artifacts/${p()}`],
    [`upload ${how}`, "PUT", `2.0/mlflow-artifacts/artifacts/${p()}`, "overwritten"],
    [`mpu create ${how}`, "POST", `2.0/mlflow-artifacts/mpu/create/${p()}`, "{}"],
    [`mpu abort ${how}`, "POST", `2.0/mlflow-artifacts/mpu/abort/${p()}`, "{}"],
  ]),
  ...PATH_SPELLINGS(() => "workspaces").map(([how, p]): [string, string, string] => [
    `delete every team's folder ${how}`,
    "DELETE",
    `2.0/mlflow-artifacts/artifacts/${p()}`,
  ]),
  ...QUERY_SPELLINGS(() => storeDir).flatMap(([how, p]): [string, string, string][] => [
    [`list ?path= ${how}`, "GET", `2.0/mlflow-artifacts/artifacts?path=${p()}`],
    [`list ?path= twice ${how}`, "GET", `2.0/mlflow-artifacts/artifacts?path=&path=${p()}`],
  ]),
  // The routes whose path is relative to a run of the caller's own workspace: a climb to team-b's files.
  ...[`../../../../team-b/${teamBRelative.replace(/\/secret\.txt$/, "")}`, `./../../../../${storeDir}`].flatMap(
    (p): [string, string, string][] => [
      [`run artifact list ${p}`, "GET", `2.0/mlflow/artifacts/list?run_id=${ownRun[caller.workspace]}&path=${p}`],
      [
        `run artifact list (encoded) ${p}`,
        "GET",
        `2.0/mlflow/artifacts/list?run_id=${ownRun[caller.workspace]}&path=${encodeURIComponent(p)}`,
      ],
      // The UI's download route: bearer only (a SigV4 caller has no route there, API Gateway's 401).
      ...(caller.mode === "bearer"
        ? [
            [`run artifact download ${p}`, "GET", `/get-artifact?run_id=${ownRun[caller.workspace]}&path=${p}`] as [
              string,
              string,
              string,
            ],
          ]
        : []),
    ],
  ),
];

test("the control: team-b's artifact is there for the admin in /ws/team-b/, and MLflow itself lists every team's folder from default", async () => {
  const r = await teamBArtifact();
  expect([r.status, r.body]).toEqual([200, SECRET]);
  // Straight to MLflow, in default (no workspace header): the upstream issue this file guards against.
  const direct = await fetch(`${t.stack.summary.mlflowPrivateUrl}/api/2.0/mlflow-artifacts/artifacts?path=workspaces`);
  expect(await direct.json()).toEqual({ files: expect.arrayContaining([{ path: "team-b", is_dir: true }]) });
});

describe.each(CALLERS.map((c) => [c.name, c] as const))("%s", (_name, caller) => {
  test("the control: lists and reads in its own workspace", async () => {
    const list = await send(caller, "GET", "2.0/mlflow-artifacts/artifacts?path=");
    expect(list.status).toBe(200);
    expect(list.body).not.toContain("team-b");
    const runList = await send(caller, "GET", `2.0/mlflow/artifacts/list?run_id=${ownRun[caller.workspace]}`);
    expect(runList.status).toBe(200);
  });

  test("every escaping artifact path on every artifact route is refused; team-b's artifact is still there", async () => {
    const wrong: string[] = [];
    for (const [what, method, route, body] of ATTEMPTS(caller)) {
      const r = await send(caller, method, route, body);
      const left = await teamBArtifact();
      if (
        // Each is the guard's refusal: the gateway let the caller's route through, so the check is on the path.
        !refusedByGuard(r) ||
        r.status < 400 ||
        r.status >= 500 ||
        r.body.includes(SECRET) ||
        r.body.includes('"team-b"') ||
        left.status !== 200 ||
        left.body !== SECRET
      )
        wrong.push(`${what}: ${method} ${route} -> ${r.status} ${r.body.slice(0, 200)}; team-b's file: ${left.status}`);
    }
    expect(wrong).toEqual([]);
    // About 80 requests per caller, each followed by a read of team-b's file.
  }, 240_000);
});
