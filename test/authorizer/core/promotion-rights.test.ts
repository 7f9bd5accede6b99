import { PolicySet } from "../../../authorizer/core/policy-set";
import { isAllowed, promotionRightsOf } from "../../../authorizer/core/promotion-rights";
import { loadRouteCatalog } from "../../../authorizer/load-policies";
import { CATALOG_FILE } from "../../../project/paths";
import { ADMINS, APPROVERS, groupFile, READERS, RELEASE_MANAGERS, routeOf } from "../support/promotion-tiers";

const catalog = loadRouteCatalog(CATALOG_FILE);
const set = PolicySet.fromFiles(catalog, [
  READERS,
  APPROVERS,
  RELEASE_MANAGERS,
  ADMINS,
  groupFile(
    "leavers",
    "description: l\nallow: [TransitionModelVersionStage]\npromotion:\n  stages: { to: [Archived], from: [Production] }\n",
  ),
]);

describe("promotionRightsOf", () => {
  test("a block's stages, aliases and two-person rule, as the guard decides them", () => {
    expect(promotionRightsOf(set, "release-managers")).toEqual({
      transition: true,
      setAlias: true,
      deleteAlias: true,
      stagesTo: ["Production", "Archived"],
      stagesFrom: ["None", "Staging", "Production", "Archived"],
      aliasesAllow: ["champion", "prod*"],
      aliasesDeny: [],
      separateFromCreator: true,
    });
  });

  test("a `from` rule narrows the stages a version may leave; alias routes not granted are said so", () => {
    expect(promotionRightsOf(set, "leavers")).toMatchObject({
      transition: true,
      setAlias: false,
      deleteAlias: false,
      stagesTo: ["Archived"],
      stagesFrom: ["Production"],
    });
  });

  test("no block: whatever the route allows; no promotion route: no rights at all", () => {
    expect(promotionRightsOf(set, "admins")).toMatchObject({ stagesTo: ["None", "Staging", "Production", "Archived"] });
    expect(promotionRightsOf(set, "readers")).toBeUndefined();
  });
});

test("isAllowed: the gateway's decision on the route's sample path", () => {
  expect(isAllowed(set, "readers", routeOf(catalog, "GetModelVersion"))).toBe(true);
  expect(isAllowed(set, "readers", routeOf(catalog, "TransitionModelVersionStage"))).toBe(false);
});
