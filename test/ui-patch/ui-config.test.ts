import { loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { parseUiConfig } from "../../ui-patch/shell/config";
import { buildUiConfig, buildUiTeams } from "../../ui-patch/ui-config";

const pool = {
  userPoolId: "local_1",
  userPoolClientId: "c",
  region: "us-east-1",
  authFlow: "USER_PASSWORD_AUTH",
} as const;

test("with the example teams each team lists its groups and admins, and default, last, is the admins' alone", () => {
  // Prepare
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR, REPO_ROOT, EXAMPLE_TEAMS_DIR);

  // Act
  const teams = buildUiTeams(policySet);

  // Assess
  const tiers = (team: string) =>
    ["model-approvers", "readers", "release-managers", "writers"].map((t) => `${team}-${t}`);
  expect(teams).toEqual([
    { name: "team-a", groups: ["admins", ...tiers("team-a")] },
    { name: "team-b", groups: ["admins", ...tiers("team-b")] },
    { name: "default", groups: ["admins"] },
  ]);
});

test("the config with teams is one the shell accepts as it is", () => {
  // Prepare
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR, REPO_ROOT, EXAMPLE_TEAMS_DIR);

  // Act
  const config = buildUiConfig(pool, policySet);

  // Assess
  expect(parseUiConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  expect(config.teams?.map((t) => t.name)).toEqual(["team-a", "team-b", "default"]);
});

test("without teams the config is the pool's alone", () => {
  // Prepare
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

  // Act + Assess
  expect(buildUiTeams(policySet)).toBeUndefined();
  expect(buildUiConfig(pool, policySet)).toEqual(pool);
});
