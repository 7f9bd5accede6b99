import { PolicySet, Surface } from "../../../authorizer/core/policy-set";
import { largestAnswer, lintGroupFiles, lintPolicySet, undeployable } from "../../../authorizer/core/lint";
import { parseGroupFile } from "../../../authorizer/core/group-file";
import { loadGroupFiles, loadPolicySet } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR, REPO_ROOT } from "../../../project/paths";

describe("lintPolicySet", () => {
  const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const files = loadGroupFiles(GROUPS_DIR, REPO_ROOT);

  /** A policy set whose compiler adds globs to one group's policy on one surface. */
  function withExtraGlobs(group: string, surface: Surface, extra: readonly string[]): PolicySet {
    class Patched extends PolicySet {
      override resourcesFor(groupNames: readonly string[], s: Surface) {
        const r = super.resourcesFor(groupNames, s);
        return s === surface && groupNames.includes(group) ? { ...r, allow: [...r.allow, ...extra] } : r;
      }
    }
    return new Patched(set.catalog, set.groups);
  }

  test("reports a compiled policy that grants a route the group does not allow (over-grant)", () => {
    // Prepare
    const leaky = withExtraGlobs("readers", "cognito", ["POST/ajax-api/2.0/mlflow/runs/create"]);
    // Act
    const report = lintPolicySet(leaky, files);
    // Assess
    const grants = report.problems.filter((p) => p.includes("-grant:"));
    expect(grants).toEqual([
      'policies/groups/readers.yaml:1: over-grant: the compiled cognito policy of "readers" allows POST /ajax-api/2.0/mlflow/runs/create (CreateRun), which the group does not allow',
    ]);
  });

  test("reports a compiled policy that denies a route the group allows (under-grant)", () => {
    // Prepare
    class Stingy extends PolicySet {
      override resourcesFor(groupNames: readonly string[], s: Surface) {
        const r = super.resourcesFor(groupNames, s);
        return s === "iam" && groupNames.includes("readers")
          ? { ...r, deny: [...r.deny, "POST/api/2.0/mlflow/runs/search"] }
          : r;
      }
    }
    // Act
    const report = lintPolicySet(new Stingy(set.catalog, set.groups), files);
    // Assess
    expect(report.problems.filter((p) => p.includes("-grant:"))).toEqual([
      'policies/groups/readers.yaml:1: under-grant: the compiled iam policy of "readers" denies POST /api/2.0/mlflow/runs/search (SearchRuns), which the group allows',
    ]);
  });

  test("reports policies over the authorizer and IAM size limits", () => {
    // Prepare: globs of paths no route has, so only the sizes change; the authorizer's under one API resource.
    const padding = Array.from({ length: 800 }, (_v, i) => `GET/no-such-prefix/${"x".repeat(40)}/${i}`);
    const underExperiments = padding.map((g) =>
      g.replace("GET/no-such-prefix/", "GET/ajax-api/2.0/mlflow/experiments/"),
    );
    const big = lintPolicySet(withExtraGlobs("readers", "cognito", underExperiments), files);
    const bigIam = lintPolicySet(
      withExtraGlobs(
        "readers",
        "iam",
        padding.map((g) => g.replace("GET/", "GET/api/")),
      ),
      files,
    );
    // Assess
    expect(big.problems).toContainEqual(
      expect.stringMatching(
        /^policies\/groups\/readers\.yaml:1: the authorizer's largest answer for "readers" is \d+ bytes \(for GET \/ajax-api\/2\.0\/mlflow\/experiments\/\{proxy\+\}\); mlflow-gate designs to 8192 \(docs\/policies\.md, "Size limits"\)$/,
      ),
    );
    expect(bigIam.problems).toContainEqual(
      expect.stringMatching(
        /^policies\/groups\/readers\.yaml:1: the IAM policies of "readers" do not fit: needs \d+ managed policies/,
      ),
    );
  });
});

describe("lintGroupFiles", () => {
  const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const files = loadGroupFiles(GROUPS_DIR, REPO_ROOT);

  test("reports each problem found reading the files once, and compiles nothing", () => {
    // Act
    const report = lintGroupFiles(set.catalog, files, ["a.yaml:3: bad", "a.yaml:3: bad"]);
    // Assess
    expect(report).toEqual({
      problems: ["a.yaml:3: bad"],
      sizes: [],
      unions: [],
      routeCount: set.catalog.routes.length,
    });
  });

  test("reports the problems of resolving the groups (an unknown base) as file:line", () => {
    // Prepare
    const orphan = parseGroupFile("orphan", "orphan.yaml", "description: x\nextends: nobody\nallow: [GetRun]\n");
    // Act
    const report = lintGroupFiles(set.catalog, [...files, orphan], []);
    // Assess
    expect(report.problems).toEqual(['orphan.yaml:1: extends unknown group "nobody"']);
    expect(report.sizes).toEqual([]);
  });

  test("valid files get the checks on compiled policies: no problem and the sizes of each group", () => {
    // Act
    const report = lintGroupFiles(set.catalog, files, []);
    // Assess
    expect(report.problems).toEqual([]);
    expect(report.sizes.map((s) => s.group)).toEqual([
      "admins",
      "model-approvers",
      "readers",
      "release-managers",
      "writers",
    ]);
    expect(report.routeCount).toBe(set.catalog.routes.length);
  });

  describe("promotion blocks", () => {
    const lintWith = (text: string) =>
      lintGroupFiles(set.catalog, [...files, parseGroupFile("tier", "tier.yaml", `description: x\n${text}`)], []);

    test("stage and alias rights without the routes that use them never apply", () => {
      // Act
      const report = lintWith(
        "extends: readers\nallow: [GetRun]\npromotion:\n  stages:\n    to: [Production]\n  aliases:\n    allow: [champion]\n",
      );
      // Assess
      expect(report.problems).toEqual([
        'tier.yaml:5: "tier" has stage rights but not TransitionModelVersionStage: they never apply',
        'tier.yaml:5: "tier" has alias rights but neither SetRegisteredModelAlias nor DeleteRegisteredModelAlias: they never apply',
      ]);
    });

    test("a route right with no stage or alias to promote is reported: every call would be refused", () => {
      // Act
      const report = lintWith("allow: [class:registry-promote]\npromotion:\n  separateFromCreator: true\n");
      // Assess
      expect(report.problems).toEqual([
        'tier.yaml:4: "tier" may call TransitionModelVersionStage but move a version to no stage: every call is refused (grant stages.to, or deny the route)',
        'tier.yaml:4: "tier" may call the alias routes but name no alias: every call is refused (grant aliases.allow, or deny the routes)',
      ]);
    });

    test("an inherited block is checked against the extending group's routes, at line 1", () => {
      // Act: model-approvers' block, without its promotion routes
      const report = lintWith("extends: model-approvers\nallow: []\ndeny: [class:registry-promote]\n");
      // Assess
      expect(report.problems).toEqual([
        'tier.yaml:1: "tier" has stage rights but not TransitionModelVersionStage: they never apply',
        'tier.yaml:1: "tier" has alias rights but neither SetRegisteredModelAlias nor DeleteRegisteredModelAlias: they never apply',
      ]);
    });

    test("an unknown stage is refused with the names MLflow stores", () => {
      // Act
      const parse = () =>
        lintWith("allow: [TransitionModelVersionStage]\npromotion:\n  stages:\n    to: [production]\n");
      // Assess
      expect(parse).toThrow(
        'tier.yaml:5: must be equal to one of the allowed values at /promotion/stages/to/0 ("production": write one of None, Staging, Production, Archived, as spelt here)',
      );
    });
  });
});

describe("undeployable: what policy check and lint agree on", () => {
  const files = loadGroupFiles(GROUPS_DIR, REPO_ROOT);
  const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const big = PolicySet.fromFiles(set.catalog, [
    ...files,
    parseGroupFile("writers", "writers.yaml", "description: w\nextends: readers\nallow: [class:write]\n"),
  ]);

  test("the default groups fit on both surfaces, alone and together", () => {
    for (const groups of [["readers"], ["model-approvers", "release-managers", "readers"], ["admins"]])
      for (const surface of ["cognito", "iam"] as const) expect(undeployable(set, groups, surface)).toBeUndefined();
  });

  test("a group with every write (issue 17's data-scientists, 11.8 KB as one route-set policy) fits on both surfaces", () => {
    expect(undeployable(big, ["writers"], "cognito")).toBeUndefined();
    expect(undeployable(big, ["writers"], "iam")).toBeUndefined();
    expect(largestAnswer(big, ["writers"]).authorizerBytes).toBeLessThan(2048);
  });

  test("an answer over the design limit for one verb and resource is undeployable on the UI surface, naming its size and key", () => {
    // Prepare: 800 globs no route has, all under one API resource
    const padded = new (class extends PolicySet {
      override resourcesFor(groupNames: readonly string[], s: Surface) {
        const r = super.resourcesFor(groupNames, s);
        const extra = Array.from({ length: 800 }, (_v, i) => `POST/ajax-api/2.0/mlflow/runs/${"x".repeat(40)}/${i}`);
        return s === "cognito" ? { ...r, allow: [...r.allow, ...extra] } : r;
      }
    })(set.catalog, set.groups);
    // Act, Assess
    expect(undeployable(padded, ["readers"], "cognito")).toMatch(
      /^the authorizer's largest answer for a user in readers is \d{5} bytes \(for POST \/ajax-api\/2\.0\/mlflow\/runs\/\{proxy\+\}\); mlflow-gate designs to 8192 \(docs\/policies\.md, "Size limits"\) \(policy lint\)$/,
    );
  });

  test("IAM policies a role could not hold are undeployable on the SDK surface", () => {
    const padded = (extra: string[]) =>
      new (class extends PolicySet {
        override resourcesFor(groupNames: readonly string[], s: Surface) {
          const r = super.resourcesFor(groupNames, s);
          return s === "iam" ? { ...r, allow: [...r.allow, ...extra] } : r;
        }
      })(set.catalog, set.groups);
    const resource = (i: number, length: number) => `POST/api/2.0/mlflow/${String(i).padEnd(length, "x")}`;
    expect(undeployable(padded(Array.from({ length: 12 }, (_, i) => resource(i, 5500))), ["readers"], "iam")).toMatch(
      /^the policies of readers cannot be built: needs \d+ managed policies; a role holds 10 by default, 1 of them taken by a Studio execution role's own policy$/,
    );
    expect(undeployable(padded([resource(0, 7000)]), ["readers"], "iam")).toBe(
      "the policies of readers cannot be built: one resource alone exceeds the IAM policy size limit",
    );
  });
});
