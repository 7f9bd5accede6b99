import { PolicySet } from "../../authorizer/core/policy-set";
import { loadGroupFiles, loadRouteCatalog, loadTeamFiles } from "../../authorizer/load-policies";
import { DEMO_USERS, defaultPrincipalsOf, demoUsersOf } from "../../local/demo-identities";
import { DEFAULT_PRINCIPALS } from "../../local/principals";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";

const catalog = loadRouteCatalog(CATALOG_FILE);
const groups = loadGroupFiles(GROUPS_DIR, REPO_ROOT);
const plain = PolicySet.fromFiles(catalog, groups);
const teams = PolicySet.fromFiles(catalog, groups, undefined, loadTeamFiles(EXAMPLE_TEAMS_DIR, REPO_ROOT));

describe("the demo identities of a stack", () => {
  test("without teams: the default demo users and principals", () => {
    expect(demoUsersOf(plain)).toEqual([...DEMO_USERS]);
    expect(defaultPrincipalsOf(plain)).toEqual([...DEFAULT_PRINCIPALS]);
  });

  test("with teams: the admin and one user per team group, each in a group the policies know", () => {
    // Act
    const users = demoUsersOf(teams);
    // Assess
    expect(users.map((u) => u.username)).toEqual([
      "admin",
      ...["team-a", "team-b"].flatMap((t) =>
        ["model-approver", "reader", "release-manager", "writer"].map((x) => `${t}-${x}`),
      ),
    ]);
    expect(users.every((u) => teams.callerGroups.has(u.group))).toBe(true);
    expect(users.find((u) => u.username === "team-b-writer")?.group).toBe("team-b-writers");
  });

  test("with teams: the admin role, data-science, and one role per team group that data-science may assume", () => {
    // Act
    const principals = defaultPrincipalsOf(teams);
    // Assess
    expect(principals.map((p) => [p.name, p.group ?? null])).toEqual([
      ["mlflow-admin", "admins"],
      ["data-science", null],
      ...["team-a", "team-b"].flatMap((t) =>
        ["model-approver", "reader", "release-manager", "writer"].map((x) => [`mlflow-${t}-${x}`, `${t}-${x}s`]),
      ),
    ]);
    expect(principals.filter((p) => p.name.startsWith("mlflow-team-")).every((p) => p.trustedBy.length === 1)).toBe(
      true,
    );
  });
});
