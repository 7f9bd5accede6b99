import { loadPolicySet } from "../../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../../project/paths";
import { Caller } from "../../../../scripts/lib/verify/callers";
import { VerifyPrincipal } from "../../../../scripts/lib/verify/plan";
import { promotionProbes } from "../../../../scripts/lib/verify/checks";

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const caller = (principal: VerifyPrincipal): Caller => ({
  principal,
  send: async () => {
    throw new Error("nothing is sent");
  },
});

describe("promotionProbes: what verify's promotion check asks, from the group files alone", () => {
  test("each principal whose group restricts stages asks for one it lacks, on its own surface's route", () => {
    // Act
    const probes = promotionProbes({
      policySet,
      callers: [
        caller({ kind: "sigv4", name: "mlflow-admin", group: "admins" }),
        caller({ kind: "sigv4", name: "mlflow-reader", group: "readers" }),
        caller({ kind: "sigv4", name: "mlflow-model-approver", group: "model-approvers" }),
        caller({ kind: "bearer", name: "release-manager", group: "release-managers" }),
      ],
    });
    // Assess: admins may move to any stage, readers may not call the route (the route checks cover them)
    expect(probes.map((p) => [p.caller.principal.name, p.stage, p.path])).toEqual([
      ["mlflow-model-approver", "Production", "/api/2.0/mlflow/model-versions/transition-stage"],
      ["release-manager", "Staging", "/ajax-api/2.0/mlflow/model-versions/transition-stage"],
    ]);
  });
});
