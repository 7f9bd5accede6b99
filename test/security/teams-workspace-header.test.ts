import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { RawResponse, refusedByGuard, sendRaw } from "./support/attack";
import { principalHeaders, privateInWorkspace, TEAMS_STACK, workspaceState } from "./support/teams";

// MLflow picks a request's workspace from its X-MLFLOW-WORKSPACE header alone, and its UI (in the browser) turns a cookie
// `mlflow-request-header-<name>` into that header: a team-a reader who could set it would read team-b. Raw HTTP
// through the emulated API Gateway, as team-a-reader with a bearer token (/ajax-api) and as its role with SigV4
// (/api): MLflow's header in any letter case, twice, as a cookie, the API's own mapped header forged, and paths
// that spell another team; each is refused or answers team-a's data only, and nothing of team-b is ever in a body.
// (A refusal may name the path it refused, `team-b` included: what must never be in a body is team-b's data.)

let t: TestStack;
let readerToken: string;
let before: string[];

const TEAM_A_MARK = "team-a-visible";
const TEAM_B_MARK = "team-b-hidden";

beforeAll(async () => {
  t = await startTestStack(TEAMS_STACK);
  for (const [team, mark] of [
    ["team-a", TEAM_A_MARK],
    ["team-b", TEAM_B_MARK],
  ] as const) {
    const exp = await privateInWorkspace(t, team, "POST", "/api/2.0/mlflow/experiments/create", { name: mark });
    await privateInWorkspace(t, team, "POST", "/api/2.0/mlflow/runs/create", {
      experiment_id: exp.experiment_id,
      run_name: `${mark}-run`,
    });
    await privateInWorkspace(t, team, "POST", "/api/2.0/mlflow/registered-models/create", { name: `${mark}-model` });
  }
  readerToken = await demoAccessToken(t, "team-a-reader");
  before = [await workspaceState(t, "team-a"), await workspaceState(t, "team-b")];
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;
const QUERY = "max_results=100";
const SEARCHES = ["2.0/mlflow/experiments/search", "2.0/mlflow/registered-models/search"];

type Mode = "bearer" | "SigV4";
const MODES: Mode[] = ["bearer", "SigV4"];
const mount = (mode: Mode) => (mode === "bearer" ? "ajax-api" : "api");

/** A GET as team-a's reader (bearer token or its role's signature) to `prefix` + MLflow's route, with extra headers. */
async function asReader(
  mode: Mode,
  prefix: string,
  route: string,
  extra: readonly (readonly [string, string])[] = [],
): Promise<RawResponse> {
  const wirePath = `${prefix}${mount(mode)}/${route}`;
  const auth: [string, string][] =
    mode === "bearer"
      ? [["Authorization", `Bearer ${readerToken}`]]
      : await principalHeaders(t, "mlflow-team-a-reader", "GET", wirePath, QUERY);
  return sendRaw(gateway(), { method: "GET", target: `${wirePath}?${QUERY}`, headers: [...auth, ...extra] });
}

/** team-a's answer (its marks, none of team-b's) or a refusal; never a 5xx, never anything of team-b. */
function expectTeamAOrRefused(r: RawResponse): void {
  expect(r.body).not.toContain(TEAM_B_MARK);
  if (r.status === 200) expect(r.body).toContain(TEAM_A_MARK);
  else {
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body).not.toContain(TEAM_A_MARK);
  }
  expect(r.status).toBeLessThan(500);
}

async function expectStateUnchanged(): Promise<void> {
  expect([await workspaceState(t, "team-a"), await workspaceState(t, "team-b")]).toEqual(before);
}

describe.each(MODES)("team-a-reader (%s)", (mode) => {
  test("the control: /ws/team-a/ answers team-a's experiments and models, /ws/team-b/ is API Gateway's 403", async () => {
    for (const route of SEARCHES) {
      const own = await asReader(mode, "/ws/team-a/", route);
      const other = await asReader(mode, "/ws/team-b/", route);
      expect([route, own.status]).toEqual([route, 200]);
      expect(own.body).toContain(TEAM_A_MARK);
      expect(own.body).not.toContain(TEAM_B_MARK);
      expect([route, other.status, refusedByGuard(other)]).toEqual([route, 403, false]);
      expect(other.body).not.toContain(TEAM_B_MARK);
    }
    // The witness: team-b holds what the reader must not see.
    expect(await workspaceState(t, "team-b")).toContain(TEAM_B_MARK);
  });

  test.each([
    [[["X-MLFLOW-WORKSPACE", "team-b"]]],
    [[["x-mlflow-workspace", "team-b"]]],
    [[["X-Mlflow-Workspace", "team-b"]]],
    [[["X-MLflow-Workspace", "team-a"]]],
    [
      [
        ["X-MLFLOW-WORKSPACE", "team-a"],
        ["X-MLFLOW-WORKSPACE", "team-b"],
      ],
    ],
    [
      [
        ["x-mlflow-workspace", "team-b"],
        ["X-Mlflow-Workspace", "team-b"],
      ],
    ],
    [[["X-MLFLOW-WORKSPACE", "team-a, team-b"]]],
  ] as [string, string][][][])("MLflow's own header %j: the guard's 400, whatever the team", async (headers) => {
    for (const route of SEARCHES) {
      const r = await asReader(mode, "/ws/team-a/", route, headers);
      expect([route, r.status, refusedByGuard(r)]).toEqual([route, 400, true]);
      expect(JSON.parse(r.body).reason).toBe("workspace-header");
      expectTeamAOrRefused(r);
    }
    await expectStateUnchanged();
  });

  test.each([
    [[["Cookie", "mlflow-request-header-X-MLFLOW-WORKSPACE=team-b"]]],
    [[["Cookie", "mlflow-request-header-x-mlflow-workspace=team-b; other=1"]]],
    [
      [
        ["Cookie", "mlflow-request-header-X-MLFLOW-WORKSPACE=team-b"],
        ["Cookie", "mlflow-request-header-X-Mlflow-Workspace=team-b"],
      ],
    ],
    [[["x-mlflow-gate-workspace", "team-b"]]],
    [
      [
        ["x-mlflow-gate-workspace", "team-b"],
        ["x-mlflow-gate-workspace", "team-b"],
      ],
    ],
    [[["X-MLFLOW-GATE-WORKSPACE", "team-b"]]],
    [[["X-Mlflow-Gate-Workspace", "team-b"]]],
  ] as [string, string][][][])("%j: refused, or team-a's answer only", async (headers) => {
    for (const route of SEARCHES) expectTeamAOrRefused(await asReader(mode, "/ws/team-a/", route, headers));
    await expectStateUnchanged();
  });

  test.each([
    "/ws/Team-B/",
    "/ws/TEAM-B/",
    "/ws/team-B/",
    "/ws/team%2Db/",
    "/ws/team%2db/",
    "/ws/team-b%2F../team-a/",
    "/ws/team-b%2F..%2Fteam-a/",
    "/ws/team-a%2F..%2Fteam-b/",
    "/ws/team-a/../team-b/",
    "/ws/team-a/%2E%2E/team-b/",
    "/ws/team-b/../team-a/",
    "/ws/team-b/./",
    "/ws//team-b/",
    "/ws/team-b//",
    "/ws/%74eam-b/",
    "/ws/team-b%00/",
    "/ws/team-b%20/",
    "/ws/default/",
    "/ws/Team-A/",
  ])("%s is refused, and nothing of team-b is in its body", async (prefix) => {
    for (const route of SEARCHES) {
      const r = await asReader(mode, prefix, route);
      expect([prefix, route, r.status >= 400 && r.status < 500]).toEqual([prefix, route, true]);
      expect(r.body).not.toContain(TEAM_B_MARK);
      expect(r.body).not.toContain(TEAM_A_MARK);
    }
    await expectStateUnchanged();
  });

  // API Gateway decodes a path parameter and re-encodes it for the integration: %2D is `-`, so this is team-a's
  // own path (the authorizer and the guard both see `team-a`), not another team.
  test("/ws/team%2Da/ is read as /ws/team-a/: team-a's answer only", async () => {
    for (const route of SEARCHES) {
      const r = await asReader(mode, "/ws/team%2Da/", route);
      expectTeamAOrRefused(r);
    }
  });
});
