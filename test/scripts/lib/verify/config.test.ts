import { CliFailure, CliUsageError } from "../../../../scripts/lib/cli-errors";
import {
  checkGroupsKnown,
  parseApiUrl,
  targetFromConfig,
  targetFromStack,
} from "../../../../scripts/lib/verify/config";
import { thrownBy } from "../../../support/errors";

describe("parseApiUrl", () => {
  test("https, or http on loopback; no query", () => {
    expect(parseApiUrl("https://abc.execute-api.eu-west-1.amazonaws.com/prod").pathname).toBe("/prod");
    expect(parseApiUrl("http://127.0.0.1:8080").host).toBe("127.0.0.1:8080");
    expect(() => parseApiUrl(undefined)).toThrow(CliUsageError);
    expect(() => parseApiUrl("http://mlflow.example.com")).toThrow(/must be https/);
    expect(() => parseApiUrl("https://x.example.com/prod?a=1")).toThrow(/no query/);
    expect(() => parseApiUrl("not a url")).toThrow(/not a URL/);
  });
});

const STACK = {
  region: "us-east-1",
  cognito: { endpoint: "http://127.0.0.1:9229", clientId: "client" },
  profiles: [{ name: "mlflow-admin", group: "admins" }],
  demoUsers: [{ username: "reader", group: "readers", password: "pw" }],
  awsCredentialsFile: "/d/aws/credentials",
  awsConfigFile: "/d/aws/config",
  auditFile: "/d/audit.jsonl",
};

describe("targetFromStack: the local stack's profiles and demo users", () => {
  test("reads stack.json", () => {
    const t = targetFromStack(new URL("http://127.0.0.1:8080"), STACK, "/d/stack.json");
    expect(t).toMatchObject({
      region: "us-east-1",
      principals: [
        { kind: "sigv4", name: "mlflow-admin", group: "admins" },
        { kind: "bearer", name: "reader", group: "readers", password: "pw" },
      ],
      cognito: { endpoint: "http://127.0.0.1:9229", clientId: "client" },
      awsFiles: { credentialsFile: "/d/aws/credentials", configFile: "/d/aws/config" },
      auditFile: "/d/audit.jsonl",
    });
    expect(targetFromStack(new URL("http://127.0.0.1:8080"), STACK, "/d/stack.json", "/x.jsonl").auditFile).toBe(
      "/x.jsonl",
    );
  });

  test("something else is refused, naming the file", () => {
    expect(() => targetFromStack(new URL("http://127.0.0.1:8080"), { region: "us-east-1" }, "/d/stack.json")).toThrow(
      CliFailure,
    );
  });
});

describe("targetFromConfig: a deployment's principals, secrets by variable name", () => {
  const url = new URL("https://abc.execute-api.eu-west-1.amazonaws.com/prod");
  test("profiles and users; the region from the host name; Cognito's endpoint from the region", () => {
    const t = targetFromConfig(
      url,
      {
        profiles: [{ profile: "ds-admin", group: "admins" }],
        users: [
          { username: "alice", group: "readers", passwordEnv: "ALICE_PW" },
          { username: "bob", group: "model-approvers", refreshTokenEnv: "BOB_RT" },
        ],
        cognito: { clientId: "abc" },
      },
      "verify.json",
      { ALICE_PW: "secret", BOB_RT: "token" },
    );
    expect(t).toMatchObject({
      region: "eu-west-1",
      principals: [
        { kind: "sigv4", name: "ds-admin", group: "admins" },
        { kind: "bearer", name: "alice", password: "secret" },
        { kind: "bearer", name: "bob", refreshToken: "token" },
      ],
      cognito: { clientId: "abc", endpoint: "https://cognito-idp.eu-west-1.amazonaws.com/" },
    });
    expect(t.awsFiles).toBeUndefined();
  });

  test("a password never goes to a user pool over plain http, but to a loopback one", () => {
    const config = (endpoint: string) => ({
      profiles: [],
      users: [{ username: "alice", group: "readers", passwordEnv: "PW" }],
      cognito: { clientId: "abc", endpoint },
    });
    expect(() => targetFromConfig(url, config("http://cognito.example.com/"), "v.json", { PW: "x" })).toThrow(
      /"cognito.endpoint" must be https/,
    );
    expect(targetFromConfig(url, config("http://127.0.0.1:9229"), "v.json", { PW: "x" }).cognito?.endpoint).toBe(
      "http://127.0.0.1:9229",
    );
  });

  test("every problem at once, never a secret in the message", () => {
    const e = thrownBy(
      () =>
        targetFromConfig(
          new URL("https://mlflow.example.com/"),
          {
            users: [{ username: "alice", group: "readers", passwordEnv: "UNSET" }, { username: "bob" }],
            profiles: [{}],
          },
          "verify.json",
          {},
        ),
      CliFailure,
    );
    expect(e.lines).toEqual([
      'mlflow-gate: verify.json: "region" is needed (the API URL is not an execute-api host name that names it)',
      'mlflow-gate: verify.json: profiles[0] needs "profile" and "group"',
      "mlflow-gate: verify.json: users[0] (alice): UNSET is not set",
      'mlflow-gate: verify.json: users[1] needs "username", "group" and "passwordEnv" or "refreshTokenEnv" (the variable holding it)',
      'mlflow-gate: verify.json: name at least one principal in "profiles" or "users"',
    ]);
  });
});

test("checkGroupsKnown: a principal of a group without a file is refused", () => {
  const t = targetFromStack(new URL("http://127.0.0.1:8080"), STACK, "/d/stack.json");
  expect(() => checkGroupsKnown(t, new Set(["admins", "readers"]), "policies/groups")).not.toThrow();
  expect(() => checkGroupsKnown(t, new Set(["admins"]), "policies/groups")).toThrow(
    "mlflow-gate: reader's group readers has no file in policies/groups",
  );
});

describe("teams", () => {
  test("targetFromStack reads the teams the stack runs (none without teams)", () => {
    const url = new URL("http://127.0.0.1:8080");
    expect(targetFromStack(url, { ...STACK, teams: ["team-a", "team-b"] }, "/d/stack.json").stackTeams).toEqual([
      "team-a",
      "team-b",
    ]);
    expect(targetFromStack(url, STACK, "/d/stack.json").stackTeams).toEqual([]);
  });

  test('targetFromConfig: "teamsDir" is relative to the configuration file; a blank one is a problem', () => {
    const url = new URL("https://abc.execute-api.eu-west-1.amazonaws.com/prod");
    const config = { profiles: [{ profile: "p", group: "team-a-readers" }] };
    expect(targetFromConfig(url, { ...config, teamsDir: "teams" }, "/etc/mlflow-gate/verify.json", {}).teamsDir).toBe(
      "/etc/mlflow-gate/teams",
    );
    expect(targetFromConfig(url, config, "/etc/verify.json", {}).teamsDir).toBeUndefined();
    expect(thrownBy(() => targetFromConfig(url, { ...config, teamsDir: "" }, "v.json", {}), CliFailure).lines).toEqual([
      'mlflow-gate: v.json: "teamsDir" must be a directory\'s path',
    ]);
  });

  test("checkGroupsKnown with teams names both directories", () => {
    const t = targetFromStack(new URL("http://127.0.0.1:8080"), STACK, "/d/stack.json");
    expect(() => checkGroupsKnown(t, new Set(["admins"]), "policies/groups", "policies/teams")).toThrow(
      "mlflow-gate: reader's group readers is named by no file of policies/groups or policies/teams",
    );
  });
});
