import { parseMethodArn } from "../../../authorizer/core/method-arn";
import { authorizerScope, groupCombinations } from "../../../authorizer/core/policy-set";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";

// Decisions on requests are tested with decideRequest (decide-request.test.ts); here, the policy set itself.

const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

describe("PolicySet on the real policies", () => {
  test("only known groups count, sorted and once each", () => {
    expect(set.knownGroups(["readers", "nobody", "admins", "readers"])).toEqual(["admins", "readers"]);
  });

  test("only groups with unknownRoutes: allow may call routes the catalog does not list", () => {
    expect(set.mayCallUnknownRoutes(["readers", "model-approvers"])).toBe(false);
    expect(set.mayCallUnknownRoutes(["readers", "admins"])).toBe(true);
    expect(set.mayCallUnknownRoutes(["nobody"])).toBe(false);
  });

  test("several groups are one union, compiled once whatever the order or repetition", () => {
    expect(set.resourcesFor(["model-approvers", "readers", "readers"], "cognito")).toBe(
      set.resourcesFor(["readers", "model-approvers"], "cognito"),
    );
  });
});

describe("authorizerScope", () => {
  test("names the API id exactly and every region, account and stage", () => {
    // Prepare
    const arn = parseMethodArn("arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/health");
    // Act, Assess
    expect(authorizerScope(arn)).toEqual({ partition: "aws", region: "*", account: "*", apiId: "abc", stage: "*" });
  });
});

describe("groupCombinations", () => {
  test("every set of two or more groups while there are few, none past the bound", () => {
    expect(groupCombinations(["b", "a", "c"])).toEqual([
      ["a", "b"],
      ["a", "c"],
      ["b", "c"],
      ["a", "b", "c"],
    ]);
    expect(groupCombinations(["a", "b", "c"], 2)).toEqual([]);
  });
});
