import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { RawResponse, refusedByGuard, sendRaw } from "./support/attack";
import { mappedTeamUser, principalHeaders, privateInWorkspace, TEAMS_STACK, workspaceState } from "./support/teams";

// Workspaces themselves (MLflow's /api/3.0/mlflow/workspaces, under each team's /ws/<team>/): only admins create,
// update or delete them. Through the emulated API Gateway, no team group has a workspace route at all (API
// Gateway's 403 for list, get, create, update and delete alike, bearer and SigV4); straight to the guard, as if API
// Gateway had let a team group through, the guard refuses the changes (workspace-manage-denied) and a workspace
// the group does not reach, and lists only the group's own team. The admin creates, changes and deletes a
// throwaway workspace.

let t: TestStack;
const tokens: Record<string, string> = {};
let workspacesBefore: unknown;
let teamsBefore: string[];

const TEAM_USERS = ["reader", "writer", "model-approver", "release-manager"].flatMap((tier) =>
  ["team-a", "team-b"].map((team) => ({ team, username: `${team}-${tier}`, group: `${team}-${tier}s` })),
);

beforeAll(async () => {
  t = await startTestStack(TEAMS_STACK);
  for (const u of [...TEAM_USERS.map((x) => x.username), "admin"]) tokens[u] = await demoAccessToken(t, u);
  workspacesBefore = await workspaceList();
  teamsBefore = [await workspaceState(t, "team-a"), await workspaceState(t, "team-b")];
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;
const guard = () => t.stack.summary.guardPrivateUrl;

/** MLflow's own list of workspaces, read on its private port. */
const workspaceList = async () =>
  (await privateInWorkspace(t, "default", "GET", "/api/3.0/mlflow/workspaces")).workspaces;

async function expectNothingChanged(): Promise<void> {
  expect(await workspaceList()).toEqual(workspacesBefore);
  expect([await workspaceState(t, "team-a"), await workspaceState(t, "team-b")]).toEqual(teamsBefore);
}

/** Every workspace action, in the caller's own team's path: [what, method, path after the mount, body]. */
const ACTIONS = (own: string, other: string): [string, string, string, string][] => [
  ["ListWorkspaces", "GET", "3.0/mlflow/workspaces", ""],
  ["GetWorkspace (own)", "GET", `3.0/mlflow/workspaces/${own}`, ""],
  ["GetWorkspace (other)", "GET", `3.0/mlflow/workspaces/${other}`, ""],
  ["CreateWorkspace", "POST", "3.0/mlflow/workspaces", JSON.stringify({ name: "intruder-ws", description: "x" })],
  ["UpdateWorkspace (own)", "PATCH", `3.0/mlflow/workspaces/${own}`, JSON.stringify({ description: "changed" })],
  ["UpdateWorkspace (other)", "PATCH", `3.0/mlflow/workspaces/${other}`, JSON.stringify({ description: "changed" })],
  ["DeleteWorkspace (other)", "DELETE", `3.0/mlflow/workspaces/${other}`, ""],
  ["DeleteWorkspace (own)", "DELETE", `3.0/mlflow/workspaces/${own}`, ""],
];

/** One request through the gateway, a bearer user's on /ajax-api or a principal's SigV4 on /api. */
async function through(
  mode: "bearer" | "SigV4",
  identity: string,
  method: string,
  wirePrefix: string,
  route: string,
  body: string,
): Promise<RawResponse> {
  const [path, query = ""] = route.split("?") as [string, string?];
  const wirePath = `${wirePrefix}${mode === "bearer" ? "ajax-api" : "api"}/${path}`;
  const auth: [string, string][] =
    mode === "bearer"
      ? [
          ["Authorization", `Bearer ${tokens[identity]}`],
          ["Content-Type", "application/json"],
        ]
      : await principalHeaders(t, identity, method, wirePath, query, body);
  return sendRaw(gateway(), { method, target: query === "" ? wirePath : `${wirePath}?${query}`, headers: auth, body });
}

describe.each(["bearer", "SigV4"] as const)("every team group (%s), through API Gateway", (mode) => {
  test.each(TEAM_USERS.map((u) => [u.username, u] as const))(
    "%s: no workspace route at all (API Gateway's 403, list and get included)",
    async (_name, user) => {
      const identity = mode === "bearer" ? user.username : `mlflow-${user.username}`;
      const other = user.team === "team-a" ? "team-b" : "team-a";
      const wrong: string[] = [];
      for (const [what, method, route, body] of ACTIONS(user.team, other)) {
        const r = await through(mode, identity, method, `/ws/${user.team}/`, route, body);
        if (r.status !== 403 || refusedByGuard(r) || !/not authorized/.test(r.body))
          wrong.push(`${what}: ${r.status} ${r.body.slice(0, 200)}`);
      }
      expect(wrong).toEqual([]);
      // The same group reads its own team (the identity works; the refusal is the route's).
      const own = await through(
        mode,
        identity,
        "GET",
        `/ws/${user.team}/`,
        "2.0/mlflow/experiments/search?max_results=10",
        "",
      );
      expect(own.status).toBe(200);
      await expectNothingChanged();
    },
  );
});

describe("every team group, straight to the guard (as if API Gateway had let it through)", () => {
  const direct = (user: (typeof TEAM_USERS)[number], method: string, route: string, body: string) => {
    const path = `/ws/${user.team}/ajax-api/${route}`;
    return sendRaw(guard(), {
      method,
      target: path,
      headers: mappedTeamUser(user.username, user.group, user.team, method, path),
      body,
    });
  };

  test.each(TEAM_USERS.map((u) => [u.username, u] as const))(
    "%s: changes are the guard's 403, another team's workspace is not reachable, the list holds its own team only",
    async (_name, user) => {
      const other = user.team === "team-a" ? "team-b" : "team-a";
      const answers = new Map<string, RawResponse>();
      for (const [what, method, route, body] of ACTIONS(user.team, other))
        answers.set(what, await direct(user, method, route, body));
      const reasonOf = (what: string) => {
        const r = answers.get(what)!;
        return [what, r.status, refusedByGuard(r) ? (JSON.parse(r.body) as { reason: string }).reason : r.body];
      };
      for (const what of [
        "CreateWorkspace",
        "UpdateWorkspace (own)",
        "UpdateWorkspace (other)",
        "DeleteWorkspace (other)",
        "DeleteWorkspace (own)",
      ])
        expect(reasonOf(what)).toEqual([what, 403, "workspace-manage-denied"]);
      expect(reasonOf("GetWorkspace (other)")).toEqual(["GetWorkspace (other)", 403, "workspace-not-reachable"]);
      const own = answers.get("GetWorkspace (own)")!;
      expect([own.status, JSON.parse(own.body).workspace.name]).toEqual([200, user.team]);
      const list = answers.get("ListWorkspaces")!;
      expect(list.status).toBe(200);
      expect(JSON.parse(list.body).workspaces.map((w: { name: string }) => w.name)).toEqual([user.team]);
      await expectNothingChanged();
    },
  );
});

describe.each([
  ["bearer", "admin", "/ws/team-a/"],
  ["SigV4", "mlflow-admin", "/ws/default/"],
] as const)("the admin (%s)", (mode, identity, prefix) => {
  test(`lists every workspace, and creates, updates and deletes a throwaway one through ${prefix}`, async () => {
    const name = `throwaway-${mode.toLowerCase()}`;
    const call = (method: string, route: string, body = "") => through(mode, identity, method, prefix, route, body);
    // Act
    const list = await call("GET", "3.0/mlflow/workspaces");
    const created = await call("POST", "3.0/mlflow/workspaces", JSON.stringify({ name, description: "made" }));
    const updated = await call("PATCH", `3.0/mlflow/workspaces/${name}`, JSON.stringify({ description: "changed" }));
    const seen = await workspaceList();
    const deleted = await call("DELETE", `3.0/mlflow/workspaces/${name}`);
    // Assess
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).workspaces.map((w: { name: string }) => w.name)).toEqual(
      expect.arrayContaining(["default", "team-a", "team-b"]),
    );
    expect([created.status, updated.status, deleted.status]).toEqual([201, 200, 204]);
    expect(seen).toContainEqual({ name, description: "changed" });
    await expectNothingChanged();
  });
});
