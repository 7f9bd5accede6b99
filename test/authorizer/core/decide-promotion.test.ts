import { decidePromotionRequest, unreadablePromotion } from "../../../authorizer/core/decide-promotion";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { loadRouteCatalog } from "../../../authorizer/load-policies";
import { CATALOG_FILE } from "../../../project/paths";
import { ADMINS, groupFile as file, READERS, routeOf } from "../support/promotion-tiers";

const catalog = loadRouteCatalog(CATALOG_FILE);
const set = PolicySet.fromFiles(catalog, [
  READERS,
  file(
    "model-approvers",
    "description: a\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion] }\n",
  ),
  ADMINS,
]);
const route = (action: string, auth: "iam" | "cognito") => routeOf(catalog, action, auth);
const toProduction = { kind: "transition", to: "Production", from: "None", archiveExisting: false } as const;
const parties = { caller: "ann", creator: "bob" };

describe("decidePromotionRequest", () => {
  test("allowed by one group's rule: says which group", () => {
    // Act
    const v = decidePromotionRequest(
      set,
      ["model-approvers", "admins"],
      route("TransitionModelVersionStage", "iam"),
      toProduction,
      parties,
    );
    // Assess
    expect(v).toEqual({ ok: true, group: "admins" });
  });

  test("refused by every rule: a 403 naming the rule and the group file", () => {
    // Act
    const v = decidePromotionRequest(
      set,
      ["model-approvers"],
      route("TransitionModelVersionStage", "cognito"),
      toProduction,
      parties,
    );
    // Assess
    expect(v).toEqual({
      ok: false,
      status: 403,
      reason: "promotion-stage-not-allowed",
      message: "policies/groups/model-approvers.yaml allows no promotion to Production",
    });
  });

  test.each([
    ["iam", "a SigV4 caller's group comes from the deployment's role table"],
    ["cognito", "Cognito groups"],
  ] as const)("no group with the route right (%s): a 403 saying where groups come from", (auth, source) => {
    // Act
    const v = decidePromotionRequest(
      set,
      ["readers", "ghosts"],
      route("SetRegisteredModelAlias", auth),
      { kind: "set-alias", alias: "x" },
      parties,
    );
    // Assess
    expect(v).toEqual({
      ok: false,
      status: 403,
      reason: "promotion-no-group",
      message: `ann is in no group that may SetRegisteredModelAlias (${source})`,
    });
  });

  test("an unreadable body is a 400 with the reader's reason", () => {
    expect(unreadablePromotion("stage must be ...")).toEqual({
      ok: false,
      status: 400,
      reason: "promotion-request-unreadable",
      message: "stage must be ...",
    });
  });
});
