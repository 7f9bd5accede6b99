import { loadPolicySet } from "../../../../authorizer/load-policies";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR } from "../../../../project/paths";
import { CliFailure, CliUsageError } from "../../../../scripts/lib/cli-errors";
import { expectations, VerifyPrincipal } from "../../../../scripts/lib/verify/plan";
import { checkStackTeams, planIsolation, reaches, selectTeams, teamUrl } from "../../../../scripts/lib/verify/teams";

const withTeams = loadPolicySet(CATALOG_FILE, GROUPS_DIR, undefined, EXAMPLE_TEAMS_DIR);
const withoutTeams = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

const sigv4 = (name: string, group: string): VerifyPrincipal => ({ kind: "sigv4", name, group });
const bearer = (name: string, group: string): VerifyPrincipal => ({ kind: "bearer", name, group, password: "x" });

/** The local stack's principals with the demo teams: a profile and a user per team group, and admins. */
const PRINCIPALS: VerifyPrincipal[] = [
  sigv4("mlflow-admin", "admins"),
  ...["team-a", "team-b"].flatMap((t) =>
    ["model-approver", "reader", "release-manager", "writer"].flatMap((tier) => [
      sigv4(`mlflow-${t}-${tier}`, `${t}-${tier}s`),
      bearer(`${t}-${tier}`, `${t}-${tier}s`),
    ]),
  ),
];

describe("selectTeams", () => {
  test("every team of the files, sorted, without --teams; none without team files", () => {
    expect(selectTeams(withTeams)).toEqual(["team-a", "team-b"]);
    expect(selectTeams(withoutTeams)).toEqual([]);
  });

  test("--teams B,A: those, in the order given (the first is where the checks run)", () => {
    expect(selectTeams(withTeams, "team-b,team-a")).toEqual(["team-b", "team-a"]);
    expect(selectTeams(withTeams, " team-b ")).toEqual(["team-b"]);
  });

  test("--teams naming an unknown team, a team twice, an empty name, or without team files: a usage error", () => {
    expect(() => selectTeams(withTeams, "team-a,team-c")).toThrow(
      new CliUsageError("--teams: no team team-c (teams: team-a, team-b)"),
    );
    expect(() => selectTeams(withTeams, "team-a,team-a")).toThrow(CliUsageError);
    expect(() => selectTeams(withTeams, "team-a,")).toThrow(CliUsageError);
    expect(() => selectTeams(withoutTeams, "team-a")).toThrow("--teams needs team files");
  });
});

test("checkStackTeams: the stack's teams must be the team files' (in any order)", () => {
  expect(() => checkStackTeams(["team-b", "team-a"], withTeams, "dir")).not.toThrow();
  expect(() => checkStackTeams([], withoutTeams, "dir")).not.toThrow();
  expect(() => checkStackTeams([], withTeams, "dir")).toThrow(CliFailure);
  expect(() => checkStackTeams(["team-a"], withTeams, "dir")).toThrow(CliFailure);
  expect(() => checkStackTeams(["team-a", "team-b"], withoutTeams, "dir")).toThrow(
    /the local stack runs teams \[team-a, team-b\], the team files of dir name \[\]/,
  );
});

test("teamUrl puts /ws/<team> after the API's own path (a stage on AWS)", () => {
  expect(teamUrl(new URL("http://127.0.0.1:8080"), "team-a").href).toBe("http://127.0.0.1:8080/ws/team-a");
  expect(teamUrl(new URL("https://abc.execute-api.eu-west-1.amazonaws.com/prod/"), "team-b").href).toBe(
    "https://abc.execute-api.eu-west-1.amazonaws.com/prod/ws/team-b",
  );
});

test("reaches: a team group its own team only, admins every team", () => {
  expect(reaches(withTeams, sigv4("r", "team-a-readers"), "team-a")).toBe(true);
  expect(reaches(withTeams, sigv4("r", "team-a-readers"), "team-b")).toBe(false);
  expect(reaches(withTeams, sigv4("a", "admins"), "team-b")).toBe(true);
});

test("expectations in a team: a team's reader is allowed its reads in its workspace and nothing in the other", () => {
  const reader = sigv4("r", "team-a-readers");
  const inA = expectations(withTeams, reader, "team-a");
  const inB = expectations(withTeams, reader, "team-b");
  expect(inA.filter((e) => e.route.class === "read").every((e) => e.allowed)).toBe(true);
  expect(inA.filter((e) => e.route.class !== "read").some((e) => e.allowed)).toBe(false);
  expect(inB.some((e) => e.allowed)).toBe(false);
  expect(inB.map((e) => e.route)).toEqual(inA.map((e) => e.route));
});

describe("planIsolation", () => {
  test("with the demo teams: A's SigV4 writer, B's reader proper (SigV4), B's SigV4 writer; never an admin", () => {
    const plan = planIsolation(withTeams, PRINCIPALS, ["team-a", "team-b"]);

    expect(plan).toEqual({
      a: "team-a",
      b: "team-b",
      writerA: sigv4("mlflow-team-a-writer", "team-a-writers"),
      readerB: sigv4("mlflow-team-b-reader", "team-b-readers"),
      writerB: sigv4("mlflow-team-b-writer", "team-b-writers"),
    });
  });

  test("the order of the teams decides which is A", () => {
    const plan = planIsolation(withTeams, PRINCIPALS, ["team-b", "team-a"]);
    expect(typeof plan === "object" && [plan.writerA.name, plan.readerB.name, plan.writerB.name]).toEqual([
      "mlflow-team-b-writer",
      "mlflow-team-a-reader",
      "mlflow-team-a-writer",
    ]);
  });

  test("B's reader may be a user when no profile of B reads", () => {
    const principals = PRINCIPALS.filter((p) => p.kind === "bearer" || !p.group.startsWith("team-b-r"));
    const plan = planIsolation(withTeams, principals, ["team-a", "team-b"]);
    expect(typeof plan === "object" && plan.readerB).toEqual(bearer("team-b-reader", "team-b-readers"));
  });

  test("what is missing is said: one team, no writer of A, only admins", () => {
    expect(planIsolation(withTeams, PRINCIPALS, ["team-a"])).toBe("needs two teams");
    const noWriterA = planIsolation(
      withTeams,
      PRINCIPALS.filter((p) => p.name !== "mlflow-team-a-writer"),
      ["team-a", "team-b"],
    );
    expect(noWriterA).toBe(
      "no SigV4 principal of team-a whose group may CreateExperiment, CreateRun, GetRun, DeleteRun, DeleteExperiment there",
    );
    const admins = planIsolation(withTeams, [sigv4("mlflow-admin", "admins")], ["team-a", "team-b"]);
    expect(typeof admins).toBe("string");
    expect(admins).toMatch(/^no SigV4 principal of team-a .*; no principal of team-b .*; no SigV4 principal of team-b/);
  });
});
