import {
  checkWorkspaceIdentity,
  filterWorkspaceList,
  isTeamPath,
  reaches,
  readTeamPath,
  workspaceOf,
} from "../../guard/workspaces";

describe("readTeamPath", () => {
  test("a team route: the team, and MLflow's raw path with its encoding kept", () => {
    expect(readTeamPath("/ws/team-a/api/2.0/mlflow/runs/search")).toEqual({
      ok: true,
      team: "team-a",
      rawRest: "/api/2.0/mlflow/runs/search",
    });
    expect(readTeamPath("/ws/t1/get-artifact")).toEqual({ ok: true, team: "t1", rawRest: "/get-artifact" });
    expect(readTeamPath("/ws/team-a/")).toEqual({ ok: true, team: "team-a", rawRest: "/" });
  });

  test.each([
    ["no rest", "/ws/team-a"],
    ["no team", "/ws//api/2.0/mlflow/runs/search"],
    ["upper case", "/ws/Team-A/api/2.0/mlflow/runs/search"],
    ["percent-encoded team", "/ws/team%2Da/api/2.0/mlflow/runs/search"],
    ["a dot", "/ws/team.a/api/2.0/mlflow/runs/search"],
    ["a digit first", "/ws/1team/api"],
    ["too long", `/ws/${"a".repeat(64)}/api`],
    ["not under /ws/", "/api/2.0/mlflow/runs/search"],
  ])("refused: %s", (_why, path) => {
    expect(readTeamPath(path)).toEqual({ ok: false, problem: "workspace-path-malformed" });
  });

  test("isTeamPath: /ws and what is under it, nothing else", () => {
    expect(isTeamPath("/ws")).toBe(true);
    expect(isTeamPath("/ws/")).toBe(true);
    expect(isTeamPath("/ws/team-a/api")).toBe(true);
    expect(isTeamPath("/wsx/team-a/api")).toBe(false);
    expect(isTeamPath("/api/2.0/mlflow/ws/x")).toBe(false);
  });
});

describe("checkWorkspaceIdentity", () => {
  test("the mapped team must be the path's, exactly", () => {
    expect(checkWorkspaceIdentity("team-a", "team-a")).toEqual({ ok: true });
    expect(checkWorkspaceIdentity(undefined, "team-a")).toEqual({ ok: false, problem: "workspace-identity-missing" });
    expect(checkWorkspaceIdentity("team-b", "team-a")).toEqual({ ok: false, problem: "workspace-identity-mismatch" });
    expect(checkWorkspaceIdentity("Team-A", "team-a")).toEqual({ ok: false, problem: "workspace-identity-mismatch" });
    expect(checkWorkspaceIdentity("team-a ", "team-a")).toEqual({ ok: false, problem: "workspace-identity-mismatch" });
  });
});

describe("filterWorkspaceList", () => {
  const answer = {
    workspaces: [
      { name: "default", description: "Default workspace for legacy resources" },
      { name: "team-a" },
      { name: "team-b" },
    ],
  };

  test("keeps the reached workspaces, and MLflow's other fields", () => {
    expect(filterWorkspaceList({ ...answer, next_page_token: "x" }, new Set(["team-a"]))).toEqual({
      workspaces: [{ name: "team-a" }],
      next_page_token: "x",
    });
    expect(filterWorkspaceList(answer, new Set())).toEqual({ workspaces: [] });
    expect(filterWorkspaceList({}, new Set(["team-a"]))).toEqual({ workspaces: [] });
  });

  test.each([
    ["not an object", []],
    ["workspaces not a list", { workspaces: {} }],
    ["an entry without a name", { workspaces: [{ description: "x" }] }],
    ["a name that is not a string", { workspaces: [{ name: 1 }] }],
  ])("an answer it cannot read: undefined (%s)", (_why, body) => {
    expect(filterWorkspaceList(body, new Set(["team-a"]))).toBeUndefined();
  });
});

test("reaches and workspaceOf", () => {
  expect(reaches("all", "anything")).toBe(true);
  expect(reaches(new Set(["team-a"]), "team-a")).toBe(true);
  expect(reaches(new Set(["team-a"]), "team-b")).toBe(false);
  expect(workspaceOf(undefined)).toBe("default");
  expect(workspaceOf("team-a")).toBe("team-a");
});
