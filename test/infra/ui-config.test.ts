import { PolicySet } from "../../authorizer/core/policy-set";
import { loadGroupFiles, loadRouteCatalog, loadTeamFiles } from "../../authorizer/load-policies";
import { buildDeployedUiConfig } from "../../infra/ui-config";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { parseUiConfig } from "../../ui-patch/shell/config";

const catalog = loadRouteCatalog(CATALOG_FILE);
const groups = loadGroupFiles(GROUPS_DIR, REPO_ROOT);
const pool = { userPoolId: "eu-west-1_AbC123", userPoolClientId: "client123", region: "eu-west-1" };

describe("buildDeployedUiConfig", () => {
  test("is a config the login shell accepts, with SRP and Cognito's own endpoint", () => {
    const config = buildDeployedUiConfig({ ...pool, policySet: PolicySet.fromFiles(catalog, groups) });
    expect(parseUiConfig(JSON.parse(JSON.stringify(config)))).toEqual({ ...pool, authFlow: "USER_SRP_AUTH" });
    expect(config).not.toHaveProperty("userPoolEndpoint");
    expect(config).not.toHaveProperty("teams");
  });

  test("with teams, the teams the shell places users in, as the local stack's config has them", () => {
    // Act
    const config = buildDeployedUiConfig({
      ...pool,
      policySet: PolicySet.fromFiles(catalog, groups, undefined, loadTeamFiles(EXAMPLE_TEAMS_DIR, REPO_ROOT)),
    });
    // Assess
    const parsed = parseUiConfig(JSON.parse(JSON.stringify(config)));
    expect(parsed.teams?.map((t) => t.name)).toEqual(["team-a", "team-b", "default"]);
    expect(parsed.teams?.find((t) => t.name === "team-b")?.groups).toContain("team-b-writers");
    expect(parsed.teams?.find((t) => t.name === "team-b")?.groups).not.toContain("team-a-writers");
    expect(parsed.teams?.find((t) => t.name === "default")?.groups).toEqual(["admins"]);
  });
});
