import { App, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../../../authorizer/core/errors";
import { loadPolicySet } from "../../../authorizer/load-policies";
import {
  acknowledgeWildcards,
  MlflowAccessRole,
  MlflowAccessRoleProps,
} from "../../../infra/constructs/mlflow-access-role";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { thrownBy } from "../../support/errors";
import { flatTemplate } from "../support/template";

const env = { account: "123456789012", region: "us-east-1" };
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

/** The app with cdk-nag, and a stand-in for the stack that owns the API. */
function standIn() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const shared = new Stack(app, "StandIn", { env });
  const api = new apigw.RestApi(shared, "Api", { cloudWatchRole: false });
  api.root.addMethod("GET", new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
  for (const id of [
    "AwsSolutions-S1",
    "AwsSolutions-APIG1",
    "AwsSolutions-APIG2",
    "AwsSolutions-APIG3",
    "AwsSolutions-APIG6",
    "AwsSolutions-COG4",
  ]) {
    Validations.of(shared).acknowledge({ id, reason: "test stand-in for the API and MLflow stacks" });
  }
  const stack = new Stack(app, "Access", { env });
  return { app, stack, api };
}

/** The API id reads API_ID. */
const flat = (value: unknown): unknown => flatTemplate(value, [[/RefApi/, "API_ID"]]);

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A policy document with Action and Resource always lists (CDK writes a single one as a string). */
function normalized(doc: unknown): unknown {
  const d = doc as { Version: string; Statement: Record<string, unknown>[] };
  return { ...d, Statement: d.Statement.map((s) => ({ ...s, Action: list(s.Action), Resource: list(s.Resource) })) };
}

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The managed policies attached to a role, in template order. */
function managedPoliciesOf(template: Template, stack: Stack, role: iam.Role): Resource[] {
  const ref = { Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) };
  return Object.values(template.findResources("AWS::IAM::ManagedPolicy") as Record<string, Resource>).filter((p) =>
    list(p.Properties.Roles).some((r) => JSON.stringify(r) === JSON.stringify(ref)),
  );
}

function statementsOf(policies: Resource[]): Record<string, unknown>[] {
  return policies.flatMap(
    (p) => (flat(p.Properties.PolicyDocument) as { Statement: Record<string, unknown>[] }).Statement,
  );
}

function accessRole(
  stack: Stack,
  id: string,
  props: Partial<MlflowAccessRoleProps> & Pick<MlflowAccessRoleProps, "api">,
): MlflowAccessRole {
  return new MlflowAccessRole(stack, id, {
    policySet,
    group: "readers",
    stageName: "prod",
    trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds"],
    ...props,
  });
}

describe("MlflowAccessRole", () => {
  const { app, stack, api } = standIn();
  const reader = accessRole(stack, "Reader", {
    api,
    trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds", "arn:aws:iam::210987654321:root"],
    externalId: "ext-id-1",
    roleName: "mlflow-gate-reader-from-ds",
  });
  const admin = accessRole(stack, "Admin", { api, group: "admins" });
  const template = Template.fromStack(stack);
  const roleOf = (a: MlflowAccessRole) =>
    template.findResources("AWS::IAM::Role")[stack.getLogicalId(a.role.node.defaultChild as iam.CfnRole)] as Resource;

  test("trusts exactly the configured principals, with sts:AssumeRole only and the ExternalId condition", () => {
    const trust = roleOf(reader).Properties.AssumeRolePolicyDocument as {
      Statement: { Principal: { AWS: unknown } }[];
    };
    // CDK writes one statement per principal; each must carry the condition.
    for (const statement of trust.Statement) {
      expect(statement).toEqual({
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Principal: { AWS: expect.any(String) },
        Condition: { StringEquals: { "sts:ExternalId": "ext-id-1" } },
      });
    }
    expect(trust.Statement.flatMap((st) => list(st.Principal.AWS)).sort()).toEqual([
      "arn:aws:iam::210987654321:role/ds",
      "arn:aws:iam::210987654321:root",
    ]);
  });

  test("without an ExternalId the trust has no condition; sessions last at most an hour; the name is kept", () => {
    const trust = roleOf(admin).Properties.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] };
    expect(trust.Statement).toEqual([
      { Effect: "Allow", Action: "sts:AssumeRole", Principal: { AWS: "arn:aws:iam::210987654321:role/ds" } },
    ]);
    expect(roleOf(reader).Properties.MaxSessionDuration).toBe(3600);
    expect(roleOf(admin).Properties.MaxSessionDuration).toBe(3600);
    expect(roleOf(reader).Properties.RoleName).toBe("mlflow-gate-reader-from-ds");
    expect(roleOf(reader).Properties.ManagedPolicyArns).toBeUndefined();
  });

  test.each([
    ["readers", () => reader],
    ["admins", () => admin],
  ])("%s: the execute-api policies are exactly the compiler's documents for this API and stage", (group, access) => {
    const execute = managedPoliciesOf(template, stack, access().role).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes("execute-api:Invoke"),
    );
    // The compiler splits documents by length, so it must see the same tokens the construct gave it.
    const compiled = policySet.iamPolicies(group, {
      partition: stack.partition,
      region: stack.region,
      account: stack.account,
      apiId: api.restApiId,
      stage: "prod",
    });
    expect(execute.map((p) => normalized(flat(p.Properties.PolicyDocument)))).toEqual(
      compiled.map((d) => normalized(flat(stack.resolve(d)))),
    );
    expect(access().policies.policies).toHaveLength(execute.length);
  });

  test.each([
    ["readers", () => reader],
    ["admins", () => admin],
  ])(
    "%s: nothing but execute-api, and no S3 at all (artifacts move through presigned URLs the API decides)",
    (_, access) => {
      const statements = statementsOf(managedPoliciesOf(template, stack, access().role));
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.flatMap((st) => list(st.Action)).filter((a) => a !== "execute-api:Invoke")).toEqual([]);
      expect(roleOf(access()).Properties.Policies).toBeUndefined();
    },
  );

  test("cdk-nag passes: the wildcards of the compiled statements are acknowledged one by one", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("MlflowAccessRole validation", () => {
  test("reports every problem at once", () => {
    const { stack, api } = standIn();
    const error = thrownBy(
      () =>
        accessRole(stack, "Bad", {
          api,
          group: "nobody",
          trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds", "arn:aws:iam::210987654321:role/ds", "*"],
          externalId: "x",
          roleName: "bad name",
        }),
      ConfigError,
    );
    for (const part of [
      "group must be a caller group (one of admins,",
      '"*" is not an IAM role',
      "duplicates",
      "externalId",
      "roleName",
    ])
      expect(error.message).toContain(part);
  });

  test("refuses an empty list of trusted principals", () => {
    const { stack, api } = standIn();
    expect(() => accessRole(stack, "Nobody", { api, trustedPrincipalArns: [] })).toThrow(
      /trustedPrincipalArns must not be empty/,
    );
  });
});

describe("acknowledgeWildcards", () => {
  test("acknowledges only the statements it explains: another wildcard still fails cdk-nag", () => {
    const { app, stack } = standIn();
    const role = new iam.Role(stack, "Role", { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });
    const policy = new iam.ManagedPolicy(stack, "Policy", {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: "Explained",
          actions: ["s3:GetObject"],
          resources: ["arn:aws:s3:::some-bucket/*"],
        }),
        new iam.PolicyStatement({
          sid: "Unexplained",
          actions: ["s3:PutObject"],
          resources: ["arn:aws:s3:::other-bucket/*"],
        }),
      ],
    });
    acknowledgeWildcards(policy, (sid) => (sid === "Explained" ? "test" : undefined));
    const report = thrownBy(() => app.synth(), Error).message;
    expect(report).toContain("AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]");
    expect(report).not.toContain("some-bucket");
  });
});
