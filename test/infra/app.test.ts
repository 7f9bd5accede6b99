import { CDK_FLAGS } from "./support/cdk-flags";
import { App } from "aws-cdk-lib";
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { buildMlflowGateApp } from "../../infra/app";
import { parseInfraConfig } from "../../infra/config";
import { buildUi } from "../../ui-patch/build-ui";
import { CATALOG_FILE, GROUPS_DIR, VENV_DIR } from "../../project/paths";

// The whole app as `cdk synth` builds it (every stack): cdk-nag's AWS Solutions checks with zero
// unacknowledged findings, then cfn-lint over every template.

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const outdir = mkdtempSync(join(tmpdir(), "cdk-out-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

let synthError: unknown;
let uiDirectory: string;
beforeAll(async () => {
  // The real patched UI, as infra/bin/app.ts builds it for `cdk synth`.
  uiDirectory = (await buildUi(join(outdir, "ui-build"))).outDir;
  const app = new App({ outdir, context: CDK_FLAGS });
  const config = parseInfraConfig(
    {
      account: "123456789012",
      region: "us-east-1",
      // Subnets placed by AZ id: cfn-lint checks that shape too.
      availabilityZoneIds: ["use1-az4", "use1-az6"],
      crossAccountRoles: [
        {
          roleName: "mlflow-gate-reader-from-ml",
          group: "readers",
          trustedPrincipalArns: ["arn:aws:iam::987654321098:role/SageMakerExecutionRole"],
          externalId: "ext-id-1",
        },
      ],
    },
    new Set(policySet.groups.keys()),
  );
  buildMlflowGateApp(app, config, policySet, { uiDirectory });
  try {
    app.synth();
  } catch (e) {
    synthError = e;
  }
}, 300_000);

describe("cdk synth (every stack)", () => {
  test("passes cdk-nag's AWS Solutions checks with every finding fixed or acknowledged", () => {
    expect(synthError === undefined ? "synthesized" : String((synthError as Error).message)).toBe("synthesized");
  });

  test("writes the four stacks", () => {
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith(".template.json"))
      .sort();
    expect(templates).toEqual([
      "AmplifyMlflowStack.template.json",
      "MlflowVpcStack.template.json",
      "RestApiGatewayStack.template.json",
      "SageMakerStudioUserStack.template.json",
    ]);
  });

  test("the Amplify stack deploys the patched UI: the login shell in front of MLflow's build, and no config of its own", () => {
    const assets = readdirSync(outdir).filter(
      (f) => f.startsWith("asset.") && existsSync(join(outdir, f, "index.html")),
    );
    expect(assets).toHaveLength(1);
    const dir = join(outdir, assets[0] as string);
    expect(readFileSync(join(dir, "index.html"), "utf8")).toMatch(
      /<meta name="mlflow-gate-main" content="static-files\/static\/js\/main\.[0-9a-f]+\.js"\/>/,
    );
    expect(existsSync(join(dir, "static-files", "mlflow-gate", "shell.js"))).toBe(true);
    expect(existsSync(join(dir, "mlflow-gate-ui.json"))).toBe(false);
  });

  test("the guard's table of SigV4 callers names exactly the roles the Studio stack creates, with their groups", () => {
    const template = (name: string) =>
      JSON.parse(readFileSync(join(outdir, `${name}.template.json`), "utf8")) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
    // The roles that call MLflow: their execute-api policies name the group in their description.
    const studio = Object.values(template("SageMakerStudioUserStack").Resources);
    const callers = studio
      .filter((r) => r.Type === "AWS::IAM::Role" && r.Properties.RoleName !== undefined)
      .map((r) => `role/${String(r.Properties.RoleName)}`)
      .sort();
    const guard = Object.values(template("MlflowVpcStack").Resources)
      .filter((r) => r.Type === "AWS::ECS::TaskDefinition")
      .flatMap(
        (r) => r.Properties.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: string }[] }[],
      )
      .find((c) => c.Name === "Guard");
    const table = JSON.parse(
      guard?.Environment.find((e) => e.Name === "MLFLOW_GATE_GUARD_IAM_GROUPS")?.Value ?? "{}",
    ) as Record<string, string>;
    expect(Object.keys(table).sort()).toEqual(callers);
    expect(table).toEqual({
      "role/mlflow-gate-mlflow-admin-us-east-1": "admins",
      "role/mlflow-gate-mlflow-reader-us-east-1": "readers",
      "role/mlflow-gate-mlflow-model-approver-us-east-1": "model-approvers",
      "role/mlflow-gate-mlflow-release-manager-us-east-1": "release-managers",
      "role/mlflow-gate-reader-from-ml": "readers",
    });
  });

  test("cfn-lint finds no error in any template", () => {
    const templates = readdirSync(outdir)
      .filter((f) => f.endsWith(".template.json"))
      .map((f) => join(outdir, f));
    const r = spawnSync(join(VENV_DIR, "bin", "cfn-lint"), ["--format", "parseable", "--", ...templates], {
      encoding: "utf8",
    });
    // Exit codes are a bit field: 2 means errors; 4 warnings and 8 informational are reported, not failed.
    const errors = r.stdout.split("\n").filter((l) => /:E\d{4}:/.test(l));
    expect(errors).toEqual([]);
    expect(r.status === null ? -1 : r.status & 2).toBe(0);
  }, 180_000);
});
