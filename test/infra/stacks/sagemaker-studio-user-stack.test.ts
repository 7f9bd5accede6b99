import { EXECUTE_API_POLICIES_PER_ROLE, OTHER_MANAGED_POLICIES_PER_ROLE } from "../../../authorizer/core/compile";
import { CDK_FLAGS } from "../support/cdk-flags";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../../../authorizer/core/errors";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { loadGroupFiles, loadPolicySet } from "../../../authorizer/load-policies";
import { parseInfraConfig } from "../../../infra/config";
import { SageMakerStudioUserStack } from "../../../infra/stacks/sagemaker-studio-user-stack";
import { STUDIO_PROFILES, studioExecutionRoleName } from "../../../infra/iam-callers";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { thrownBy } from "../../support/errors";
import { flatTemplate } from "../support/template";

const env = { account: "123456789012", region: "us-east-1" };
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const CROSS_ACCOUNT = [
  {
    roleName: "mlflow-gate-reader-from-ds",
    group: "readers",
    trustedPrincipalArns: ["arn:aws:iam::987654321098:role/SageMakerExecutionRole"],
    externalId: "ext-id-1",
  },
  {
    roleName: "mlflow-gate-approver-from-ds",
    group: "model-approvers",
    trustedPrincipalArns: ["arn:aws:iam::987654321098:root"],
  },
];

/** cdk-nag on the app, the stand-in stack for the VPC, bucket and API, and the stack under test. */
function build(
  context: Record<string, unknown> = {},
  options: {
    policySet?: PolicySet;
    configGroups?: ReadonlySet<string>;
    subnets?: ec2.SubnetConfiguration[];
    stageName?: string;
  } = {},
) {
  const app = new App({ context: CDK_FLAGS });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const shared = new Stack(app, "StandIn", { env });
  const vpc = new ec2.Vpc(shared, "Vpc", {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: options.subnets ?? [
      { name: "public", subnetType: ec2.SubnetType.PUBLIC },
      { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const api = new apigw.RestApi(shared, "Api", { cloudWatchRole: false });
  api.root.addMethod("GET", new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
  for (const id of [
    "AwsSolutions-VPC7",
    "AwsSolutions-S1",
    "AwsSolutions-APIG1",
    "AwsSolutions-APIG2",
    "AwsSolutions-APIG3",
    "AwsSolutions-APIG6",
    "AwsSolutions-COG4",
  ]) {
    Validations.of(shared).acknowledge({ id, reason: "test stand-in for the VPC, MLflow and API stacks" });
  }
  const set = options.policySet ?? policySet;
  const config = parseInfraConfig(
    { ...env, crossAccountRoles: CROSS_ACCOUNT, ...context },
    options.configGroups ?? set.callerGroups,
  );
  const stack = new SageMakerStudioUserStack(app, "Studio", {
    env,
    config,
    policySet: set,
    api,
    stageName: options.stageName ?? "prod",
    vpc,
  });
  return { app, stack, api };
}

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Sid?: string;
  Effect: string;
  Action: unknown;
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const flat = (value: unknown): unknown => flatTemplate(value);

function normalized(doc: unknown): unknown {
  const d = doc as { Version: string; Statement: Record<string, unknown>[] };
  return { ...d, Statement: d.Statement.map((s) => ({ ...s, Action: list(s.Action), Resource: list(s.Resource) })) };
}

const roleRef = (stack: Stack, role: iam.IRole) =>
  JSON.stringify({ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) });

/** Every policy attached to the role: managed policies naming it, inline policies naming it, its own inline policies. */
function policiesOf(
  template: Template,
  stack: Stack,
  role: iam.IRole,
): { kind: string; document: { Statement: Statement[] } }[] {
  const ref = roleRef(stack, role);
  const attached = (type: string) =>
    Object.values(template.findResources(type) as Record<string, Resource>)
      .filter((p) => list(p.Properties.Roles).some((r) => JSON.stringify(r) === ref))
      .map((p) => ({ kind: type, document: flat(p.Properties.PolicyDocument) as { Statement: Statement[] } }));
  const own = template.findResources("AWS::IAM::Role")[JSON.parse(ref).Ref] as Resource;
  const inline = list(own.Properties.Policies).map((p) => ({
    kind: "inline",
    document: flat((p as { PolicyDocument: unknown }).PolicyDocument) as { Statement: Statement[] },
  }));
  return [...attached("AWS::IAM::ManagedPolicy"), ...attached("AWS::IAM::Policy"), ...inline];
}

const actionsOf = (statements: Statement[]) =>
  statements.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action) as string[]);

describe("SageMakerStudioUserStack with a new domain", () => {
  const { app, stack, api } = build();
  const template = Template.fromStack(stack);

  test("creates one IAM-auth, VPC-only domain in the VPC's private subnets", () => {
    template.resourceCountIs("AWS::SageMaker::Domain", 1);
    const domain = Object.values(template.findResources("AWS::SageMaker::Domain"))[0] as Resource;
    expect(domain.Properties).toMatchObject({ AuthMode: "IAM", AppNetworkAccessType: "VpcOnly" });
    const subnets = flat(domain.Properties.SubnetIds) as string[];
    expect(subnets).toHaveLength(2);
    for (const s of subnets) expect(s).toMatch(/privateSubnet\dSubnet/);
    expect(stack.domainId).toBe(stack.domain?.attrDomainId);
  });

  test("the domain's default execution role is none of the profiles' roles and has no permission at all", () => {
    const domain = Object.values(template.findResources("AWS::SageMaker::Domain"))[0] as Resource;
    const defaults = domain.Properties.DefaultUserSettings as { ExecutionRole: unknown };
    const spaces = domain.Properties.DefaultSpaceSettings as { ExecutionRole: unknown };
    const defaultRole = stack.defaultExecutionRole as iam.Role;
    expect(defaults.ExecutionRole).toEqual({
      "Fn::GetAtt": [stack.getLogicalId(defaultRole.node.defaultChild as iam.CfnRole), "Arn"],
    });
    expect(spaces.ExecutionRole).toEqual(defaults.ExecutionRole);
    for (const role of Object.values(stack.executionRoles)) expect(role).not.toBe(defaultRole);
    expect(policiesOf(template, stack, defaultRole)).toEqual([]);
    const own = template.findResources("AWS::IAM::Role")[
      stack.getLogicalId(defaultRole.node.defaultChild as iam.CfnRole)
    ] as Resource;
    expect(own.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test("four profiles, each with its own execution role, named as the guard's table names it", () => {
    const profiles = Object.values(template.findResources("AWS::SageMaker::UserProfile")) as Resource[];
    expect(profiles.map((p) => p.Properties.UserProfileName).sort()).toEqual([
      "mlflow-admin",
      "mlflow-model-approver",
      "mlflow-reader",
      "mlflow-release-manager",
    ]);
    for (const p of profiles) {
      const role = stack.executionRoles[p.Properties.UserProfileName as string] as iam.Role;
      const own = template.findResources("AWS::IAM::Role")[
        stack.getLogicalId(role.node.defaultChild as iam.CfnRole)
      ] as Resource;
      expect(own.Properties.RoleName).toBe(studioExecutionRoleName(p.Properties.UserProfileName as string, env.region));
      expect((p.Properties.UserSettings as { ExecutionRole: unknown }).ExecutionRole).toEqual({
        "Fn::GetAtt": [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), "Arn"],
      });
      expect(p.Properties.DomainId).toEqual({ "Fn::GetAtt": [stack.getLogicalId(stack.domain as never), "DomainId"] });
    }
    expect(new Set(Object.values(stack.executionRoles)).size).toBe(STUDIO_PROFILES.length);
    expect(stack.userProfiles).toHaveLength(STUDIO_PROFILES.length);
  });

  test.each(STUDIO_PROFILES.map((p) => [p.profileName, p.group]))(
    "%s: its execute-api policies are exactly the compiler's documents for group %s",
    (profile, group) => {
      const role = stack.executionRoles[profile] as iam.Role;
      const execute = policiesOf(template, stack, role).filter((p) =>
        actionsOf(p.document.Statement).includes("execute-api:Invoke"),
      );
      const compiled = policySet.iamPolicies(group, {
        partition: stack.partition,
        region: stack.region,
        account: stack.account,
        apiId: api.restApiId,
        stage: "prod",
      });
      expect(execute.map((p) => p.kind)).toEqual(compiled.map(() => "AWS::IAM::ManagedPolicy"));
      expect(execute.map((p) => normalized(p.document))).toEqual(
        compiled.map((d) => normalized(flat(stack.resolve(d)))),
      );
    },
  );

  test.each(STUDIO_PROFILES.map((p) => p.profileName))(
    "%s: S3 only on its own prefix of the SageMaker SDK's bucket, none on MLflow's artifacts (presigned URLs), no AmazonSageMakerFullAccess",
    (profile) => {
      const role = stack.executionRoles[profile] as iam.Role;
      const s3Statements = policiesOf(template, stack, role)
        .flatMap((p) => p.document.Statement)
        .filter((s) => list(s.Action).some((a) => String(a).startsWith("s3:") || a === "*"));
      expect(s3Statements.length).toBeGreaterThan(0);
      for (const statement of s3Statements)
        for (const resource of list(statement.Resource))
          expect(resource).toMatch(new RegExp(`^arn:aws:s3:::sagemaker-us-east-1-123456789012(/${profile}/\\*)?$`));
      const own = template.findResources("AWS::IAM::Role")[JSON.parse(roleRef(stack, role)).Ref] as Resource;
      expect(JSON.stringify(own.Properties.ManagedPolicyArns ?? [])).not.toMatch(/SageMakerFullAccess/);
    },
  );

  test.each(STUDIO_PROFILES.map((p) => p.profileName))(
    "%s: no more managed policies besides its execute-api ones than the compiler's budget leaves room for",
    (profile) => {
      const role = stack.executionRoles[profile] as iam.Role;
      const managed = policiesOf(template, stack, role).filter((p) => p.kind === "AWS::IAM::ManagedPolicy");
      const others = managed.filter((p) => !actionsOf(p.document.Statement).includes("execute-api:Invoke"));
      expect(others).toHaveLength(OTHER_MANAGED_POLICIES_PER_ROLE);
      expect(managed.length - others.length).toBeLessThanOrEqual(EXECUTE_API_POLICIES_PER_ROLE);
    },
  );

  test("no AWS managed policy on any role of the stack", () => {
    for (const role of Object.values(template.findResources("AWS::IAM::Role")) as Resource[])
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test("every iam:PassRole of the stack passes only the role that holds it, and only to SageMaker", () => {
    const roles = [
      ...Object.values(stack.executionRoles),
      stack.defaultExecutionRole as iam.Role,
      ...stack.crossAccountRoles.map((r) => r.role),
    ];
    let passRoles = 0;
    for (const role of roles) {
      const self = `<${stack.getLogicalId(role.node.defaultChild as iam.CfnRole)}.Arn>`;
      for (const s of policiesOf(template, stack, role).flatMap((p) => p.document.Statement)) {
        const passes = list(s.Action).some((a) => a === "*" || /^iam:(\*|Pass\*|PassRole)$/.test(String(a)));
        if (s.Effect !== "Allow" || !passes) continue;
        passRoles++;
        expect(list(s.Action)).toEqual(["iam:PassRole"]);
        expect(list(s.Resource)).toEqual([self]);
        expect(s.Condition).toEqual({ StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } });
      }
    }
    expect(passRoles).toBe(STUDIO_PROFILES.length);
  });

  test("Studio permissions are scoped to the profile: its private spaces and their apps, its training jobs", () => {
    const doc = policiesOf(template, stack, stack.executionRoles["mlflow-reader"] as iam.Role)
      .map((p) => p.document)
      .find((d) => d.Statement.some((s) => s.Sid === "OwnTrainingJobs")) as { Statement: Statement[] };
    const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
    const domain = `<${stack.getLogicalId(stack.domain as never)}.DomainId>`;
    const own = `arn:aws:sagemaker:us-east-1:123456789012:user-profile/${domain}/mlflow-reader`;
    expect(bySid.OwnPrivateSpaces?.Condition).toEqual({
      ArnEquals: { "sagemaker:OwnerUserProfileArn": own },
      StringEquals: { "sagemaker:SpaceSharingType": "Private" },
    });
    expect(bySid.OwnPrivateSpaceApps?.Condition).toEqual(bySid.OwnPrivateSpaces?.Condition);
    expect(bySid.OwnTrainingJobs?.Resource).toBe(
      "arn:aws:sagemaker:us-east-1:123456789012:training-job/mlflow-reader-*",
    );
    expect(bySid.TagOnCreate?.Condition).toEqual({ Null: { "sagemaker:TaggingAction": "false" } });
    // Only actions that IAM cannot scope get "*".
    const star = doc.Statement.filter((s) => list(s.Resource).includes("*")).flatMap((s) => list(s.Action));
    expect(star.sort()).toEqual([
      "ecr:GetAuthorizationToken",
      "sagemaker:ListApps",
      "sagemaker:ListDomains",
      "sagemaker:ListSpaces",
      "sagemaker:ListUserProfiles",
    ]);
  });

  test("one MlflowAccessRole per configured cross-account role, with its name, principals and group", () => {
    expect(stack.crossAccountRoles).toHaveLength(CROSS_ACCOUNT.length);
    CROSS_ACCOUNT.forEach((c, i) => {
      const access = stack.crossAccountRoles[i];
      const role = template.findResources("AWS::IAM::Role")[
        stack.getLogicalId(access?.role.node.defaultChild as iam.CfnRole)
      ] as Resource;
      expect(role.Properties.RoleName).toBe(c.roleName);
      const trust = role.Properties.AssumeRolePolicyDocument as {
        Statement: (Statement & { Principal: { AWS: string } })[];
      };
      expect(trust.Statement.map((s) => s.Principal.AWS)).toEqual(c.trustedPrincipalArns);
      expect(trust.Statement.map((s) => s.Condition)).toEqual(
        c.trustedPrincipalArns.map(() =>
          c.externalId ? { StringEquals: { "sts:ExternalId": c.externalId } } : undefined,
        ),
      );
      const execute = policiesOf(template, stack, access?.role as iam.Role).filter((p) =>
        actionsOf(p.document.Statement).includes("execute-api:Invoke"),
      );
      expect(execute).toHaveLength(
        policySet.iamPolicies(c.group, {
          partition: stack.partition,
          region: stack.region,
          account: stack.account,
          apiId: api.restApiId,
          stage: "prod",
        }).length,
      );
    });
  });

  test("cdk-nag passes", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("SageMakerStudioUserStack with an existing domain", () => {
  const { app, stack } = build({ sagemakerDomainId: "d-abcdefghijkl" });
  const template = Template.fromStack(stack);

  test("creates no domain, no default role and no security group, and puts the profiles in the given domain", () => {
    template.resourceCountIs("AWS::SageMaker::Domain", 0);
    template.resourceCountIs("AWS::EC2::SecurityGroup", 0);
    expect(stack.domain).toBeUndefined();
    expect(stack.defaultExecutionRole).toBeUndefined();
    expect(stack.domainId).toBe("d-abcdefghijkl");
    const profiles = Object.values(template.findResources("AWS::SageMaker::UserProfile")) as Resource[];
    expect(profiles.map((p) => p.Properties.DomainId)).toEqual(STUDIO_PROFILES.map(() => "d-abcdefghijkl"));
    for (const p of profiles) expect(p.Properties.UserSettings).not.toHaveProperty("SecurityGroups");
  });

  test("cdk-nag passes", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("SageMakerStudioUserStack validation", () => {
  test("every profile's and role's group must be a caller group of the policy set, the known ones named", () => {
    const withoutApprovers = PolicySet.fromFiles(
      policySet.catalog,
      loadGroupFiles(GROUPS_DIR).filter((f) => f.name !== "model-approvers"),
    );
    const error = thrownBy(
      () => build({}, { policySet: withoutApprovers, configGroups: policySet.callerGroups }),
      ConfigError,
    );
    const known = "one of admins, readers, release-managers, writers";
    expect(error.message).toContain(
      `profile mlflow-model-approver names model-approvers, which is not a caller group (${known})`,
    );
    expect(error.message).toContain(
      `cross-account role mlflow-gate-approver-from-ds names model-approvers, which is not a caller group (${known})`,
    );
  });

  test("without profiles in the configuration, only those of caller groups: a missing group file drops its profile", () => {
    const withoutApprovers = PolicySet.fromFiles(
      policySet.catalog,
      loadGroupFiles(GROUPS_DIR).filter((f) => f.name !== "model-approvers"),
    );
    const { stack } = build({ crossAccountRoles: [] }, { policySet: withoutApprovers });
    expect(Object.keys(stack.executionRoles).sort()).toEqual([
      "mlflow-admin",
      "mlflow-reader",
      "mlflow-release-manager",
    ]);
  });

  test("a new domain needs private subnets, and the stage must be the configured one; both reported together", () => {
    const error = thrownBy(
      () => build({}, { subnets: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC }], stageName: "dev" }),
      ConfigError,
    );
    expect(error.message).toContain("no private subnets");
    expect(error.message).toContain("stageName dev differs from the configured stage prod");
  });
});
