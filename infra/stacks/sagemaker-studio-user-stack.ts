import { CfnOutput, Stack, StackProps, Token } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import { Construct } from "constructs";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { InfraConfig } from "../config";
import { acknowledgeWildcards, MlflowAccessRole, MlflowGroupGrants } from "../constructs/mlflow-access-role";
import { studioExecutionRoleName } from "../iam-callers";

export interface SageMakerStudioUserStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly policySet: PolicySet;
  readonly api: apigw.IRestApi;
  readonly stageName: string;
  /** The VPC whose private subnets a new Studio domain uses (VPC-only network access). */
  readonly vpc: ec2.IVpc;
}

/**
 * SageMaker Studio users of MLflow: a Studio domain (or an existing one), a user profile per entry of `config.studioProfiles` whose
 * execution roles (named, see infra/iam-callers.ts) carry their group's compiled execute-api policies (and no S3 access: artifacts move
 * through presigned URLs, docs/artifacts.md), and the cross-account roles of the configuration.
 *
 * No role gets AmazonSageMakerFullAccess: it allows iam:PassRole of any role to SageMaker, so a reader
 * could start a training job as the admin role. Each execution role gets one scoped policy instead
 * (see `studioUserStatements`) that can pass only the role itself.
 */
export class SageMakerStudioUserStack extends Stack {
  public readonly domainId: string;
  /** Created only when `config.sagemakerDomainId` is not set. */
  public readonly domain?: sagemaker.CfnDomain;
  /** The domain's default execution role (new domain only): no permissions at all, not the admin role. */
  public readonly defaultExecutionRole?: iam.Role;
  /** The security group of the new domain's apps (new domain only). */
  public readonly securityGroup?: ec2.SecurityGroup;
  /** By profile name (config.studioProfiles; by default mlflow-admin, mlflow-reader, mlflow-model-approver, mlflow-release-manager). */
  public readonly executionRoles: Readonly<Record<string, iam.Role>>;
  /** By profile name: the group's MLflow grants on the execution role. */
  public readonly grants: Readonly<Record<string, MlflowGroupGrants>>;
  /** By profile name: Studio apps and training jobs, scoped to the profile. */
  public readonly studioPolicies: Readonly<Record<string, iam.ManagedPolicy>>;
  public readonly userProfiles: readonly sagemaker.CfnUserProfile[];
  /** One per `config.crossAccountRoles` entry. */
  public readonly crossAccountRoles: readonly MlflowAccessRole[];

  constructor(scope: Construct, id: string, props: SageMakerStudioUserStackProps) {
    super(scope, id, props);
    const { config, policySet } = props;
    const creatingDomain = config.sagemakerDomainId === undefined;
    const subnets = creatingDomain ? privateSubnetsOf(props.vpc) : [];

    const problems: string[] = [];
    const known = [...policySet.callerGroups].sort().join(", ");
    for (const p of config.studioProfiles) {
      if (!policySet.callerGroups.has(p.group))
        problems.push(`profile ${p.profileName} names ${p.group}, which is not a caller group (one of ${known})`);
    }
    for (const r of config.crossAccountRoles) {
      if (!policySet.callerGroups.has(r.group))
        problems.push(
          `cross-account role ${r.roleName} names ${r.group}, which is not a caller group (one of ${known})`,
        );
    }
    if (creatingDomain && subnets.length === 0)
      problems.push(
        "the VPC has no private subnets for a VPC-only Studio domain (or set mlflow-gate.sagemakerDomainId)",
      );
    if (!Token.isUnresolved(props.stageName) && props.stageName !== config.stageName)
      problems.push(`stageName ${props.stageName} differs from the configured stage ${config.stageName}`);
    if (problems.length > 0) throw new ConfigError(`${this.node.path}:\n  ${problems.join("\n  ")}`);

    if (creatingDomain) {
      this.securityGroup = new ec2.SecurityGroup(this, "StudioSecurityGroup", {
        vpc: props.vpc,
        description: "mlflow-gate: SageMaker Studio apps (VPC-only domain)",
        allowAllOutbound: true,
      });
      // Studio's app servers and kernel gateways talk to each other on these ports (Studio in a VPC).
      this.securityGroup.addIngressRule(
        this.securityGroup,
        ec2.Port.tcpRange(8192, 65535),
        "Studio apps of this domain",
      );
      this.defaultExecutionRole = new iam.Role(this, "DefaultExecutionRole", {
        description: "mlflow-gate: the Studio domain's default and shared-space role; no permissions, no MLflow access",
        assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      });
      const appSettings = {
        executionRole: this.defaultExecutionRole.roleArn,
        securityGroups: [this.securityGroup.securityGroupId],
      };
      this.domain = new sagemaker.CfnDomain(this, "Domain", {
        domainName: "mlflow-gate",
        authMode: "IAM",
        appNetworkAccessType: "VpcOnly",
        vpcId: props.vpc.vpcId,
        subnetIds: subnets.map((s) => s.subnetId),
        defaultUserSettings: {
          ...appSettings,
          studioWebPortal: "ENABLED",
          defaultLandingUri: "studio::",
          sharingSettings: { notebookOutputOption: "Disabled" },
        },
        defaultSpaceSettings: appSettings,
      });
      this.domainId = this.domain.attrDomainId;
    } else {
      this.domainId = config.sagemakerDomainId as string;
    }

    const roles: Record<string, iam.Role> = {};
    const grants: Record<string, MlflowGroupGrants> = {};
    const studioPolicies: Record<string, iam.ManagedPolicy> = {};
    this.userProfiles = config.studioProfiles.map((p) => {
      const role = new iam.Role(this, `${p.id}ExecutionRole`, {
        // Named: the guard's table of SigV4 callers (infra/iam-callers.ts) knows it by name.
        roleName: studioExecutionRoleName(p.profileName, this.region),
        description: `mlflow-gate: SageMaker execution role of Studio profile ${p.profileName} (MLflow group ${p.group})`,
        assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      });
      roles[p.profileName] = role;
      grants[p.profileName] = new MlflowGroupGrants(this, `${p.id}Mlflow`, {
        policySet,
        group: p.group,
        api: props.api,
        stageName: props.stageName,
        role,
      });
      const studio = new iam.ManagedPolicy(this, `${p.id}StudioPolicy`, {
        description: `mlflow-gate: Studio apps and training jobs of profile ${p.profileName}, scoped to its own spaces, jobs and role`,
        statements: studioUserStatements(this, { domainId: this.domainId, profileName: p.profileName, role }),
        roles: [role],
      });
      acknowledgeWildcards(studio, (sid) => STUDIO_WILDCARD_REASONS[sid]);
      studioPolicies[p.profileName] = studio;
      const profile = new sagemaker.CfnUserProfile(this, `${p.id}Profile`, {
        domainId: this.domainId,
        userProfileName: p.profileName,
        userSettings: {
          executionRole: role.roleArn,
          sharingSettings: { notebookOutputOption: "Disabled" },
          // An existing domain keeps its own network settings: a group of this VPC might not belong to it.
          ...(this.securityGroup ? { securityGroups: [this.securityGroup.securityGroupId] } : {}),
        },
      });
      new CfnOutput(this, `${p.id}ExecutionRoleArn`, {
        value: role.roleArn,
        description: `Execution role of Studio profile ${p.profileName}`,
      });
      return profile;
    });
    this.executionRoles = roles;
    this.grants = grants;
    this.studioPolicies = studioPolicies;

    this.crossAccountRoles = config.crossAccountRoles.map((r) => {
      const access = new MlflowAccessRole(this, `CrossAccount${r.roleName}`, {
        policySet,
        group: r.group,
        api: props.api,
        stageName: props.stageName,
        trustedPrincipalArns: r.trustedPrincipalArns,
        ...(r.externalId !== undefined ? { externalId: r.externalId } : {}),
        roleName: r.roleName,
      });
      new CfnOutput(this, `CrossAccount${r.roleName}Arn`, {
        value: access.role.roleArn,
        description: `Role other accounts assume to use MLflow as ${r.group}`,
      });
      return access;
    });
    new CfnOutput(this, "StudioDomainId", { value: this.domainId });
  }
}

function privateSubnetsOf(vpc: ec2.IVpc): ec2.ISubnet[] {
  return vpc.privateSubnets.length > 0 ? [...vpc.privateSubnets] : [...vpc.isolatedSubnets];
}

/** Why each wildcard of the Studio policy is as narrow as IAM allows (cdk-nag AwsSolutions-IAM5). */
const STUDIO_WILDCARD_REASONS: Record<string, string> = {
  StudioList:
    "sagemaker:ListApps/ListSpaces/ListUserProfiles/ListDomains support no resource-level permissions (Service Authorization Reference); they return names and states only",
  StudioDescribe:
    "spaces and apps of this Studio domain only (their names are chosen at creation); describing them is what the Studio UI does to show them",
  OwnPrivateSpaces:
    "spaces of this domain, and only private ones owned by this profile (sagemaker:OwnerUserProfileArn and sagemaker:SpaceSharingType conditions)",
  OwnPrivateSpaceApps:
    "apps of this domain, and only in private spaces owned by this profile (same conditions as the spaces)",
  TagOnCreate:
    "Studio and the SDK tag what they create; only while creating (sagemaker:TaggingAction) and only this domain's spaces/apps and this profile's training jobs",
  OwnTrainingJobs:
    "training jobs named after this profile (<profile>-*): a profile cannot create, describe or stop another profile's jobs",
  WriteSageMakerLogs:
    "log groups under /aws/sagemaker/, where SageMaker apps and jobs log with their execution role; stream names are generated per job and instance",
  ReadOwnJobLogs:
    "log streams of this profile's training jobs only (<profile>-*), and the stream listing of the training-job log group",
  EcrAuth: "ecr:GetAuthorizationToken supports no resource-level permissions",
  EcrPull:
    "pull (read-only) from this account's ECR repositories in this region, for custom training and Studio images",
  Workspace:
    "this profile's own prefix of the SageMaker SDK's default bucket (sagemaker-<region>-<account>/<profile>/), in this account only (s3:ResourceAccount)",
};

/**
 * A least-privilege policy for a Studio user profile: its private spaces and their apps, training jobs
 * named after the profile, passing only its own role to SageMaker, SageMaker logs, ECR pulls from this
 * account, and its prefix of the SDK's default bucket. (AmazonSageMakerFullAccess instead allows passing
 * any role to SageMaker, e.g. a reader starting a job as the admin role.)
 */
export function studioUserStatements(
  scope: Construct,
  p: { domainId: string; profileName: string; role: iam.IRole },
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const sm = (resource: string) => `arn:${stack.partition}:sagemaker:${stack.region}:${stack.account}:${resource}`;
  const logs = (resource: string) =>
    `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${resource}`;
  const ownProfile = sm(`user-profile/${p.domainId}/${p.profileName}`);
  const spaces = sm(`space/${p.domainId}/*`);
  const apps = sm(`app/${p.domainId}/*`);
  const jobs = sm(`training-job/${p.profileName}-*`);
  const ownPrivate = {
    ArnEquals: { "sagemaker:OwnerUserProfileArn": ownProfile },
    StringEquals: { "sagemaker:SpaceSharingType": "Private" },
  };
  const workspaceBucket = `sagemaker-${stack.region}-${stack.account}`;
  const inThisAccount = { StringEquals: { "s3:ResourceAccount": stack.account } };
  return [
    new iam.PolicyStatement({
      sid: "StudioList",
      actions: ["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles", "sagemaker:ListDomains"],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "StudioDescribeOwn",
      actions: ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile", "sagemaker:ListTags"],
      resources: [sm(`domain/${p.domainId}`), ownProfile],
    }),
    new iam.PolicyStatement({
      sid: "StudioDescribe",
      actions: ["sagemaker:DescribeSpace", "sagemaker:DescribeApp", "sagemaker:ListTags"],
      resources: [spaces, apps],
    }),
    new iam.PolicyStatement({
      sid: "OwnPrivateSpaces",
      actions: ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
      resources: [spaces],
      conditions: ownPrivate,
    }),
    new iam.PolicyStatement({
      sid: "OwnPrivateSpaceApps",
      actions: ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
      resources: [apps],
      conditions: ownPrivate,
    }),
    new iam.PolicyStatement({
      sid: "TagOnCreate",
      actions: ["sagemaker:AddTags"],
      resources: [spaces, apps, jobs],
      conditions: { Null: { "sagemaker:TaggingAction": "false" } },
    }),
    new iam.PolicyStatement({
      sid: "OwnTrainingJobs",
      actions: ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
      resources: [jobs],
    }),
    // The only role this profile may hand to SageMaker is its own: jobs never get more than the notebook.
    new iam.PolicyStatement({
      sid: "PassOwnRoleToSageMaker",
      actions: ["iam:PassRole"],
      resources: [p.role.roleArn],
      conditions: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
    }),
    new iam.PolicyStatement({
      sid: "WriteSageMakerLogs",
      actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [logs("/aws/sagemaker/*"), logs("/aws/sagemaker/*:log-stream:*")],
    }),
    new iam.PolicyStatement({
      sid: "ReadOwnJobLogs",
      actions: ["logs:DescribeLogStreams", "logs:GetLogEvents"],
      resources: [
        logs("/aws/sagemaker/TrainingJobs:*"),
        logs(`/aws/sagemaker/TrainingJobs:log-stream:${p.profileName}-*`),
      ],
    }),
    new iam.PolicyStatement({ sid: "EcrAuth", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }),
    new iam.PolicyStatement({
      sid: "EcrPull",
      actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      resources: [`arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/*`],
    }),
    new iam.PolicyStatement({
      sid: "Workspace",
      actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      resources: [`arn:${stack.partition}:s3:::${workspaceBucket}/${p.profileName}/*`],
      conditions: inThisAccount,
    }),
    new iam.PolicyStatement({
      sid: "WorkspaceBucket",
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      resources: [`arn:${stack.partition}:s3:::${workspaceBucket}`],
      conditions: inThisAccount,
    }),
  ];
}
