import { parseUiConfig } from "../../../ui-patch/shell/config";

test("a local config keeps its endpoint", () => {
  const config = {
    userPoolId: "local_1",
    userPoolClientId: "c",
    region: "us-east-1",
    authFlow: "USER_PASSWORD_AUTH",
    userPoolEndpoint: "http://127.0.0.1:9229",
  };
  expect(parseUiConfig(config)).toEqual(config);
});

test("every problem is listed at once", () => {
  expect(() => parseUiConfig({ authFlow: "CUSTOM_AUTH", userPoolEndpoint: "ftp://x" })).toThrow(
    "invalid /mlflow-gate-ui.json: userPoolId is missing; userPoolClientId is missing; region is missing; authFlow must be USER_SRP_AUTH or USER_PASSWORD_AUTH; userPoolEndpoint must be an http(s) URL",
  );
});

test("anything but an object is refused", () => {
  expect(() => parseUiConfig("x")).toThrow(/userPoolId is missing/);
});

test("teams are kept as given, with their groups", () => {
  const config = {
    userPoolId: "p",
    userPoolClientId: "c",
    region: "us-east-1",
    authFlow: "USER_SRP_AUTH",
    teams: [{ name: "team-a", groups: ["admins", "team-a-readers"] }],
  };
  expect(parseUiConfig(config)).toEqual(config);
});

test("a team that is no team name, or groups that are no list of names, are refused together", () => {
  const base = { userPoolId: "p", userPoolClientId: "c", region: "r", authFlow: "USER_SRP_AUTH" };
  expect(() =>
    parseUiConfig({
      ...base,
      teams: [
        { name: "../x", groups: ["a"] },
        { name: "team-b", groups: [""] },
      ],
    }),
  ).toThrow(
    "invalid /mlflow-gate-ui.json: teams[0].name must be a team name; teams[1].groups must be a list of group names",
  );
  expect(() => parseUiConfig({ ...base, teams: [] })).toThrow("teams must be a non-empty list");
});
