import { routeId } from "../../authorizer/core/catalog";
import { decidePath, explainDecision } from "../../authorizer/core/decide-request";
import { PolicySet } from "../../authorizer/core/policy-set";
import { loadGroupFiles, loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, EXAMPLE_GROUPS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { STAGES } from "../../authorizer/core/promotion";
import { promotionRightsOf } from "../../authorizer/core/promotion-rights";
import { askMlflowRouting, buildProbes } from "../support/probes";

// Prepare (once): the real policies, a probe set over the whole catalog, and MLflow's own routing.
const set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const byId = new Map(set.catalog.routes.map((r) => [routeId(r), r]));
const probes = buildProbes(set.catalog);
const served = askMlflowRouting(probes);
// The default groups with the example ones (issue 17), and a user in the five bounded groups.
const withExamples = PolicySet.fromFiles(set.catalog, [
  ...loadGroupFiles(GROUPS_DIR, REPO_ROOT),
  ...loadGroupFiles(EXAMPLE_GROUPS_DIR, REPO_ROOT),
]);
const FIVE = ["data-scientists", "ml-engineers", "model-approvers", "readers", "release-managers"];

/** Every probe the compiled policies of `groups` (together) decide otherwise than their files intend. */
function wrongDecisions(policies: PolicySet, groups: readonly string[]): string[] {
  const wrong: string[] = [];
  const mayCallUnknown = policies.mayCallUnknownRoutes(groups);
  probes.forEach((p, i) => {
    // Act
    const check = decidePath(policies, groups, p.method, p.path);
    // Assess: against the route MLflow really serves. A request MLflow serves with no route (404)
    // must be denied to groups without `unknownRoutes: allow`; for the others either answer is harmless.
    const route = served[i] !== undefined ? byId.get(served[i] as string) : undefined;
    // A path the deployed API has no method for never reaches the policies (API Gateway answers 403
    // Missing Authentication Token): a parameter value that is a sibling's literal (`GET /jobs/search`
    // as GetJob with the id "search"). A route's own plain request must always reach them.
    if (check.reason === "no-api-method") {
      if (p.path === p.from.path.replace(/\{[^}]+\}/g, "x"))
        wrong.push(`${p.method} ${p.path}: the route's plain request has no method in the API`);
      return;
    }
    if (!route && mayCallUnknown) return;
    const intended = route ? policies.intends(groups, route) : false;
    if ((check.decision === "allow") !== intended) {
      wrong.push(
        `${p.method} ${p.path} -> ${route ? route.action : "unknown"}: compiled ${check.decision.toUpperCase()}, intended ${intended ? "ALLOW" : "DENY"} (${explainDecision(check)})`,
      );
    }
  });
  return wrong;
}

describe("decision matrix: every group x every catalog route (both mounts) x awkward parameter values", () => {
  test("the probe set covers every catalog route and smuggles paths through every greedy parameter", () => {
    const covered = new Set(probes.map((p) => routeId(p.from)));
    expect(covered.size).toBe(set.catalog.routes.length);
    const greedyRoutes = set.catalog.routes.filter((r) => r.path.includes("+}"));
    expect(greedyRoutes.length).toBeGreaterThan(10);
    for (const g of greedyRoutes) {
      // each other route of the same verb, smuggled twice (as the tail, and below one more segment)
      const sameVerb = set.catalog.routes.filter((r) => r.method === g.method).length;
      const smuggled = probes.filter((p) => p.from === g && p.path.includes("/x/")).length;
      expect(smuggled).toBeGreaterThanOrEqual(sameVerb - 1);
    }
  });

  test("every route of the catalog is served by MLflow for its own plain request", () => {
    const unserved = probes
      .map((p, i) => ({ p, s: served[i] }))
      .filter(({ p, s }) => s === undefined && p.path === p.from.path.replace(/\{[^}]+\}/g, "x"))
      .map(({ p }) => `${p.method} ${p.path}`);
    expect(unserved).toEqual([]);
  });

  test("the route matcher reads every probe as MLflow's own routers do", () => {
    const differ: string[] = [];
    probes.forEach((p, i) => {
      const ours = set.matcher.match(p.method, p.path);
      const theirs = served[i];
      if ((ours ? routeId(ours) : undefined) !== theirs)
        differ.push(`${p.method} ${p.path}: ours ${ours ? routeId(ours) : "none"}, MLflow ${theirs ?? "none"}`);
    });
    expect(differ).toEqual([]);
  });

  test.each([...set.groups.keys()])(
    "%s: the compiled policies decide every probe as the group file intends",
    (group) => {
      expect(wrongDecisions(set, [group])).toEqual([]);
    },
  );

  test.each([
    ["data-scientists", ["data-scientists"]],
    ["ml-engineers", ["ml-engineers"]],
    ["a user in the five bounded groups", FIVE],
  ])(
    "the default and example groups, %s: the compiled policies decide every probe as the group files intend",
    (_who, groups) => {
      expect(wrongDecisions(withExamples, groups)).toEqual([]);
    },
  );

  test("the group files mean what docs/policies.md says", () => {
    const allowed = (g: string, cls: string) =>
      set.catalog.routes.filter((r) => r.class === cls && set.intends([g], r)).length;
    const total = (cls: string) => set.catalog.routes.filter((r) => r.class === cls).length;
    // admins: everything; readers: every read and nothing else; model-approvers: readers + registry.
    for (const cls of ["read", "write", "registry-write", "registry-promote", "admin", "llm-gateway"]) {
      expect(allowed("admins", cls)).toBe(total(cls));
    }
    expect(allowed("readers", "read")).toBe(total("read"));
    for (const cls of ["write", "registry-write", "registry-promote", "admin", "llm-gateway"])
      expect(allowed("readers", cls)).toBe(0);
    expect(allowed("model-approvers", "read")).toBe(total("read"));
    expect(allowed("model-approvers", "registry-promote")).toBe(total("registry-promote"));
    expect(allowed("model-approvers", "registry-write")).toBe(total("registry-write") - 4); // two deletes x two mounts
    for (const cls of ["write", "admin", "llm-gateway"]) expect(allowed("model-approvers", cls)).toBe(0);
  });

  test.each([...set.groups.keys()])(
    "%s: the promotion table says what the group file's promotion block says",
    (group) => {
      // Act
      const rights = promotionRightsOf(set, group);
      const rule = set.groups.get(group)?.promotion;
      // Assess: no route right, no row; no block, whatever the route allows; a block, its stages (all of them when
      // it names no stage to leave from) and its alias patterns.
      const mayPromote = set.catalog.routes.some(
        (r) =>
          ["TransitionModelVersionStage", "SetRegisteredModelAlias", "DeleteRegisteredModelAlias"].includes(r.action) &&
          set.intends([group], r),
      );
      expect(rights !== undefined).toBe(mayPromote);
      if (rights === undefined || !rights.transition) return;
      if (rule === undefined) {
        expect(rights).toMatchObject({
          stagesTo: STAGES,
          aliasesAllow: ["*"],
          aliasesDeny: [],
          separateFromCreator: false,
        });
        return;
      }
      for (const s of rights.stagesTo) expect(rule.stagesTo).toContain(s);
      if (rule.stagesFrom === undefined)
        expect(rights.stagesTo).toEqual(STAGES.filter((s) => rule.stagesTo.includes(s)));
      expect(rights).toMatchObject({
        aliasesAllow: rule.aliasesAllow,
        aliasesDeny: rule.aliasesDeny,
        separateFromCreator: rule.separateFromCreator,
      });
    },
  );
});
