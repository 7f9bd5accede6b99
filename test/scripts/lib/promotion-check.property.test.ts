import fc from "fast-check";
import { CatalogRoute } from "../../../authorizer/core/catalog";
import { parseGroupFile } from "../../../authorizer/core/group-file";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { samePerson, STAGES } from "../../../authorizer/core/promotion";
import { loadRouteCatalog } from "../../../authorizer/load-policies";
import { Caller } from "../../../guard/caller";
import { JsonObject } from "../../../guard/json-body";
import { checkPromotion } from "../../../guard/promotion";
import { isPromotionAction, PromotionAction } from "../../../guard/promotion-request";
import { CATALOG_FILE } from "../../../project/paths";
import {
  decidePromotionFields,
  PROMOTION_FLAGS,
  PromotionFields,
  PromotionFlag,
} from "../../../scripts/lib/promotion-check";

// Property: for any promotion request (stage and alias names MLflow accepts and junk), any creator and caller,
// and any set of group files with or without promotion blocks, `mlflow-gate policy check` decides as the guard:
// the same 400 or 403 (status, reason, message), or both let it through.
// Not modelled: a SigV4 caller outside the role table, whose group the guard cannot name (policy check always
// names the groups); guard/promotion.test.ts covers it.

const catalog = loadRouteCatalog(CATALOG_FILE);
const promotionRoutes = catalog.routes.filter((r) => isPromotionAction(r.action)) as (CatalogRoute & {
  action: PromotionAction;
})[];

/** Any ASCII case mix of a stage's name: every spelling MLflow accepts. */
const spelledStage = fc
  .tuple(fc.constantFrom(...STAGES), fc.infiniteStream(fc.boolean()))
  .map(([s, upper]) => [...s].map((c) => (upper.next().value ? c.toUpperCase() : c.toLowerCase())).join(""));
const junkStage = fc.oneof(
  fc.constantFrom(
    "PRODUCTİON", // U+0130 folds to "i̇" in Python, not "i"
    "productıon", // dotless i
    "ＰＲＯＤＵＣＴＩＯＮ",
    " Production",
    "Staging ",
    "Archived\n",
    "\tNone",
    "",
    "Prod",
    "Deleted_Internal",
  ),
  fc.string({ maxLength: 12 }),
  fc.tuple(spelledStage, fc.constantFrom(" ", "\n", "\u00a0", "\u200b", "s")).map(([s, x]) => s + x),
);
const aliasName = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), weight: 3 },
  {
    arbitrary: fc.constantFrom("champion", "CHAMPION", "Champion", "prod", "production-eu", "challenger-2", "staging"),
    weight: 6,
  },
  fc.constantFrom("champіon", "chämpion", "prod\u00e9", "ｃｈａｍｐｉｏｎ"), // Cyrillic і, Latin-1, full width
  fc.constantFrom("champion", "prod-1", "a").map((a) => `${a}\n`),
  fc.constantFrom(255, 256, 1000).map((n) => "a".repeat(n)),
  fc.constantFrom("", " ", "a b", "a*"),
  fc.string({ maxLength: 8 }),
);
// A SigV4 caller "alice" is `assumed-role/release/alice` to the guard, a creator it may have stamped.
const person = fc.constantFrom("alice", "bob", "Alice");
const creator = fc.constantFrom("alice", "bob", "assumed-role/release/alice", "user/carol");

/** A group file: a promotion route right (mostly) or none, with a random promotion block or none. */
const GROUP_NAMES = ["g0", "g1", "g2", "g3"];
const routeRight = fc.oneof(
  { arbitrary: fc.constant(["class:registry-promote"]), weight: 6 },
  fc.constantFrom(
    ["TransitionModelVersionStage"],
    ["SetRegisteredModelAlias", "DeleteRegisteredModelAlias"],
    ["SetRegisteredModelAlias"],
    ["class:read"],
    ["*"],
  ),
);
const promotionBlock = fc.record(
  {
    stages: fc.record(
      { to: fc.subarray([...STAGES], { minLength: 1 }), from: fc.subarray([...STAGES], { minLength: 2 }) },
      { requiredKeys: ["to"] },
    ),
    aliases: fc.record(
      {
        allow: fc.subarray(["*", "champion", "prod*", "challenger-*"], { minLength: 1 }),
        deny: fc.subarray(["champion", "prod*", "CHAMP*", "*-eu", "staging"]),
      },
      { requiredKeys: ["allow"] },
    ),
    separateFromCreator: fc.boolean(),
  },
  { requiredKeys: ["stages", "aliases"] },
);
const groupFile = fc.record(
  { allow: routeRight, promotion: fc.option(promotionBlock, { nil: undefined, freq: 4 }) },
  { requiredKeys: ["allow"] },
);
const groupFiles = fc.array(groupFile, { minLength: 1, maxLength: GROUP_NAMES.length }).map((files) =>
  // JSON is YAML: the files go through the parser the CLI and the guard load them with.
  files.map((f, i) =>
    parseGroupFile(
      GROUP_NAMES[i] as string,
      `policies/groups/${GROUP_NAMES[i]}.yaml`,
      JSON.stringify({ description: "random", ...f }),
    ),
  ),
);

const request = fc.record({
  route: fc.constantFrom(...promotionRoutes),
  stage: fc.oneof({ arbitrary: spelledStage, weight: 4 }, junkStage),
  alias: aliasName,
  fromStage: fc.constantFrom(...STAGES),
  fromStageGiven: fc.boolean(),
  archiveExisting: fc.constantFrom(undefined, false, true),
  camelCaseFlag: fc.boolean(),
  creator: fc.option(creator, { nil: undefined, freq: 4 }),
  caller: person,
  callerGiven: fc.boolean(),
  groups: fc.subarray([...GROUP_NAMES, "ghosts"], { minLength: 1 }),
  iamGroup: fc.constantFrom(...GROUP_NAMES),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** The body a client sends the guard, spelled as it may spell it. */
function bodyOf(r: Req): JsonObject {
  switch (r.route.action) {
    case "TransitionModelVersionStage":
      return {
        name: "m",
        version: "3",
        stage: r.stage,
        ...(r.archiveExisting === undefined
          ? {}
          : { [r.camelCaseFlag ? "archiveExistingVersions" : "archive_existing_versions"]: r.archiveExisting }),
      };
    case "SetRegisteredModelAlias":
      return { name: "m", alias: r.alias, version: "3" };
    case "DeleteRegisteredModelAlias":
      return { name: "m", alias: r.alias };
  }
}

/** The flags `policy check` would be given for the same request: only those the route reads. */
function fieldsOf(r: Req, callerName: string): PromotionFields {
  const all: Record<PromotionFlag, Partial<PromotionFields>> = {
    stage: { stage: r.stage },
    // Left out, the version's stage is None.
    "from-stage": r.fromStage === "None" && !r.fromStageGiven ? {} : { fromStage: r.fromStage },
    "archive-existing": r.archiveExisting === undefined ? {} : { archiveExisting: r.archiveExisting },
    alias: { alias: r.alias },
    creator: r.creator === undefined ? {} : { creator: r.creator },
    // Left out, the caller is someone other than the creator: the same answer when the guard's caller is (a role's
    // sessions being one person).
    caller:
      r.callerGiven || (r.creator !== undefined && samePerson(callerName, r.creator)) ? { caller: callerName } : {},
  };
  const applies = (f: PromotionFlag) => (PROMOTION_FLAGS[f] as readonly string[]).includes(r.route.action);
  return Object.assign({}, ...(Object.keys(all) as PromotionFlag[]).filter(applies).map((f) => all[f]));
}

describe("policy check decides promotions as the guard does", () => {
  test("same 400/403 (status, reason, message) or both allow, for random requests, people and group files", async () => {
    await fc.assert(
      fc.asyncProperty(groupFiles, request, async (files, r) => {
        // Prepare: the caller as the guard knows it (a SigV4 caller's one group from the role table)
        const policySet = PolicySet.fromFiles(catalog, files);
        const iam = r.route.auth === "iam";
        const role = "release";
        const caller: Caller = {
          surface: iam ? "iam" : "cognito",
          principal: "p",
          username: r.caller,
          groups: iam ? [] : r.groups,
          name: iam ? `assumed-role/${role}/${r.caller.replace(/\//g, "-")}` : r.caller,
          sourceIp: "203.0.113.9",
        };
        const groups = iam ? [r.iamGroup] : r.groups;
        const lookup = {
          version: async () => ({
            stage: r.fromStage,
            aliases: [],
            ...(r.creator === undefined ? {} : { creator: r.creator }),
          }),
          model: async () => undefined,
        };
        const fields = fieldsOf(r, caller.name);
        // Act
        const guard = await checkPromotion(
          { policySet, iamGroups: new Map([[`role/${role}`, r.iamGroup]]) },
          r.route,
          caller,
          bodyOf(r),
          lookup,
        );
        const check = decidePromotionFields(policySet, groups, r.route, fields);
        // Assess: past the gateway (a group with the route right), the same answer; else both refuse, and the
        // CLI prints the gateway's DENY before any body is read.
        if (policySet.intends(groups, r.route)) expect(check.ok ? { ok: true } : check).toEqual(guard);
        else {
          expect(guard.ok).toBe(false);
          expect(check.ok).toBe(false);
        }
      }),
      { numRuns: 600 },
    );
  });
});
