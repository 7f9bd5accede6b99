import { AnswerKey, authorizerKeys, isResourceTemplate, scopeToKey } from "../../../authorizer/core/answer-scope";
import { samplePath } from "../../../authorizer/core/catalog";
import { apiResourcesOf, EXAMPLE_STAGE } from "../../../authorizer/core/decide-request";
import { evaluatePolicies, ParsedPolicy, parsePolicyDocument } from "../../../authorizer/core/evaluate";
import { formatMethodArn } from "../../../authorizer/core/method-arn";
import { authorizerScope, PolicySet } from "../../../authorizer/core/policy-set";
import { loadGroupFiles, loadRouteCatalog } from "../../../authorizer/load-policies";
import { CATALOG_FILE, EXAMPLE_GROUPS_DIR, GROUPS_DIR, REPO_ROOT } from "../../../project/paths";

// The default groups and the example ones: every tier a deployment is likely to have.
const catalog = loadRouteCatalog(CATALOG_FILE);
const set = PolicySet.fromFiles(catalog, [
  ...loadGroupFiles(GROUPS_DIR, REPO_ROOT),
  ...loadGroupFiles(EXAMPLE_GROUPS_DIR, REPO_ROOT),
]);
const bounded = [...set.groups.keys()].filter((g) => set.groups.get(g)?.unknownRoutes !== "allow").sort();
const GROUP_SETS = [...[...set.groups.keys()].map((g) => [g]), bounded, ["readers", "model-approvers"]];
const scope = authorizerScope(EXAMPLE_STAGE);
const keyId = (k: AnswerKey) => `${k.method} ${k.resource}`;

/** Each Cognito route's sample request, with the key API Gateway gives it. */
const requests = catalog.routes
  .filter((r) => r.auth === "cognito")
  .flatMap((r) => {
    const path = samplePath(r.path);
    const resource = apiResourcesOf(catalog.routes).resolve(r.method, path)?.resourcePath;
    return resource
      ? [
          {
            arn: formatMethodArn({ ...EXAMPLE_STAGE, method: r.method, path }),
            key: keyId({ method: r.method, resource }),
          },
        ]
      : [];
  });

const decide = (policy: ParsedPolicy, arn: string) => evaluatePolicies([policy], "execute-api:Invoke", arn).decision;

describe("scopeToKey", () => {
  test("keeps the allow globs that can match a request of the key, and the denies that overlap them", () => {
    // Prepare
    const resources = {
      allow: [
        "GET/ajax-api/2.0/mlflow/runs/get",
        "POST/ajax-api/2.0/mlflow/runs/search",
        "POST/*api/2.0/mlflow/runs/*",
      ],
      deny: ["POST/ajax-api/2.0/mlflow/runs/delete", "GET/ajax-api/2.0/mlflow/experiments/get"],
    };
    // Act
    const scoped = scopeToKey(resources, { method: "POST", resource: "/ajax-api/2.0/mlflow/runs/{proxy+}" });
    // Assess
    expect(scoped).toEqual({
      allow: ["POST/ajax-api/2.0/mlflow/runs/search", "POST/*api/2.0/mlflow/runs/*"],
      deny: ["POST/ajax-api/2.0/mlflow/runs/delete"],
    });
  });

  test("a key the groups may call nothing under keeps the shortest allow glob, which matches none of its requests", () => {
    // Act
    const scoped = scopeToKey(
      { allow: ["GET/ajax-api/2.0/mlflow/runs/get", "GET/graphql"], deny: [] },
      { method: "POST", resource: "/ajax-api/2.0/mlflow/webhooks" },
    );
    // Assess
    expect(scoped).toEqual({ allow: ["GET/graphql"], deny: [] });
  });

  test("a group set with no allow glob keeps none", () => {
    expect(scopeToKey({ allow: [], deny: [] }, { method: "GET", resource: "/graphql" })).toEqual({
      allow: [],
      deny: [],
    });
  });
});

describe("the authorizer's answers for the default and example groups", () => {
  const keys = authorizerKeys(catalog.routes);

  test("every key is a Cognito method of the API, and every Cognito route's request has one", () => {
    expect(keys.length).toBeGreaterThan(50);
    const ids = new Set(keys.map(keyId));
    expect(ids.size).toBe(keys.length);
    for (const r of requests) expect(ids).toContain(r.key);
  });

  test.each(GROUP_SETS.map((g) => [g.join(" + "), g]))(
    "%s: each answer decides its key's requests as the whole policy does, and allows nothing anywhere the whole policy denies",
    (_name, groups) => {
      // Prepare
      const whole = parsePolicyDocument(set.authorizerPolicy(groups, scope));
      const wholeDecision = new Map(requests.map((r) => [r.arn, decide(whole, r.arn)]));
      let sameKey = 0;
      for (const key of keys) {
        // Act
        const answer = parsePolicyDocument(set.authorizerAnswer(groups, scope, key));
        // Assess
        for (const r of requests) {
          const decision = decide(answer, r.arn);
          if (r.key === keyId(key)) {
            expect({ request: r.arn, decision }).toEqual({ request: r.arn, decision: wholeDecision.get(r.arn) });
            sameKey++;
          } else if (decision === "Allow")
            expect({ request: r.arn, whole: wholeDecision.get(r.arn) }).toEqual({ request: r.arn, whole: "Allow" });
        }
      }
      expect(sameKey).toBe(requests.length);
    },
  );
});

describe("isResourceTemplate", () => {
  test.each([
    ["a greedy resource", "/ajax-api/2.0/mlflow/runs/{proxy+}", true],
    ["the root", "/", true],
    ["a literal resource", "/graphql", true],
    ["a relative path", "ajax-api/runs", false],
    ["an unclosed parameter", "/ajax-api/{broken", false],
    ["undefined", undefined, false],
    ["a number", 42, false],
    ["2,000 characters", `/${"x".repeat(2000)}`, false],
  ])("%s: %p", (_what, value, expected) => {
    expect(isResourceTemplate(value)).toBe(expected);
  });
});
