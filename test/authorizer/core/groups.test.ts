import { parseRouteCatalog } from "../../../authorizer/core/catalog";
import { GroupPolicyError } from "../../../authorizer/core/errors";
import { parseGroupFile } from "../../../authorizer/core/group-file";
import { GroupFile, matchActionPattern, resolveGroups } from "../../../authorizer/core/groups";
import { thrownBy } from "../../support/errors";

const catalog = parseRouteCatalog({
  mlflowVersion: "0.0.0",
  routes: [
    { method: "GET", path: "/api/2.0/mlflow/runs/get", action: "GetRun", class: "read", auth: "iam", source: "flask" },
    {
      method: "POST",
      path: "/api/2.0/mlflow/runs/search",
      action: "SearchRuns",
      class: "read",
      auth: "iam",
      source: "flask",
    },
    {
      method: "POST",
      path: "/api/2.0/mlflow/runs/delete",
      action: "DeleteRun",
      class: "write",
      auth: "iam",
      source: "flask",
    },
    {
      method: "POST",
      path: "/api/2.0/mlflow/model-versions/transition-stage",
      action: "TransitionModelVersionStage",
      class: "registry-promote",
      auth: "iam",
      source: "flask",
    },
  ],
});

const problemsOf = (act: () => unknown): readonly string[] => thrownBy(act, GroupPolicyError).problems;

const file = (name: string, text: string): GroupFile => parseGroupFile(name, `groups/${name}.yaml`, text);

describe("parseGroupFile", () => {
  test("reads a group with the line of each pattern", () => {
    const g = file(
      "readers",
      "description: read\nextends: base\nallow:\n  - Get*\n  - class:read\ndeny: [DeleteRun]\n",
    );
    expect(g.extends).toEqual(["base"]);
    expect(g.allow).toEqual([
      { pattern: "Get*", line: 4 },
      { pattern: "class:read", line: 5 },
    ]);
    expect(g.deny).toEqual([{ pattern: "DeleteRun", line: 6 }]);
    expect(g.unknownRoutes).toBe("deny");
  });

  test("reports bad YAML, unknown keys and bad patterns with file:line", () => {
    expect(problemsOf(() => file("a", "description: x\nallow: [Get*\n"))[0]).toMatch(/^groups\/a\.yaml:\d+: /);
    expect(problemsOf(() => file("a", "description: x\nallow: []\nalow: []\n"))).toEqual([
      expect.stringMatching(/^groups\/a\.yaml:1: .*additional properties.*\(alow\)/),
    ]);
    expect(problemsOf(() => file("a", "description: x\nallow:\n  - Get*\n  - 'runs/delete'\n"))).toEqual([
      expect.stringMatching(/^groups\/a\.yaml:4: must match pattern/),
    ]);
    expect(problemsOf(() => file("a", "allow: []\n"))).toEqual([
      expect.stringMatching(/required property 'description'/),
    ]);
    expect(problemsOf(() => file("Bad_Name", "description: x\nallow: []\n"))[0]).toMatch(/group name "Bad_Name"/);
  });
});

describe("matchActionPattern", () => {
  test("class, wildcard and exact names", () => {
    expect(matchActionPattern("class:read", catalog.routes).map((r) => r.action)).toEqual(["GetRun", "SearchRuns"]);
    expect(matchActionPattern("*Run*", catalog.routes).map((r) => r.action)).toEqual([
      "GetRun",
      "SearchRuns",
      "DeleteRun",
    ]);
    expect(matchActionPattern("Delete.*", catalog.routes)).toEqual([]);
    expect(matchActionPattern("DeleteRun", catalog.routes).map((r) => r.action)).toEqual(["DeleteRun"]);
  });
});

describe("resolveGroups", () => {
  test("extends starts from the base; allow adds; deny removes", () => {
    const groups = resolveGroups(
      [
        file("readers", "description: r\nallow: [class:read]\n"),
        file("approvers", "description: a\nextends: readers\nallow: [class:registry-promote]\ndeny: [GetRun]\n"),
      ],
      catalog,
    );
    expect([...(groups.get("readers")?.allowedRouteIds ?? [])].sort()).toEqual([
      "GET /api/2.0/mlflow/runs/get",
      "POST /api/2.0/mlflow/runs/search",
    ]);
    expect([...(groups.get("approvers")?.allowedRouteIds ?? [])].sort()).toEqual([
      "POST /api/2.0/mlflow/model-versions/transition-stage",
      "POST /api/2.0/mlflow/runs/search",
    ]);
  });

  test("reports every problem at once: unknown base, cycle, patterns that match nothing", () => {
    const problems = problemsOf(() =>
      resolveGroups(
        [
          file("a", "description: a\nextends: b\nallow: []\n"),
          file("b", "description: b\nextends: a\nallow:\n  - GetRun\n  - Nothing*\n"),
          file("c", "description: c\nextends: ghost\nallow: [class:admin]\n"),
        ],
        catalog,
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^groups\/c\.yaml:1: extends unknown group "ghost"/),
        expect.stringMatching(/^groups\/b\.yaml:5: "Nothing\*" matches no action/),
        expect.stringMatching(/^groups\/c\.yaml:3: "class:admin" matches no action/),
        expect.stringMatching(/extends cycle: a -> b -> a|extends cycle: b -> a -> b/),
      ]),
    );
  });
});

describe("promotion blocks", () => {
  const APPROVERS = [
    "description: approvers",
    "allow: ['*']",
    "promotion:",
    "  stages: { to: [Staging, Archived] }",
    "  aliases: { allow: ['*'], deny: [champion, 'prod*'] }",
  ].join("\n");

  test("a file's block is read with its line; what it leaves out grants nothing", () => {
    const f = file("approvers", APPROVERS);
    expect(f.promotion).toEqual({
      line: 4,
      stagesTo: ["Staging", "Archived"],
      aliasesAllow: ["*"],
      aliasesDeny: ["champion", "prod*"],
      separateFromCreator: false,
    });
    expect(file("none", "description: x\nallow: ['*']\npromotion: {}\n").promotion).toMatchObject({
      stagesTo: [],
      aliasesAllow: [],
    });
  });

  test("stages are MLflow's four names as it stores them; an alias pattern has no other characters", () => {
    const e = thrownBy(
      () =>
        file(
          "bad",
          "description: x\nallow: ['*']\npromotion:\n  stages: { to: [production, Prod] }\n  aliases: { allow: ['a.b'] }\n",
        ),
      GroupPolicyError,
    );
    expect(e.problems.join("\n")).toMatch(/must be equal to one of the allowed values at \/promotion\/stages\/to\/0/);
    expect(e.problems.join("\n")).toMatch(/at \/promotion\/aliases\/allow\/0/);
  });

  test("extends keeps the restrictions of the group it extends; two different ones must be settled in the file", () => {
    const groups = resolveGroups(
      [
        file("approvers", APPROVERS),
        file("senior", "description: x\nextends: approvers\nallow: ['*']\n"),
        file(
          "release",
          "description: x\nallow: ['*']\npromotion:\n  stages: { to: [Production] }\n  separateFromCreator: true\n",
        ),
        file("open", "description: x\nallow: ['*']\n"),
      ],
      catalog,
    );
    expect(groups.get("senior")?.promotion).toEqual(groups.get("approvers")?.promotion);
    expect(groups.get("open")?.promotion).toBeUndefined();
    expect(groups.get("release")?.promotion).toMatchObject({ stagesTo: ["Production"], separateFromCreator: true });

    const e = thrownBy(
      () =>
        resolveGroups(
          [
            file("approvers", APPROVERS),
            file("release", "description: x\nallow: ['*']\npromotion:\n  stages: { to: [Production] }\n"),
            file("both", "description: x\nextends: [approvers, release]\nallow: ['*']\n"),
          ],
          catalog,
        ),
      GroupPolicyError,
    );
    expect(e.problems).toContain(
      "groups/both.yaml:1: extends groups with different promotion rules (approvers, release): state this group's own promotion block",
    );
  });
});
