import { App, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../../../authorizer/core/errors";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { loadPolicySet } from "../../../authorizer/load-policies";
import {
  acknowledgeWildcards,
  artifactAccessOf,
  MlflowAccessRole,
  MlflowAccessRoleProps,
} from "../../../infra/constructs/mlflow-access-role";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { thrownBy } from "../../support/errors";
import { flatTemplate } from "../support/template";

const env = { account: "123456789012", region: "us-east-1" };
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);

/** The app with cdk-nag, and a stand-in for the stacks that own the API and the artifact bucket. */
function standIn(options: { kmsBucket?: boolean } = {}) {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const shared = new Stack(app, "StandIn", { env });
  const api = new apigw.RestApi(shared, "Api", { cloudWatchRole: false });
  api.root.addMethod("GET", new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
  const bucket = new s3.Bucket(shared, "Artifacts", {
    enforceSSL: true,
    ...(options.kmsBucket ? { encryptionKey: new kms.Key(shared, "ArtifactKey", { enableKeyRotation: true }) } : {}),
  });
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
  return { app, stack, api, bucket };
}

/** The API id reads API_ID, the artifact bucket's ARN arn:aws:s3:::BUCKET, its key KEY_ARN. */
const flat = (value: unknown): unknown =>
  flatTemplate(value, [
    [/RefApi/, "API_ID"],
    [/Artifacts.*Arn/, "arn:aws:s3:::BUCKET"],
    [/ArtifactKey.*Arn/, "KEY_ARN"],
  ]);

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
  props: Partial<MlflowAccessRoleProps> & Pick<MlflowAccessRoleProps, "api" | "artifactBucket">,
): MlflowAccessRole {
  return new MlflowAccessRole(stack, id, {
    policySet,
    group: "readers",
    stageName: "prod",
    trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds"],
    ...props,
  });
}

describe("artifactAccessOf", () => {
  test("readers and model approvers may not upload or delete artifacts; admins may do both", () => {
    expect(artifactAccessOf(policySet, "readers")).toEqual({ uploadRoutes: [], deleteRoutes: [] });
    expect(artifactAccessOf(policySet, "model-approvers")).toEqual({ uploadRoutes: [], deleteRoutes: [] });
    const admins = artifactAccessOf(policySet, "admins");
    expect(admins.uploadRoutes).toEqual(
      expect.arrayContaining([
        "PUT /api/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
        "POST /api/2.0/mlflow/artifacts/presigned-upload-url",
        "POST /ajax-api/2.0/mlflow/upload-artifact",
        "POST /api/2.0/mlflow-artifacts/mpu/create/{artifact_path+}",
      ]),
    );
    expect([...admins.deleteRoutes].sort()).toEqual([
      "DELETE /ajax-api/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
      "DELETE /api/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
    ]);
  });

  test("follows the group file, not the group's name: a group that may only upload gets no delete", () => {
    const uploaders = PolicySet.fromFiles(policySet.catalog, [
      {
        name: "uploaders",
        file: "uploaders.yaml",
        description: "",
        extends: [],
        allow: [{ pattern: "UploadProxiedArtifact", line: 1 }],
        deny: [],
        unknownRoutes: "deny",
      },
      {
        name: "admins",
        file: "admins.yaml",
        description: "",
        extends: [],
        allow: [{ pattern: "class:read", line: 1 }],
        deny: [],
        unknownRoutes: "deny",
      },
    ]);
    expect([...artifactAccessOf(uploaders, "uploaders").uploadRoutes].sort()).toEqual([
      "PUT /ajax-api/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
      "PUT /api/2.0/mlflow-artifacts/artifacts/{artifact_path+}",
    ]);
    expect(artifactAccessOf(uploaders, "uploaders").deleteRoutes).toEqual([]);
    expect(artifactAccessOf(uploaders, "admins")).toEqual({ uploadRoutes: [], deleteRoutes: [] });
  });
});

describe("MlflowAccessRole", () => {
  const { app, stack, api, bucket } = standIn();
  const reader = accessRole(stack, "Reader", {
    api,
    artifactBucket: bucket,
    trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds", "arn:aws:iam::210987654321:root"],
    externalId: "ext-id-1",
    roleName: "mlflow-gate-reader-from-ds",
    artifactPrefix: "artifacts",
  });
  const admin = accessRole(stack, "Admin", { api, artifactBucket: bucket, group: "admins" });
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

  test("a reader reads the artifact prefix and cannot write or delete there", () => {
    const statements = statementsOf(
      managedPoliciesOf(template, stack, reader.role).filter(
        (p) => !JSON.stringify(p.Properties.PolicyDocument).includes("execute-api"),
      ),
    );
    expect(statements).toEqual([
      { Sid: "ReadArtifacts", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET/artifacts/*" },
      {
        Sid: "ListArtifacts",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::BUCKET",
        Condition: { StringLike: { "s3:prefix": ["artifacts/*"] } },
      },
    ]);
  });

  test("an admin may also upload and delete artifacts, in the whole bucket by default", () => {
    const statements = statementsOf(
      managedPoliciesOf(template, stack, admin.role).filter(
        (p) => !JSON.stringify(p.Properties.PolicyDocument).includes("execute-api"),
      ),
    );
    expect(statements).toEqual([
      { Sid: "ReadArtifacts", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET/*" },
      { Sid: "ListArtifacts", Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET" },
      {
        Sid: "UploadArtifacts",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: "arn:aws:s3:::BUCKET/*",
      },
      { Sid: "DeleteArtifacts", Effect: "Allow", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::BUCKET/*" },
    ]);
  });

  test("cdk-nag passes: the wildcards of the compiled and artifact statements are acknowledged one by one", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("MlflowAccessRole with a KMS-encrypted artifact bucket", () => {
  test("a read-only group may only decrypt, through S3", () => {
    const { stack, api, bucket } = standIn({ kmsBucket: true });
    const reader = accessRole(stack, "Reader", { api, artifactBucket: bucket });
    const admin = accessRole(stack, "Admin", { api, artifactBucket: bucket, group: "admins" });
    const template = Template.fromStack(stack);
    const keyStatement = (a: MlflowAccessRole) =>
      statementsOf(managedPoliciesOf(template, stack, a.role)).find((s) => s.Sid === "ArtifactKey");
    expect(keyStatement(reader)).toEqual({
      Sid: "ArtifactKey",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: "KEY_ARN",
      Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
    });
    expect(keyStatement(admin)?.Action).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
  });
});

describe("MlflowAccessRole validation", () => {
  test("reports every problem at once", () => {
    const { stack, api, bucket } = standIn();
    const error = thrownBy(
      () =>
        accessRole(stack, "Bad", {
          api,
          artifactBucket: bucket,
          group: "nobody",
          trustedPrincipalArns: ["arn:aws:iam::210987654321:role/ds", "arn:aws:iam::210987654321:role/ds", "*"],
          externalId: "x",
          roleName: "bad name",
          artifactPrefix: "/artifacts/*",
        }),
      ConfigError,
    );
    for (const part of [
      "group must be one of",
      '"*" is not an IAM role',
      "duplicates",
      "externalId",
      "roleName",
      "artifactPrefix",
    ])
      expect(error.message).toContain(part);
  });

  test("refuses an empty list of trusted principals", () => {
    const { stack, api, bucket } = standIn();
    expect(() => accessRole(stack, "Nobody", { api, artifactBucket: bucket, trustedPrincipalArns: [] })).toThrow(
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
