import { loadPolicySet } from "../../authorizer/load-policies";
import { iamCallerGroups, STUDIO_PROFILES, studioExecutionRoleName } from "../../infra/iam-callers";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";

describe("iamCallerGroups", () => {
  test("names each Studio execution role by profile and region, and each cross-account role by its name", () => {
    // Act
    const table = iamCallerGroups(
      {
        crossAccountRoles: [{ roleName: "ml-reader", group: "readers", trustedPrincipalArns: [] }],
        studioProfiles: STUDIO_PROFILES,
      },
      "eu-west-2",
    );
    // Assess
    expect(Object.fromEntries(table)).toEqual({
      "role/mlflow-gate-mlflow-admin-eu-west-2": "admins",
      "role/mlflow-gate-mlflow-reader-eu-west-2": "readers",
      "role/mlflow-gate-mlflow-model-approver-eu-west-2": "model-approvers",
      "role/mlflow-gate-mlflow-release-manager-eu-west-2": "release-managers",
      "role/ml-reader": "readers",
    });
  });

  test("every Studio role name fits IAM's 64 characters in the longest region, and every profile's group exists", () => {
    const groups = loadPolicySet(CATALOG_FILE, GROUPS_DIR).groups;
    for (const p of STUDIO_PROFILES) {
      expect(studioExecutionRoleName(p.profileName, "ap-southeast-5").length).toBeLessThanOrEqual(64);
      expect(groups.has(p.group)).toBe(true);
    }
  });

  test("names the Studio roles of the configured profiles, team groups included", () => {
    // Act
    const table = iamCallerGroups(
      {
        crossAccountRoles: [],
        studioProfiles: [{ profileName: "team-a-reader", group: "team-a-readers", id: "TeamAReader" }],
      },
      "eu-west-2",
    );
    // Assess
    expect(Object.fromEntries(table)).toEqual({ "role/mlflow-gate-team-a-reader-eu-west-2": "team-a-readers" });
  });
});
