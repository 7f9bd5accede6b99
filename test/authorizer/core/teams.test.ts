import { samplePath } from "../../../authorizer/core/catalog";
import { authorizerKeys } from "../../../authorizer/core/answer-scope";
import { decidePromotionRequest } from "../../../authorizer/core/decide-promotion";
import { apiResourcesOf, decidePath, EXAMPLE_STAGE } from "../../../authorizer/core/decide-request";
import { evaluatePolicies, ParsedPolicy, parsePolicyDocument } from "../../../authorizer/core/evaluate";
import { largestAnswer } from "../../../authorizer/core/lint-sizes";
import { formatMethodArn } from "../../../authorizer/core/method-arn";
import { GroupPolicyError } from "../../../authorizer/core/errors";
import { authorizerScope, PolicySet } from "../../../authorizer/core/policy-set";
import { parseTeamFile } from "../../../authorizer/core/team-file";
import { loadGroupFiles, loadRouteCatalog, loadTeamFiles } from "../../../authorizer/load-policies";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../../project/paths";

const catalog = loadRouteCatalog(CATALOG_FILE);
const groupFiles = loadGroupFiles(GROUPS_DIR, REPO_ROOT);
const teamFiles = loadTeamFiles(EXAMPLE_TEAMS_DIR, REPO_ROOT);
const set = PolicySet.fromFiles(catalog, groupFiles, undefined, teamFiles);

const problemsOf = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof GroupPolicyError) return e.problems;
    throw e;
  }
  return [];
};

describe("team files", () => {
  test("a team file gives each tier's groups, with the line of each tier", () => {
    // Act
    const team = parseTeamFile(
      "team-c",
      "policies/teams/team-c.yaml",
      "description: c\ntiers:\n  readers: [c-readers, auditors]\n  writers: [c-writers]\n",
    );
    // Assess
    expect(team.tiers).toEqual([
      { tier: "readers", line: 3, groups: ["c-readers", "auditors"] },
      { tier: "writers", line: 4, groups: ["c-writers"] },
    ]);
  });

  test("schema problems name the file and line", () => {
    expect(problemsOf(() => parseTeamFile("tt", "tt.yaml", "description: x\ntiers:\n  readers: []\n"))).toEqual([
      "tt.yaml:3: must NOT have fewer than 1 items at /tiers/readers",
    ]);
    for (const name of ["t", "team-", "api", "workspaces"])
      expect(problemsOf(() => parseTeamFile(name, "x.yaml", "description: x\ntiers: {readers: [a]}\n"))[0]).toMatch(
        new RegExp(`^x\\.yaml:1: team name "${name}" must be 2 to 63 of a-z`),
      );
    expect(problemsOf(() => parseTeamFile("T_1", "T_1.yaml", "description: x\ntiers: {readers: [a]}\n"))[0]).toMatch(
      /^T_1\.yaml:1: team name "T_1" must be 2 to 63/,
    );
  });

  test("an unknown tier, a global group as a holder and a holder named like a tier are refused, each at its line", () => {
    // Prepare
    const bad = parseTeamFile(
      "tt",
      "t.yaml",
      "description: x\ntiers:\n  readers: [ok]\n  auditors: [a]\n  writers: [admins]\n  model-approvers: [readers]\n",
    );
    // Act
    const problems = problemsOf(() => PolicySet.fromFiles(catalog, groupFiles, undefined, [bad]));
    // Assess
    expect(problems).toEqual([
      't.yaml:4: unknown tier "auditors": a tier is a group file (admins, model-approvers, readers, release-managers, writers)',
      't.yaml:5: "admins" reaches every workspace already (workspaces: all in its group file)',
      "t.yaml:6: \"readers\" is a group file's name: a tier's holders need names of their own (e.g. tt-model-approvers)",
    ]);
  });
});

describe("a policy set with teams", () => {
  test("the groups a caller may carry are the team files' groups and the global group files", () => {
    expect([...set.callerGroups].sort()).toEqual([
      "admins",
      ...["team-a", "team-b"].flatMap((t) =>
        ["model-approvers", "readers", "release-managers", "writers"].map((x) => `${t}-${x}`),
      ),
    ]);
    expect(set.knownGroups(["readers", "team-a-readers"])).toEqual(["team-a-readers"]);
  });

  test("a team group's resources are its tier's, under its workspace only", () => {
    // Act
    const r = set.resourcesFor(["team-a-readers"], "cognito");
    const plain = set.tierResources(["readers"], "cognito");
    // Assess
    expect(r.allow.length).toBe(plain.allow.length);
    expect(r.allow.every((g) => /^[A-Z]+\/ws\/team-a\//.test(g))).toBe(true);
    expect(r.deny.every((g) => /^[A-Z]+\/ws\/team-a\//.test(g))).toBe(true);
  });

  test("admins keep *, which reaches every workspace, default and later ones included", () => {
    expect(set.resourcesFor(["admins"], "iam")).toEqual({ allow: ["*"], deny: [] });
    expect(set.reachableWorkspaces(["admins"])).toBe("all");
    expect(set.mayManageWorkspaces(["admins"])).toBe(true);
    expect(set.mayManageWorkspaces(["team-a-release-managers"])).toBe(false);
  });

  test("a user in groups of two teams holds each team's tier in its own workspace only", () => {
    // Act
    const groups = ["team-a-writers", "team-b-readers"];
    // Assess
    expect(set.tiersIn(groups, "team-a")).toEqual(["writers"]);
    expect(set.tiersIn(groups, "team-b")).toEqual(["readers"]);
    expect(set.tiersIn(groups, "default")).toEqual([]);
    expect(set.reachableWorkspaces(groups)).toEqual(new Set(["team-a", "team-b"]));
  });

  test("the route of a request is found under /ws/<team>/ only; public routes stay where they are", () => {
    expect(set.locate("POST", "/ws/team-a/api/2.0/mlflow/runs/search")).toMatchObject({
      route: { action: "SearchRuns" },
      workspace: "team-a",
    });
    expect(set.locate("POST", "/api/2.0/mlflow/runs/search").route).toBeUndefined();
    expect(set.locate("GET", "/health").route?.action).toBe("Health");
    expect(set.locate("GET", "/ws/team-a/health").route).toBeUndefined();
    expect(set.locate("GET", "/ws/Team-A/api/2.0/mlflow/experiments/get").route).toBeUndefined();
  });
});

describe("the authorizer's answers with teams", () => {
  const scope = authorizerScope(EXAMPLE_STAGE);
  const teamKeys = authorizerKeys(catalog.routes, true);
  const decide = (policy: ParsedPolicy, arn: string) => evaluatePolicies([policy], "execute-api:Invoke", arn).decision;
  /** Each Cognito route's sample request in each workspace, with its key. */
  const requests = ["team-a", "team-b", "default"].flatMap((workspace) =>
    catalog.routes
      .filter((r) => r.auth === "cognito")
      .flatMap((r) => {
        const path = `/ws/${workspace}${samplePath(r.path)}`;
        const resource = apiResourcesOf(catalog.routes, true).resolve(r.method, path)?.resourcePath;
        return resource
          ? [
              {
                arn: formatMethodArn({ ...EXAMPLE_STAGE, method: r.method, path }),
                key: `${r.method} ${resource} ${workspace}`,
              },
            ]
          : [];
      }),
  );

  test("a user in several teams gets an answer the size of one team's: each answer holds its own team only", () => {
    // Act
    const one = largestAnswer(set, ["team-a-writers"]);
    const two = largestAnswer(set, ["team-a-writers", "team-b-writers"]);
    // Assess: the two differ by the groups' names in the answer's context, not by a second team's globs
    expect(two.authorizerBytes - one.authorizerBytes).toBeLessThanOrEqual("team-b-writers,".length);
    const key = { method: "POST", resource: "/ws/{workspace}/ajax-api/2.0/mlflow/runs/{proxy+}", workspace: "team-b" };
    const answer = JSON.stringify(set.authorizerAnswer(["team-a-writers", "team-b-writers"], scope, key));
    expect(answer).toContain("/ws/team-b/");
    expect(answer).not.toContain("/ws/team-a/");
  });

  test.each([
    ["team-a-writers + team-b-model-approvers", ["team-a-writers", "team-b-model-approvers"]],
    ["team-a-readers", ["team-a-readers"]],
  ])(
    "%s: each answer decides its key's requests in its team as the whole policy does, and allows nothing anywhere the whole policy denies",
    (_name, groups) => {
      // Prepare
      const whole = parsePolicyDocument(set.authorizerPolicy(groups, scope));
      const wholeDecision = new Map(requests.map((r) => [r.arn, decide(whole, r.arn)]));
      let sameKey = 0;
      for (const base of teamKeys) {
        for (const workspace of ["team-a", "team-b", "default"]) {
          // Act
          const answer = parsePolicyDocument(set.authorizerAnswer(groups, scope, { ...base, workspace }));
          // Assess
          for (const r of requests) {
            const decision = decide(answer, r.arn);
            if (r.key === `${base.method} ${base.resource} ${workspace}`) {
              expect({ request: r.arn, decision }).toEqual({ request: r.arn, decision: wholeDecision.get(r.arn) });
              sameKey++;
            } else if (decision === "Allow")
              expect({ request: r.arn, whole: wholeDecision.get(r.arn) }).toEqual({ request: r.arn, whole: "Allow" });
          }
        }
      }
      expect(sameKey).toBe(requests.length);
    },
  );
});

describe("promotion rules with teams", () => {
  // A group that releases in team-a and only approves in team-b (two team files naming it).
  const both = PolicySet.fromFiles(catalog, groupFiles, undefined, [
    parseTeamFile("team-a", "team-a.yaml", "description: a\ntiers:\n  release-managers: [ml-leads]\n"),
    parseTeamFile("team-b", "team-b.yaml", "description: b\ntiers:\n  model-approvers: [ml-leads]\n"),
  ]);
  const transition = catalog.routes.find((r) => r.action === "TransitionModelVersionStage" && r.auth === "iam")!;
  const toProduction = { kind: "transition", to: "Production", from: "Staging", archiveExisting: false } as const;
  const parties = { caller: "lead", creator: "someone-else" };

  test("a group's rules in a workspace are those of the tiers it holds there, and no other's", () => {
    expect(decidePromotionRequest(both, ["ml-leads"], transition, toProduction, parties, "team-a")).toEqual({
      ok: true,
      group: "release-managers",
    });
    expect(decidePromotionRequest(both, ["ml-leads"], transition, toProduction, parties, "team-b")).toMatchObject({
      ok: false,
      status: 403,
      reason: "promotion-stage-not-allowed",
    });
    expect(decidePromotionRequest(both, ["ml-leads"], transition, toProduction, parties, "default")).toMatchObject({
      ok: false,
      reason: "promotion-no-group",
    });
  });
});

/**
 * The decision of every catalog route's sample request, in each team's workspace, in `default` and in a workspace
 * no file names, equals what the groups' files mean there: the compiled and placed policies grant a team's tier in
 * its workspace and nowhere else.
 */
describe("decisions per workspace equal the files' intent", () => {
  const CALLERS: readonly (readonly string[])[] = [
    ["team-a-readers"],
    ["team-a-writers"],
    ["team-a-model-approvers"],
    ["team-a-release-managers"],
    ["team-a-writers", "team-b-model-approvers"],
    ["admins"],
  ];
  const WORKSPACES = ["team-a", "team-b", "default", "team-z"];
  const routes = catalog.routes.filter((r) => r.auth !== "none");

  test.each(CALLERS.map((c) => [c.join("+"), c]))("%s", (_name, groups) => {
    const wrong: string[] = [];
    for (const workspace of WORKSPACES) {
      for (const r of routes) {
        const path = `/ws/${workspace}${samplePath(r.path)}`;
        const d = decidePath(set, groups, r.method, path);
        const intended = d.route !== undefined && set.intends(groups, d.route, workspace);
        if ((d.decision === "allow") !== intended) wrong.push(`${d.decision} ${r.method} ${path}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test("an unprefixed MLflow route is no method of the API with teams", () => {
    expect(decidePath(set, ["admins"], "POST", "/api/2.0/mlflow/runs/search")).toMatchObject({
      decision: "deny",
      reason: "no-api-method",
    });
  });
});
