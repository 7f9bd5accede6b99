import { loadRouteCatalog } from "../../../authorizer/load-policies";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { PromotionRights } from "../../../authorizer/core/promotion-rights";
import { CATALOG_FILE } from "../../../project/paths";
import { describeClasses, describePromotion, summarizeTier, tierSet } from "../../../scripts/lib/tier-summary";
import { ADMINS, APPROVERS, READERS, RELEASE_MANAGERS } from "../../authorizer/support/promotion-tiers";

const catalog = loadRouteCatalog(CATALOG_FILE);
const set = PolicySet.fromFiles(catalog, [READERS, APPROVERS, RELEASE_MANAGERS, ADMINS]);
const teams = PolicySet.fromFiles(catalog, [READERS, APPROVERS, RELEASE_MANAGERS, ADMINS], undefined, [
  { name: "team-a", file: "team-a.yaml", description: "A.", tiers: [{ tier: "readers", line: 3, groups: ["a-r"] }] },
]);

describe("summarizeTier", () => {
  test("counts a tier's routes by class as the gateway decides them", () => {
    // Act
    const s = summarizeTier(set, "readers");
    // Assess
    const read = catalog.routes.filter((r) => r.class === "read").length;
    expect(s.total).toBe(catalog.routes.length);
    expect(s.classes.map((c) => c.class)).toEqual(["read", "static"]);
    expect(s.classes[0]).toEqual({ class: "read", allowed: read, total: read });
    expect(describeClasses(s)).toMatch(new RegExp(`^read \\(all ${read}\\), static \\(all \\d+\\)$`));
  });

  test("with teams, a tier is decided as its group file without workspaces (not as a caller group, which it is not)", () => {
    // Act
    const withTeams = summarizeTier(tierSet(teams), "readers");
    const direct = summarizeTier(teams, "readers");
    // Assess
    expect(withTeams).toEqual(summarizeTier(set, "readers"));
    expect(direct.allowed).toBeLessThan(withTeams.allowed);
  });

  test("names the promotion rights as the guard decides them", () => {
    // Act
    const s = summarizeTier(set, "model-approvers");
    // Assess
    expect(describeClasses(s)).toMatch(/registry-promote \(all \d+\)/);
    expect(s.promotion).toBe(
      "moves versions to Staging, Archived (out of any stage); sets and deletes aliases * but not champion, prod*",
    );
  });
});

describe("describePromotion", () => {
  const rights: PromotionRights = {
    transition: true,
    setAlias: true,
    deleteAlias: false,
    stagesTo: ["Production"],
    stagesFrom: ["Staging"],
    aliasesAllow: ["champion"],
    aliasesDeny: [],
    separateFromCreator: true,
  };
  test.each([
    [undefined, "promotes nothing (may call no promotion route)"],
    [
      rights,
      "moves versions to Production (out of Staging); sets aliases champion; never on a version it created (two-person rule)",
    ],
    [{ ...rights, setAlias: false, separateFromCreator: false, stagesTo: [] }, "moves versions to no stage"],
  ])("%j", (r, words) => {
    expect(describePromotion(r)).toBe(words);
  });
});
