import {
  isServerInfoPath,
  isServerPath,
  isWorkspaceHeader,
  pathInTeam,
  placeUser,
  teamHome,
  teamOfPage,
  withoutWorkspaces,
} from "../../../ui-patch/shell/team-paths";

const teams = [
  { name: "team-a", groups: ["admins", "team-a-readers", "team-a-writers"] },
  { name: "team-b", groups: ["admins", "team-b-readers"] },
  { name: "default", groups: ["admins"] },
];

describe("placeUser", () => {
  test("without teams MLflow's UI runs where it is", () => {
    expect(placeUser(undefined, ["readers"], "/")).toEqual({ kind: "mlflow" });
  });

  test("on the shell's page one team sends the user there, several give a picker, none a message", () => {
    expect(placeUser(teams, ["team-a-writers"], "/")).toEqual({ kind: "go", team: "team-a" });
    expect(placeUser(teams, ["team-a-readers", "team-b-readers"], "/")).toEqual({
      kind: "pick",
      teams: ["team-a", "team-b"],
    });
    expect(placeUser(teams, ["admins"], "/")).toEqual({ kind: "pick", teams: ["team-a", "team-b", "default"] });
    expect(placeUser(teams, ["readers", "team-c-readers"], "/")).toEqual({ kind: "outside", teams: [] });
    expect(placeUser(teams, [], "/")).toEqual({ kind: "outside", teams: [] });
  });

  test("on a team's page the team's users get MLflow with their other teams, others are told", () => {
    expect(placeUser(teams, ["admins"], "/ws/team-b/")).toEqual({
      kind: "team",
      team: "team-b",
      teams: ["team-a", "team-b", "default"],
    });
    expect(placeUser(teams, ["team-a-readers"], "/ws/team-a/")).toEqual({
      kind: "team",
      team: "team-a",
      teams: ["team-a"],
    });
    expect(placeUser(teams, ["team-a-readers"], "/ws/team-b/")).toEqual({
      kind: "outside",
      team: "team-b",
      teams: ["team-a"],
    });
    expect(placeUser(teams, ["team-a-readers"], "/ws/team-c/")).toMatchObject({ kind: "outside", team: "team-c" });
  });
});

test("a team's page is /ws/<team>/", () => {
  expect(teamHome("team-a")).toBe("/ws/team-a/");
  expect(teamOfPage("/ws/team-a/")).toBe("team-a");
  expect(teamOfPage("/")).toBeUndefined();
  expect(teamOfPage("/ws/Team-A/")).toBeUndefined();
});

test("MLflow's root server paths are put under the team; others, and those already in a team, are left", () => {
  for (const path of [
    "/ajax-api/2.0/mlflow/experiments/search",
    "/ajax-api/3.0/mlflow/server-info",
    "/graphql",
    "/get-artifact",
    "/model-versions/get-artifact",
  ])
    expect(pathInTeam(path, "team-a")).toBe(`/ws/team-a${path}`);
  for (const path of [
    "/ws/team-a/ajax-api/2.0/mlflow/experiments/search",
    "/ws/team-a/graphql",
    "/static-files/static/js/main.js",
    "/mlflow-gate-ui.json",
    "/graphqlx",
    "/ajax-apix/2.0",
  ])
    expect(pathInTeam(path, "team-a")).toBe(path);
});

test("server paths are MLflow's, at the root or in a team", () => {
  expect(isServerPath("/ajax-api/2.0/mlflow/runs/search")).toBe(true);
  expect(isServerPath("/ws/team-b/get-artifact")).toBe(true);
  expect(isServerPath("/ws/team-b/static-files/x.js")).toBe(false);
  expect(isServerPath("/mlflow-gate-ui.json")).toBe(false);
  expect(isServerPath("/ws/Team-B/graphql")).toBe(false);
});

test("the workspace header is recognised in any letter case", () => {
  expect(["X-MLFLOW-WORKSPACE", "x-mlflow-workspace", "X-MLflow-Workspace"].every(isWorkspaceHeader)).toBe(true);
  expect(isWorkspaceHeader("x-mlflow-gate-workspace")).toBe(false);
});

test("server-info, at the root or in a team, is answered without workspaces", () => {
  expect(isServerInfoPath("/ajax-api/3.0/mlflow/server-info")).toBe(true);
  expect(isServerInfoPath("/ws/team-a/ajax-api/3.0/mlflow/server-info")).toBe(true);
  expect(isServerInfoPath("/ws/team-a/ajax-api/2.0/mlflow/experiments/search")).toBe(false);
  expect(withoutWorkspaces({ store_type: "sql", workspaces_enabled: true })).toEqual({
    store_type: "sql",
    workspaces_enabled: false,
  });
  expect(withoutWorkspaces("x")).toBe("x");
});
