import { App } from "aws-cdk-lib";
import { CDK_FLAGS } from "./support/cdk-flags";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join, relative } from "path";
import { DEPLOYED_PLACEHOLDERS, renderApiDefinition } from "../../authorizer/core/api-definition";
import { DEFAULT_MAX_API_RESOURCES } from "../../authorizer/core/api-routes";
import { IDENTITY_HEADERS, WORKSPACE_MAPPING } from "../../authorizer/core/contract";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { GUARD_ENV } from "../../guard/config";
import { buildMlflowGateApp, MlflowGateStacks } from "../../infra/app";
import { parseInfraConfig } from "../../infra/config";
import { buildDirFor, DEFAULT_POLICY_DIRS, loadDeployedPolicies, policyDirsOf } from "../../infra/policy-dirs";
import { MLFLOW_WORKSPACES_ENV } from "../../infra/stacks/mlflow-vpc-stack";
import { EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT, TEAMS_DIR } from "../../project/paths";
import { thrownBy } from "../support/errors";
import { patchedUiLayout } from "./support/ui-directory";
import { CfnProperties, flatTemplate } from "./support/template";

// The whole app with the two demo teams (policies/examples/teams, as `cdk synth -c teamsDir=...` reads them):
// cdk-nag's AWS Solutions checks, then what teams change in each stack.

const policyDirs = policyDirsOf((key) => (key === "teamsDir" ? relative(REPO_ROOT, EXAMPLE_TEAMS_DIR) : undefined));
const policySet = loadDeployedPolicies(policyDirs);
const withoutTeams = loadDeployedPolicies(DEFAULT_POLICY_DIRS);
const TEAM_GROUPS = ["readers", "writers", "model-approvers", "release-managers"].flatMap((tier) =>
  ["team-a", "team-b"].map((team) => `${team}-${tier}`),
);
const outdir = mkdtempSync(join(tmpdir(), "cdk-out-teams-"));
const uiDirectory = patchedUiLayout();
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(uiDirectory, { recursive: true, force: true });
});

type Resources = Record<string, { Type: string; Properties: CfnProperties }>;
let stacks: MlflowGateStacks;
let synthError: unknown;
const template = (name: string): Resources =>
  (JSON.parse(readFileSync(join(outdir, `${name}.template.json`), "utf8")) as { Resources: Resources }).Resources;

beforeAll(() => {
  const app = new App({ outdir, context: CDK_FLAGS });
  const config = parseInfraConfig(
    {
      account: "123456789012",
      region: "us-east-1",
      studioProfiles: [
        { profileName: "team-a-reader", group: "team-a-readers" },
        { profileName: "team-b-writer", group: "team-b-writers" },
      ],
      crossAccountRoles: [
        {
          roleName: "mlflow-gate-team-a-reader-from-ml",
          group: "team-a-readers",
          trustedPrincipalArns: ["arn:aws:iam::987654321098:role/SageMakerExecutionRole"],
        },
      ],
    },
    policySet.callerGroups,
  );
  stacks = buildMlflowGateApp(app, config, policySet, { uiDirectory, policyDirs });
  try {
    app.synth();
  } catch (e) {
    synthError = e;
  }
}, 300_000);

describe("the policy directories", () => {
  test("are policies/groups and policies/teams, unless the context names others (relative to the repository)", () => {
    expect(policyDirsOf(() => undefined)).toEqual({ groupsDir: GROUPS_DIR, teamsDir: TEAMS_DIR });
    expect(policyDirs).toEqual({ groupsDir: GROUPS_DIR, teamsDir: EXAMPLE_TEAMS_DIR });
    expect(() => policyDirsOf(() => 3)).toThrow(ConfigError);
  });

  test("builds of other policies get folders of their own", () => {
    expect(buildDirFor("/x/dist/guard", DEFAULT_POLICY_DIRS)).toBe("/x/dist/guard");
    expect(buildDirFor("/x/dist/guard", policyDirs)).toMatch(/^\/x\/dist\/guard-[0-9a-f]{12}$/);
  });

  test("the example teams: two teams, eight team groups and admins as caller groups", () => {
    expect(policySet.teams?.names).toEqual(["team-a", "team-b"]);
    expect([...policySet.callerGroups].sort()).toEqual(["admins", ...TEAM_GROUPS].sort());
    expect(withoutTeams.teams).toBeUndefined();
  });
});

describe("cdk synth (every stack) with the example teams", () => {
  test("passes cdk-nag's AWS Solutions checks with every finding fixed or acknowledged", () => {
    expect(synthError === undefined ? "synthesized" : String((synthError as Error).message)).toBe("synthesized");
  });

  describe("the API", () => {
    const body = () =>
      Object.values(template("RestApiGatewayStack")).find((r) => r.Type === "AWS::ApiGateway::RestApi")!.Properties
        .Body as CfnProperties;

    test("serves MLflow's routes under /ws/{workspace}/ only, and maps the path's team onto x-mlflow-gate-workspace", () => {
      const paths = Object.keys(body().paths as object);
      const mlflow = paths.filter((p) => p !== "/mlflow-gate-ui.json");
      expect(mlflow.length).toBeGreaterThan(50);
      expect(mlflow.filter((p) => !p.startsWith("/ws/{workspace}/"))).toEqual([]);
      for (const path of mlflow)
        for (const op of Object.values(body().paths[path] as Record<string, CfnProperties>)) {
          const integration = op["x-amazon-apigateway-integration"];
          expect(integration.requestParameters[`integration.request.header.${IDENTITY_HEADERS.workspace}`]).toBe(
            WORKSPACE_MAPPING,
          );
          expect(String(flatTemplate(integration.uri))).toMatch(/^http:\/\/<import [^>]+>\/ws\/\{workspace\}\//);
        }
    });

    test("stays within the resource quota: resources and methods with and without teams", () => {
      const count = (set: PolicySet, workspaces: boolean) => {
        const r = renderApiDefinition(set.catalog.routes, { ...DEPLOYED_PLACEHOLDERS, version: "x", workspaces });
        const methods = Object.values(r.definition.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
        return { resources: r.tree.resourceCount + 1, methods };
      };
      const without = count(withoutTeams, false);
      const teams = count(policySet, true);
      process.stderr.write(
        `API resources (the UI config's counted) and methods: without teams ${without.resources}/${without.methods}, with teams ${teams.resources}/${teams.methods}\n`,
      );
      // The deployed stack's tree is the with-teams one: /ws and /ws/{workspace} on top of the same tree, the same
      // methods (the UI config's GET counted); API Gateway's default quota is 300 resources.
      expect(stacks.api.tree.resourceCount + 1).toBe(teams.resources);
      expect(without).toEqual({ resources: 171, methods: 204 });
      expect(teams).toEqual({ resources: 173, methods: 204 });
      expect(teams.resources).toBeLessThanOrEqual(DEFAULT_MAX_API_RESOURCES);
    });
  });

  test("the user pool has one group per team group, and admins", () => {
    const groups = Object.values(template("RestApiGatewayStack"))
      .filter((r) => r.Type === "AWS::Cognito::UserPoolGroup")
      .map((r) => r.Properties.GroupName as string)
      .sort();
    expect(groups).toEqual(["admins", ...TEAM_GROUPS].sort());
    const readers = Object.values(template("RestApiGatewayStack")).find(
      (r) => r.Type === "AWS::Cognito::UserPoolGroup" && r.Properties.GroupName === "team-a-readers",
    );
    expect(readers?.Properties.Description).toContain("team-a: readers");
  });

  test("the authorizer's policy bundle holds the team files", () => {
    const fn = Object.values(template("RestApiGatewayStack")).find(
      (r) => r.Type === "AWS::Lambda::Function" && r.Properties.Handler === "index.handler",
    )!;
    const asset = join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, "")}`);
    const bundle = JSON.parse(readFileSync(join(asset, "policy-bundle.json"), "utf8")) as {
      teams?: { name: string }[];
    };
    expect(bundle.teams?.map((t) => t.name).sort()).toEqual(["team-a", "team-b"]);
  });

  describe("the MLflow task", () => {
    const containers = () =>
      Object.values(template("MlflowVpcStack"))
        .filter((r) => r.Type === "AWS::ECS::TaskDefinition")
        .flatMap((r) => r.Properties.ContainerDefinitions as CfnProperties[]);
    const env = (name: string) =>
      Object.fromEntries(
        ((containers().find((c) => c.Name === name)?.Environment ?? []) as { Name: string; Value: unknown }[]).map(
          (e) => [e.Name, e.Value],
        ),
      );

    test("MLflow gets the teams' workspaces (the entrypoint turns workspaces on and creates them)", () => {
      expect(env("Mlflow")[MLFLOW_WORKSPACES_ENV]).toBe("team-a,team-b");
    });

    test("the guard reads the team files its image holds, exactly those the API was built from", () => {
      expect(env("Guard")[GUARD_ENV.teamsDir]).toBe("/opt/mlflow-gate/policies/teams");
      expect(env("Guard")[GUARD_ENV.groupsDir]).toBe("/opt/mlflow-gate/policies/groups");
      const manifest = JSON.parse(readFileSync(join(outdir, "MlflowVpcStack.assets.json"), "utf8")) as {
        dockerImages: Record<string, { displayName: string; source: { directory: string } }>;
      };
      const image = Object.values(manifest.dockerImages).find((i) => i.displayName.includes("Guard"))!;
      const teams = join(outdir, image.source.directory, "policies", "teams");
      expect(readdirSync(teams).sort()).toEqual(["team-a.yaml", "team-b.yaml"]);
      expect(readFileSync(join(teams, "team-a.yaml"), "utf8")).toBe(
        readFileSync(join(EXAMPLE_TEAMS_DIR, "team-a.yaml"), "utf8"),
      );
    });
  });

  describe("IAM callers", () => {
    const studio = () => template("SageMakerStudioUserStack");
    /** Every execute-api resource of the managed policies attached to the role of `roleName`. */
    const resourcesOfRole = (roleName: string): string[] => {
      const [roleId] = Object.entries(studio()).find(
        ([, r]) => r.Type === "AWS::IAM::Role" && r.Properties.RoleName === roleName,
      )!;
      return Object.values(studio())
        .filter(
          (r) =>
            r.Type === "AWS::IAM::ManagedPolicy" &&
            (r.Properties.Roles as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify({ Ref: roleId })),
        )
        .flatMap((r) => (flatTemplate(r.Properties.PolicyDocument) as { Statement: CfnProperties[] }).Statement)
        .filter((s) => ([] as string[]).concat(s.Action).includes("execute-api:Invoke"))
        .flatMap((s) => ([] as string[]).concat(s.Resource));
    };

    test("each configured team profile and cross-account role gets a role, and the guard's table names their groups", () => {
      const guard = Object.values(template("MlflowVpcStack"))
        .filter((r) => r.Type === "AWS::ECS::TaskDefinition")
        .flatMap(
          (r) =>
            r.Properties.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: string }[] }[],
        )
        .find((c) => c.Name === "Guard")!;
      const table = JSON.parse(guard.Environment.find((e) => e.Name === GUARD_ENV.iamGroups)!.Value) as Record<
        string,
        string
      >;
      expect(table).toEqual({
        "role/mlflow-gate-team-a-reader-us-east-1": "team-a-readers",
        "role/mlflow-gate-team-b-writer-us-east-1": "team-b-writers",
        "role/mlflow-gate-team-a-reader-from-ml": "team-a-readers",
      });
      expect(Object.keys(stacks.studio.executionRoles).sort()).toEqual(["team-a-reader", "team-b-writer"]);
    });

    test.each(["mlflow-gate-team-a-reader-us-east-1", "mlflow-gate-team-a-reader-from-ml"])(
      "the execute-api policies of team-a-readers' role %s name /ws/team-a/ only",
      (roleName) => {
        const resources = resourcesOfRole(roleName);
        expect(resources.length).toBeGreaterThan(0);
        for (const r of resources)
          expect(r).toMatch(/^arn:aws:execute-api:us-east-1:123456789012:API_ID\/prod\/[A-Z*]+\/ws\/team-a\//);
      },
    );

    test("the team-b writer's role names /ws/team-b/ only", () => {
      const resources = resourcesOfRole("mlflow-gate-team-b-writer-us-east-1");
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).toMatch(/\/ws\/team-b\//);
    });

    test("a profile naming a tier, not a caller group, is refused with the known groups", () => {
      const e = thrownBy(
        () => parseInfraConfig({ studioProfiles: [{ profileName: "r", group: "readers" }] }, policySet.callerGroups),
        ConfigError,
      );
      expect(e.message).toContain(
        `mlflow-gate.studioProfiles[0].group must be a caller group (one of ${["admins", ...TEAM_GROUPS].sort().join(", ")}), not "readers"`,
      );
    });
  });

  test("Amplify proxies each workspace's UI API paths to the API, and serves the UI's files under /ws/<workspace>/", () => {
    const rewrites = stacks.ui.rewrites;
    const proxied = (path: string) =>
      rewrites.find((r) => (r.source.endsWith("/<*>") ? path.startsWith(r.source.slice(0, -3)) : path === r.source));
    for (const w of ["team-a", "team-b", "default"]) {
      expect(proxied(`/ws/${w}/ajax-api/2.0/mlflow/experiments/search`)?.target).toMatch(
        new RegExp(`/prod/ws/${w}/ajax-api/<\\*>$`),
      );
      expect(proxied(`/ws/${w}/static-files/static/js/main.js`)).toEqual({
        source: `/ws/${w}/static-files/<*>`,
        target: "/static-files/<*>",
        status: "200",
      });
      // The shell's index for the workspace and its deep links: the SPA fallback, last.
      expect(proxied(`/ws/${w}/`)).toBeUndefined();
    }
    expect(proxied("/ws/team-c/ajax-api/2.0/mlflow/experiments/search")).toBeUndefined();
    expect(proxied("/ajax-api/2.0/mlflow/experiments/search")).toBeUndefined();
    expect(proxied("/mlflow-gate-ui.json")?.target).toMatch(/\/prod\/mlflow-gate-ui\.json$/);
    expect(rewrites.at(-1)?.target).toBe("/index.html");
    process.stderr.write(`Amplify rewrites with the example teams: ${rewrites.length}\n`);
  });

  test("the build folders of these policies are not the repository's", () => {
    expect(existsSync(buildDirFor(join(REPO_ROOT, "dist", "guard"), policyDirs))).toBe(true);
  });
});
