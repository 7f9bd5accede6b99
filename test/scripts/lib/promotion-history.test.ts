import { AuditRecord } from "../../../guard/audit";
import {
  buildModelHistory,
  describeOutcome,
  describeRequest,
  formatModelHistory,
  promotionEntries,
} from "../../../scripts/lib/promotion-history";

/** An audit line as the guard writes it, with what a test changes. */
function line(time: string, fields: Partial<AuditRecord>): AuditRecord {
  return {
    time: `2026-12-05T10:00:${time}.000Z`,
    level: fields.decision === "refused" ? "warn" : "info",
    component: "guard",
    event: "audit",
    requestId: `req-${time}`,
    surface: "cognito",
    principal: "sub",
    username: "ann",
    groups: ["model-approvers"],
    caller: "ann",
    sourceIp: "203.0.113.9",
    action: "TransitionModelVersionStage",
    method: "POST",
    path: "/ajax-api/2.0/mlflow/model-versions/transition-stage",
    resources: { model: "churn" },
    status: 200,
    decision: "forwarded",
    latencyMs: 3,
    ...fields,
  };
}

const PROD_REFUSAL = "policies/groups/model-approvers.yaml allows no promotion to Production";
const TRAIL: AuditRecord[] = [
  line("01", {
    action: "CreateModelVersion",
    caller: "bob",
    resources: { model: "churn", version: "1", run: "r", stage: "None" },
  }),
  line("02", {
    resources: { model: "churn", version: "1", stage: "Staging" },
    promotion: { kind: "transition", to: "Staging", from: "None", creator: "bob" },
  }),
  line("03", {
    resources: { model: "churn", version: "1", stage: "production" },
    promotion: { kind: "transition", to: "Production", from: "Staging", creator: "bob", message: PROD_REFUSAL },
    status: 403,
    decision: "refused",
    reason: "promotion-stage-not-allowed",
  }),
  line("04", {
    action: "SetRegisteredModelAlias",
    resources: { model: "churn", version: "1", alias: "challenger-2" },
    promotion: { kind: "set-alias", alias: "challenger-2", from: "Staging", creator: "bob" },
  }),
  line("05", { resources: { model: "other", version: "1", stage: "Production" } }),
  line("06", {
    action: "DeleteRegisteredModelAlias",
    method: "DELETE",
    resources: { model: "churn", alias: "challenger-2" },
    promotion: { kind: "delete-alias", alias: "challenger-2" },
  }),
  line("07", {
    action: "DeleteRegisteredModelAlias",
    method: "DELETE",
    resources: { model: "churn", alias: "champion" },
    promotion: { kind: "delete-alias", alias: "champion", message: "no deleting alias champion" },
    status: 403,
    decision: "refused",
    reason: "promotion-alias-not-allowed",
  }),
  line("08", {
    action: "CreateModelVersion",
    caller: "bob",
    resources: { model: "churn", version: "2", run: "r", stage: "None" },
  }),
  // A line from before the guard wrote `promotion`: what the resources say.
  line("09", {
    caller: "assumed-role/release/carol",
    resources: { model: "churn", version: "2", stage: "Production" },
    status: 404,
  }),
];

describe("buildModelHistory", () => {
  test("groups a model's promotions by version, with who created each version", () => {
    // Act
    const h = buildModelHistory("churn", TRAIL);

    // Assess
    expect(h.versions.map((v) => [v.version, v.created, v.promotions.map((e) => e.requestId)])).toEqual([
      ["1", { time: "2026-12-05T10:00:01.000Z", by: "bob" }, ["req-02", "req-03", "req-04", "req-06"]],
      ["2", { time: "2026-12-05T10:00:08.000Z", by: "bob" }, ["req-09"]],
    ]);
    expect(h.unattributed.map((e) => e.requestId)).toEqual(["req-07"]);
  });

  test("a refusal keeps the reason and the guard's message; the stage asked for is MLflow's reading of it", () => {
    const refused = buildModelHistory("churn", TRAIL).versions[0]!.promotions[1]!;
    expect(refused).toEqual({
      time: "2026-12-05T10:00:03.000Z",
      model: "churn",
      version: "1",
      kind: "transition",
      from: "Staging",
      to: "Production",
      who: "ann",
      principal: "sub",
      groups: ["model-approvers"],
      creator: "bob",
      outcome: "refused",
      status: 403,
      reason: "promotion-stage-not-allowed",
      message: PROD_REFUSAL,
      requestId: "req-03",
    });
  });

  test("an alias deletion goes to the version the trail last saw the alias set on, and says so", () => {
    const deleted = buildModelHistory("churn", TRAIL).versions[0]!.promotions[3]!;
    expect(deleted).toMatchObject({
      kind: "delete-alias",
      alias: "challenger-2",
      version: "1",
      versionFromTrail: true,
    });
  });

  test("the filter selects the rows, not what they say: a filtered-out set still places a later deletion", () => {
    const h = buildModelHistory("churn", TRAIL, (r) => r.action === "DeleteRegisteredModelAlias");
    expect(promotionEntries(h).map((e) => [e.requestId, e.version])).toEqual([
      ["req-06", "1"],
      ["req-07", undefined],
    ]);
  });

  test("a line without the promotion fields (older, or refused before the guard read the body) says what its resources do", () => {
    const old = buildModelHistory("churn", TRAIL).versions[1]!.promotions[0]!;
    expect(old).toMatchObject({ to: "Production", who: "assumed-role/release/carol", outcome: "failed", status: 404 });
    expect(old).not.toHaveProperty("from");
    const junk = buildModelHistory("churn", [
      line("10", { resources: { model: "churn", version: "1", stage: "Prod" }, status: 400, decision: "refused" }),
    ]).versions[0]!.promotions[0]!;
    expect(describeRequest(junk)).toBe('stage ? -> "Prod"');
  });
});

test("describeRequest and describeOutcome say a row in a few words", () => {
  const [created, staging, prod, alias, deletion] = promotionEntries(buildModelHistory("churn", TRAIL));
  expect(created && describeRequest(created)).toBe("stage None -> Staging");
  expect(staging && describeRequest(staging)).toBe("stage Staging -> Production");
  expect(prod && describeRequest(prod)).toBe("set alias challenger-2");
  expect(alias && describeRequest(alias)).toBe("delete alias challenger-2");
  expect(deletion && describeOutcome(deletion)).toBe("refused 403 promotion-alias-not-allowed");
  expect(created && describeOutcome(created)).toBe("done");
  expect(
    describeRequest({ ...created!, kind: "transition", from: "Production", to: "Production", archiveExisting: true }),
  ).toBe("stage Production -> Production (archiving the others)");
});

test("formatModelHistory: a table per version, the refusal's message under its row", () => {
  expect(formatModelHistory(buildModelHistory("churn", TRAIL))).toBe(
    [
      "model churn: 6 promotion requests, 2 refused by the guard",
      "",
      "version 1  created 2026-12-05T10:00:01.000Z by bob",
      "  TIME                      WHO                         REQUEST                      OUTCOME",
      "  2026-12-05T10:00:02.000Z  ann                         stage None -> Staging        done",
      "  2026-12-05T10:00:03.000Z  ann                         stage Staging -> Production  refused 403 promotion-stage-not-allowed",
      `                                                        ${PROD_REFUSAL}`,
      "  2026-12-05T10:00:04.000Z  ann                         set alias challenger-2       done",
      "  2026-12-05T10:00:06.000Z  ann                         delete alias challenger-2    done",
      "",
      "version 2  created 2026-12-05T10:00:08.000Z by bob",
      "  TIME                      WHO                         REQUEST                      OUTCOME",
      "  2026-12-05T10:00:09.000Z  assumed-role/release/carol  stage ? -> Production        failed 404",
      "",
      "version unknown (alias deletions the trail cannot place)",
      "  TIME                      WHO                         REQUEST                      OUTCOME",
      "  2026-12-05T10:00:07.000Z  ann                         delete alias champion        refused 403 promotion-alias-not-allowed",
      "                                                        no deleting alias champion",
      "",
    ].join("\n"),
  );
});

describe("deletions and renames", () => {
  const DELETE_REFUSAL =
    'policies/groups/registry-stewards.yaml allows no deleting alias champion (deleting version 1 of "churn" removes alias champion of version 1)';
  const CHANGES: AuditRecord[] = [
    line("01", {
      action: "SetRegisteredModelAlias",
      resources: { model: "churn", version: "1", alias: "champion" },
      promotion: { kind: "set-alias", alias: "champion", from: "None" },
    }),
    line("02", {
      action: "DeleteModelVersion",
      method: "DELETE",
      caller: "sam",
      resources: { model: "churn", version: "1" },
      promotion: { kind: "delete-version", from: "Production", creator: "bob", message: DELETE_REFUSAL },
      status: 403,
      decision: "refused",
      reason: "promotion-alias-not-allowed",
    }),
    line("03", {
      action: "DeleteModelVersion",
      method: "DELETE",
      resources: { model: "churn", version: "2" },
      promotion: { kind: "delete-version", from: "None", creator: "bob" },
    }),
    line("04", {
      action: "RenameRegisteredModel",
      resources: { model: "churn", newModel: "churn-v2" },
      promotion: { kind: "rename" },
    }),
    line("05", {
      action: "DeleteRegisteredModel",
      method: "DELETE",
      resources: { model: "churn" },
      promotion: { kind: "delete-model" },
      status: 404,
    }),
    line("06", {
      action: "DeleteRegisteredModelAlias",
      method: "DELETE",
      resources: { model: "churn", alias: "champion" },
      promotion: { kind: "delete-alias", alias: "champion" },
    }),
  ];

  test("a version's deletion under its version; the model's deletion and renames on their own, with their kind", () => {
    // Act
    const h = buildModelHistory("churn", CHANGES);

    // Assess
    expect(h.versions.map((v) => [v.version, v.promotions.map((e) => [e.requestId, e.kind])])).toEqual([
      [
        "1",
        [
          ["req-01", "set-alias"],
          ["req-02", "delete-version"],
        ],
      ],
      ["2", [["req-03", "delete-version"]]],
    ]);
    expect(h.modelChanges.map((e) => [e.requestId, e.kind, e.newName, e.outcome])).toEqual([
      ["req-04", "rename", "churn-v2", "done"],
      ["req-05", "delete-model", undefined, "failed"],
    ]);
    expect(h.versions[0]!.promotions[1]).toMatchObject({
      who: "sam",
      from: "Production",
      creator: "bob",
      outcome: "refused",
      message: DELETE_REFUSAL,
    });
  });

  test("a rename takes the aliases along: a later alias deletion under the old name has no version", () => {
    expect(buildModelHistory("churn", CHANGES).unattributed.map((e) => e.requestId)).toEqual(["req-06"]);
  });

  test("under the new name a rename reads 'renamed from', and is the only line of the old name listed", () => {
    // Act
    const h = buildModelHistory("churn-v2", CHANGES);

    // Assess
    expect(h.versions).toEqual([]);
    expect(promotionEntries(h).map((e) => describeRequest(e, "churn-v2"))).toEqual(["renamed from churn"]);
  });

  test("describeRequest: the registry changes in a few words", () => {
    const [, refused, deleted] = promotionEntries(buildModelHistory("churn", CHANGES));
    const [rename, model] = buildModelHistory("churn", CHANGES).modelChanges;
    expect(refused && describeRequest(refused)).toBe("delete version (in Production)");
    expect(deleted && describeRequest(deleted)).toBe("delete version (in None)");
    expect(describeRequest({ ...deleted!, from: undefined })).toBe("delete version");
    expect(rename && describeRequest(rename)).toBe("rename to churn-v2");
    expect(model && describeRequest(model)).toBe("delete model");
    // A done rename from before the guard recorded the new name: its model is the new name.
    expect(describeRequest({ ...rename!, model: "churn-v2", newName: undefined }, "churn-v2")).toBe("renamed from ?");
  });

  test("formatModelHistory: the model's deletions and renames after the versions", () => {
    expect(formatModelHistory(buildModelHistory("churn", CHANGES.slice(0, 5)))).toBe(
      [
        "model churn: 5 promotion requests, 1 refused by the guard",
        "",
        "version 1",
        "  TIME                      WHO  REQUEST                         OUTCOME",
        "  2026-12-05T10:00:01.000Z  ann  set alias champion              done",
        "  2026-12-05T10:00:02.000Z  sam  delete version (in Production)  refused 403 promotion-alias-not-allowed",
        `                                 ${DELETE_REFUSAL}`,
        "",
        "version 2",
        "  TIME                      WHO  REQUEST                         OUTCOME",
        "  2026-12-05T10:00:03.000Z  ann  delete version (in None)        done",
        "",
        "whole model (deletions and renames)",
        "  TIME                      WHO  REQUEST                         OUTCOME",
        "  2026-12-05T10:00:04.000Z  ann  rename to churn-v2              done",
        "  2026-12-05T10:00:05.000Z  ann  delete model                    failed 404",
        "",
      ].join("\n"),
    );
  });
});

test("formatModelHistory lists a version without requests only when asked", () => {
  const h = buildModelHistory("churn", TRAIL.slice(0, 1));
  expect(formatModelHistory(h, { idle: true })).toBe(
    "model churn: 0 promotion requests, 0 refused by the guard\n\nversion 1  created 2026-12-05T10:00:01.000Z by bob\n  no promotion request\n",
  );
  expect(formatModelHistory(h)).toBe("model churn: 0 promotion requests, 0 refused by the guard\n");
});
