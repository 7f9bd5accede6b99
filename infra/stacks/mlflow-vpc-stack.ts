import { iamCallerGroups } from "../iam-callers";
import { dirname, join, relative } from "path";
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { DockerImageAsset, Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as cxapi from "aws-cdk-lib/cx-api";
import { Construct, IConstruct } from "constructs";
import { ARTIFACT_PREFIX, executeApiPathPrefix } from "../../authorizer/core/contract";
import { ConfigError } from "../../authorizer/core/errors";
import { loadPinnedMlflowVersion } from "../../project/mlflow-venv";
import { REPO_ROOT } from "../../project/paths";
import { InfraConfig } from "../config";
import { PolicyDirs } from "../policy-dirs";
import { PolicySet } from "../../authorizer/core/policy-set";
import { GUARD_CONTAINER_NAME, GUARD_DOCKERFILE, GUARD_PORT, GuardSidecar } from "../constructs/guard-sidecar";
import { MlflowSchemaUpgrade } from "../constructs/mlflow-schema-upgrade";

/** The port MLflow listens on inside its task, on loopback: only the guard beside it reaches MLflow. */
export const MLFLOW_PORT = 5000;
/** MLflow's address in its task, which the guard forwards to (awsvpc: the task's containers share loopback). */
export const MLFLOW_UPSTREAM = new URL(`http://127.0.0.1:${MLFLOW_PORT}`);
/** The NLB listener port the API's VPC link integration calls (`http://<loadBalancerDnsName>/...`); it forwards to the guard. */
export const MLFLOW_LISTENER_PORT = 80;
/** The directory of the MLflow image (its Dockerfile and entrypoint; the guard's Dockerfile is in guard/). */
export const MLFLOW_IMAGE_DIR = join(REPO_ROOT, "infra", "docker");
/** Aurora listens on a non-default port (AwsSolutions-RDS11); tasks read it from the secret. */
const DATABASE_PORT = 5433;
const DATABASE_NAME = "mlflow";
const DATABASE_USER = "mlflow";
const CONTAINER_NAME = "Mlflow";
/** The image is built for amd64 wherever `cdk deploy` runs (Apple silicon included); its tasks run there. */
const MLFLOW_RUNTIME_PLATFORM: ecs.RuntimePlatform = {
  cpuArchitecture: ecs.CpuArchitecture.X86_64,
  operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
};

export interface MlflowVpcStackProps extends StackProps {
  /** The validated deployment configuration; `mlflow` sizes and scales the Fargate service. */
  readonly config: InfraConfig;
  /**
   * The policies the API is built from. With teams, MLflow runs with workspaces, one per team (created at start
   * when missing), and the guard's image holds the team files.
   * @default no teams: the guard's image holds the files of `policyDirs`, MLflow runs without workspaces
   */
  readonly policySet?: PolicySet;
  /**
   * Where `policySet` was read from: the guard's image holds these group and team files.
   * @default DEFAULT_POLICY_DIRS (policies/groups, policies/teams)
   */
  readonly policyDirs?: PolicyDirs;
}

/**
 * The variable that tells the image's entrypoint the teams' workspaces (comma-separated): set, MLflow runs with
 * `--enable-workspaces` and each missing one is created once MLflow is up (infra/docker/entrypoint.py).
 */
export const MLFLOW_WORKSPACES_ENV = "MLFLOW_GATE_WORKSPACES";

/**
 * MLflow's private side: a two-AZ VPC, Aurora Serverless v2 PostgreSQL, the artifact bucket, and
 * MLflow on Fargate behind an internal NLB that only the API's VPC link (PrivateLink) can reach. Every new MLflow
 * image upgrades the database's schema (MlflowSchemaUpgrade) before the service rolls it out.
 */
export class MlflowVpcStack extends Stack {
  public readonly vpc: ec2.Vpc;
  /** Receives the artifact bucket's server access logs and the VPC flow logs. */
  public readonly logBucket: s3.Bucket;
  public readonly artifactBucket: s3.Bucket;
  public readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** username, password, dbname, host, port: the only way tasks learn the database credentials. */
  public readonly databaseSecret: rds.DatabaseSecret;
  public readonly database: rds.DatabaseCluster;
  /**
   * The database secret as the cluster's attachment completes it (`host`, `port`, `engine` added): what the
   * tasks read, so that nothing reads it before they exist.
   */
  public readonly attachedDatabaseSecret: secretsmanager.ISecret;
  public readonly cluster: ecs.Cluster;
  /** MLflow's log, the schema upgrade's included (streams `mlflow/...` and `schema-upgrade/...`). */
  public readonly logGroup: logs.LogGroup;
  /** MLflow's image (infra/docker/), run by the service's MLflow container and by the schema upgrade. */
  public readonly mlflowImage: DockerImageAsset;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** MLflow, on loopback in the task. */
  public readonly container: ecs.ContainerDefinition;
  /** The guard in front of MLflow, in the same task: the load balancer's target. */
  public readonly guard: GuardSidecar;
  public readonly guardContainer: ecs.ContainerDefinition;
  /** The guard's audit trail (its standard output): retained, deletion-protected, append-only for the task. */
  public readonly auditLogGroup: logs.LogGroup;
  /** `mlflow db upgrade` as a step of the deployment, before the service rolls out a new image. */
  public readonly schemaUpgrade: MlflowSchemaUpgrade;
  public readonly service: ecs.FargateService;
  /** Internal; listener port 80 forwards to the guard's port in the tasks. */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  public readonly listener: elbv2.NetworkListener;
  public readonly targetGroup: elbv2.NetworkTargetGroup;
  /** No inbound rules, and not evaluated for PrivateLink traffic: only the VPC link gets in. */
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Admits the guard's port from the load balancer's security group only (MLflow's port is loopback). */
  public readonly taskSecurityGroup: ec2.SecurityGroup;
  public readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: MlflowVpcStackProps) {
    super(scope, id, props);
    // Log delivery through bucket policies that CloudFormation owns: ACLs are off on these buckets,
    // and a policy the flow-log service added on its own would be dropped by the next deploy.
    // Pinned here so the stack synthesizes the same with or without cdk.json's flags.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.node.setContext(cxapi.S3_CREATE_DEFAULT_LOGGING_POLICY, true);
    validateMlflowVpcStackProps(props);
    const { mlflow } = props.config;
    const mlflowVersion = loadPinnedMlflowVersion();
    const teams = props.policySet?.teams?.names;

    this.logBucket = new s3.Bucket(this, "LogBucket", {
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logging cannot write to SSE-KMS buckets
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { id: "ExpireLogs", expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.vpc = new ec2.Vpc(this, "Vpc", {
      // By position (the region's first two at deploy time), or by id when the config names them (below).
      ipAddresses: ec2.IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: 2,
      // One NAT gateway per AZ: tasks pull images and reach Secrets Manager and CloudWatch
      // through them, so an AZ outage does not take the other AZ's tasks with it.
      natGateways: 2,
      subnetConfiguration: [
        { name: "Public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }, // NAT gateways only
        { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: "Database", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
      gatewayEndpoints: {
        // Artifact traffic stays on the AWS network and off the NAT gateways.
        S3: {
          service: ec2.GatewayVpcEndpointAwsService.S3,
          subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
        },
      },
      flowLogs: {
        FlowLogs: {
          destination: ec2.FlowLogDestination.toS3(this.logBucket, "vpc-flow-logs/"),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });
    if (props.config.availabilityZoneIds) this.placeSubnetsByAzId(props.config.availabilityZoneIds);

    this.artifactBucket = new s3.Bucket(this, "ArtifactBucket", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: "artifact-bucket/",
      lifecycleRules: [
        { id: "ExpireOldVersions", noncurrentVersionExpiration: Duration.days(90) },
        { id: "AbortIncompleteUploads", abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Security groups first: each admits exactly one peer.
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, "LoadBalancerSecurityGroup", {
      vpc: this.vpc,
      description: "MLflow NLB: no inbound rules; PrivateLink (API Gateway VPC link) traffic bypasses them",
      allowAllOutbound: false,
    });
    this.taskSecurityGroup = new ec2.SecurityGroup(this, "TaskSecurityGroup", {
      vpc: this.vpc,
      description: "MLflow tasks: the guard port from the MLflow NLB only",
      allowAllOutbound: false,
    });
    this.databaseSecurityGroup = new ec2.SecurityGroup(this, "DatabaseSecurityGroup", {
      vpc: this.vpc,
      description: "MLflow Aurora cluster: PostgreSQL from the MLflow tasks only",
      allowAllOutbound: false,
    });
    // The guard's port only: MLflow listens on the task's loopback, out of the network's reach.
    this.taskSecurityGroup.addIngressRule(
      this.loadBalancerSecurityGroup,
      ec2.Port.tcp(GUARD_PORT),
      "The guard from the NLB (traffic and health checks)",
    );
    this.loadBalancerSecurityGroup.addEgressRule(
      this.taskSecurityGroup,
      ec2.Port.tcp(GUARD_PORT),
      "To the guard in the MLflow tasks",
    );
    this.databaseSecurityGroup.addIngressRule(
      this.taskSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      "PostgreSQL from the MLflow tasks",
    );
    this.taskSecurityGroup.addEgressRule(
      this.databaseSecurityGroup,
      ec2.Port.tcp(DATABASE_PORT),
      "To the MLflow database",
    );
    // ECR, Secrets Manager, CloudWatch Logs (through NAT) and S3 (through the gateway endpoint).
    this.taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs");

    this.databaseSecret = new rds.DatabaseSecret(this, "DatabaseSecret", {
      username: DATABASE_USER,
      dbname: DATABASE_NAME,
    });
    acknowledge(this.databaseSecret, {
      id: "AwsSolutions-SMG4",
      reason:
        "Tasks read the password once at start (ECS secrets injection), so a rotation would break every running task's new connections until a redeploy. " +
        "The secret is readable only by the task execution role and the database admits only the task security group; rotation needs a coordinated forced deployment first.",
    });

    this.database = new rds.DatabaseCluster(this, "Database", {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_9 }),
      credentials: rds.Credentials.fromSecret(this.databaseSecret),
      defaultDatabaseName: DATABASE_NAME,
      port: DATABASE_PORT,
      writer: rds.ClusterInstance.serverlessV2("Writer", { publiclyAccessible: false, autoMinorVersionUpgrade: true }),
      // 0.5 ACU floor, not auto-pause (0): a paused cluster takes seconds to resume and MLflow's
      // health check and first requests would time out behind API Gateway's 29 s limit.
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 8,
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.databaseSecurityGroup],
      storageEncrypted: true,
      deletionProtection: true,
      backup: { retention: Duration.days(14), preferredWindow: "03:00-04:00" },
      preferredMaintenanceWindow: "Sun:04:30-Sun:05:30",
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    if (!this.database.secret) throw new ConfigError("the database cluster has no attached secret");
    this.attachedDatabaseSecret = this.database.secret;
    acknowledge(this.database, {
      id: "AwsSolutions-RDS6",
      reason:
        "MLflow connects with one static SQLAlchemy URI and has no hook to refresh 15-minute IAM auth tokens per connection. " +
        "Password auth over TLS (sslmode=verify-full), a Secrets Manager password and a security group admitting only the MLflow tasks stand in for it.",
    });

    this.cluster = new ecs.Cluster(this, "Cluster", {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.logGroup = new logs.LogGroup(this, "LogGroup", {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.mlflowImage = new DockerImageAsset(this, "MlflowImage", {
      directory: MLFLOW_IMAGE_DIR,
      buildArgs: { MLFLOW_VERSION: mlflowVersion },
      platform: Platform.LINUX_AMD64,
      // The guard's image (infra/docker/guard/) is not part of MLflow's build context.
      exclude: [relative(MLFLOW_IMAGE_DIR, dirname(GUARD_DOCKERFILE))],
    });
    const mlflowImage = ecs.ContainerImage.fromDockerImageAsset(this.mlflowImage);
    const databaseSecrets = databaseSecretsOf(this.attachedDatabaseSecret);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, "TaskDefinition", {
      cpu: mlflow.cpu,
      memoryLimitMiB: mlflow.memoryMiB,
      runtimePlatform: MLFLOW_RUNTIME_PLATFORM,
    });
    this.grantArtifactAccess(this.taskDefinition.taskRole);

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, "LoadBalancer", {
      vpc: this.vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.loadBalancerSecurityGroup],
      // Inbound rules would apply to the VPC link's PrivateLink traffic too; with them off and no
      // inbound rules, the VPC link is the only way in: nothing else in the VPC reaches the NLB.
      enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: false,
      crossZoneEnabled: true, // with one task, both AZs' NLB nodes still have a target
    });
    acknowledge(this.loadBalancer, {
      id: "AwsSolutions-ELB2",
      reason:
        "NLB access logs are written for TLS listeners only; this listener is TCP from the API Gateway VPC link. " +
        "Every request is logged with its caller by the API Gateway stage's access log, and VPC flow logs cover the network.",
    });

    this.container = this.taskDefinition.addContainer(CONTAINER_NAME, {
      image: mlflowImage,
      // The backend store URI is assembled by the image's entrypoint from the DB_* secrets. Loopback only,
      // and no port mapping: the guard beside it is the only way in.
      command: [
        "server",
        "--host",
        MLFLOW_UPSTREAM.hostname,
        "--port",
        MLFLOW_UPSTREAM.port,
        "--artifacts-destination",
        `s3://${this.artifactBucket.bucketName}/${ARTIFACT_PREFIX}`,
        "--serve-artifacts",
      ],
      secrets: databaseSecrets,
      environment: {
        MLFLOW_DISABLE_TELEMETRY: "true",
        DO_NOT_TRACK: "true",
        // MLflow 3 refuses a Host header outside this list with a 403 (its DNS-rebinding check; /health and
        // /version are exempt). Only the guard reaches MLflow, and it always sends its upstream's host.
        MLFLOW_SERVER_ALLOWED_HOSTS: MLFLOW_UPSTREAM.host,
        // Browsers send Origin on POSTs even to their own origin; MLflow refuses state-changing
        // requests from origins it does not know. Auth is a bearer token, so this is no CSRF door.
        MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: props.config.uiOrigin ?? "https://*.amplifyapp.com",
        // Team files exist: one MLflow workspace per team, in the same database (docs/teams.md).
        ...(teams ? { [MLFLOW_WORKSPACES_ENV]: teams.join(",") } : {}),
      },
      linuxParameters: new ecs.LinuxParameters(this, "LinuxParameters", { initProcessEnabled: true }), // SIGTERM reaches MLflow
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: "mlflow",
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      stopTimeout: Duration.seconds(30),
    });
    acknowledge(this.taskDefinition, {
      id: "AwsSolutions-ECS2",
      reason:
        "The plain environment holds non-secret settings only: MLflow's (telemetry off, allowed Host headers, CORS origins) and the guard's (listen address, MLflow's loopback address, the stage's path prefix). " +
        "Database credentials arrive through ECS secrets from Secrets Manager, and a test asserts no environment value refers to them.",
    });

    this.guard = new GuardSidecar(this, "Guard", {
      taskDefinition: this.taskDefinition,
      mlflowContainer: this.container,
      upstream: MLFLOW_UPSTREAM,
      port: GUARD_PORT,
      // The VPC link's requests come from the API's execute-api host, where `context.path` starts with the stage.
      stagePathPrefix: executeApiPathPrefix(props.config.stageName),
      iamGroups: iamCallerGroups(props.config, this.region),
      ...(props.policyDirs ? { policyDirs: props.policyDirs } : {}),
      ...(props.policySet ? { teams: props.policySet.teams?.names ?? [] } : {}),
    });
    this.guardContainer = this.guard.container;
    this.auditLogGroup = this.guard.auditLogGroup;

    this.schemaUpgrade = new MlflowSchemaUpgrade(this, "SchemaUpgrade", {
      cluster: this.cluster,
      image: mlflowImage,
      runtimePlatform: MLFLOW_RUNTIME_PLATFORM,
      secrets: databaseSecrets,
      mlflowVersion,
      database: this.database,
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: this.taskSecurityGroup,
      logGroup: this.logGroup,
    });
    // The task reaches the database only once both security groups have their rules.
    this.schemaUpgrade.resource.node.addDependency(this.taskSecurityGroup, this.databaseSecurityGroup);

    this.service = new ecs.FargateService(this, "Service", {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: mlflow.minTasks,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.taskSecurityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      // MLflow creates or checks its schema at start before /health answers.
      healthCheckGracePeriod: Duration.seconds(180),
      enableExecuteCommand: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    // Tasks start only once the cluster and its writer exist: a first deploy whose tasks start before the
    // database fail, trip the circuit breaker, and roll back into a deletion-protected cluster. And only once
    // the schema is the new image's: a new MLflow refuses an old schema, and its tasks would crash-loop.
    this.service.node.addDependency(this.database, this.schemaUpgrade.resource);

    this.listener = this.loadBalancer.addListener("Listener", {
      port: MLFLOW_LISTENER_PORT,
      protocol: elbv2.Protocol.TCP,
    });
    // The guard's port; its /health is a public route it forwards to MLflow, so the check covers both.
    this.targetGroup = this.listener.addTargets("Guard", {
      port: GUARD_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: GUARD_CONTAINER_NAME, containerPort: GUARD_PORT })],
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        path: "/health",
        healthyHttpCodes: "200",
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(30),
    });

    this.scaling = this.service.autoScaleTaskCount({ minCapacity: mlflow.minTasks, maxCapacity: mlflow.maxTasks });
    this.scaling.scaleOnCpuUtilization("CpuScaling", {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });

    this.acknowledgeCdkManagedFindings();

    new CfnOutput(this, "AuditLogGroupName", {
      value: this.auditLogGroup.logGroupName,
      description: 'The guard\'s audit trail (CloudWatch Logs Insights: filter event = "audit")',
    });
  }

  /**
   * Puts each subnet in the configured AZ by id: the n-th subnet of every tier is in the n-th AZ, and CloudFormation
   * takes `AvailabilityZoneId` in place of the name (which maps to a different AZ in each account).
   */
  private placeSubnetsByAzId(ids: readonly [string, string]): void {
    for (const tier of [this.vpc.publicSubnets, this.vpc.privateSubnets, this.vpc.isolatedSubnets])
      tier.forEach((subnet, i) => {
        const cfn = subnet.node.defaultChild as ec2.CfnSubnet;
        cfn.addPropertyDeletionOverride("AvailabilityZone");
        cfn.addPropertyOverride("AvailabilityZoneId", ids[i]);
      });
  }

  /** The region's first two AZs, chosen at deploy time: synth needs no AZ lookup and no AWS credentials. */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }

  /** Read and write under `artifacts/` of the artifact bucket, and list only that prefix. */
  private grantArtifactAccess(role: iam.IRole): void {
    const policy = new iam.Policy(this, "ArtifactAccessPolicy", {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: "ListArtifacts",
          actions: ["s3:ListBucket"],
          resources: [this.artifactBucket.bucketArn],
          conditions: { StringLike: { "s3:prefix": [ARTIFACT_PREFIX, `${ARTIFACT_PREFIX}/*`] } },
        }),
        new iam.PolicyStatement({
          sid: "ReadWriteArtifacts",
          actions: [
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
          ],
          resources: [this.artifactBucket.arnForObjects(`${ARTIFACT_PREFIX}/*`)],
        }),
      ],
    });
    acknowledge(policy, {
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.artifactBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${ARTIFACT_PREFIX}/*]`,
      reason:
        "MLflow names artifact keys per experiment and run at run time; the wildcard is confined to the artifacts/ prefix of this stack's bucket, with object-level actions only.",
    });
  }

  /** Findings on resources CDK itself generates, acknowledged where they arise. */
  private acknowledgeCdkManagedFindings(): void {
    for (const taskDefinition of [this.taskDefinition, this.schemaUpgrade.taskDefinition]) {
      const executionPolicy = taskDefinition.executionRole?.node.tryFindChild("DefaultPolicy");
      if (executionPolicy) {
        acknowledge(executionPolicy, {
          id: "AwsSolutions-IAM5[Resource::*]",
          reason:
            "ecr:GetAuthorizationToken has no resource-level permissions; ECS's execution role must call it to pull the image. Every other statement names its repository, log group or secret.",
        });
      }
    }
  }
}

/**
 * The DB_* variables the image's entrypoint builds the database URI from, each a field of the secret as attached
 * to the cluster: `host` and `port` exist only once the attachment has added them, and naming the attachment
 * orders the task definitions after it.
 */
function databaseSecretsOf(attachedSecret: secretsmanager.ISecret): Record<string, ecs.Secret> {
  const field = (name: string) => ecs.Secret.fromSecretsManager(attachedSecret, name);
  return {
    DB_HOST: field("host"),
    DB_PORT: field("port"),
    DB_USER: field("username"),
    DB_PASSWORD: field("password"),
    DB_NAME: field("dbname"),
  };
}

/** Acknowledges a cdk-nag finding on the resource it is about (a construct's CloudFormation resource). */
function acknowledge(construct: IConstruct, acknowledgment: { readonly id: string; readonly reason: string }): void {
  Validations.of(construct.node.defaultChild ?? construct).acknowledge(acknowledgment);
}

/** Fargate's valid memory sizes (MiB) for a CPU size (units); empty for a size Fargate lacks. */
function fargateMemorySizes(cpu: number): readonly number[] {
  const range = (min: number, max: number, step: number) =>
    Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return [];
  }
}

/** Checks what the config's types cannot, and reports every problem at once. */
export function validateMlflowVpcStackProps(props: MlflowVpcStackProps): void {
  const problems: string[] = [];
  const { cpu, memoryMiB, minTasks, maxTasks } = props.config.mlflow;
  const sizes = fargateMemorySizes(cpu);
  if (sizes.length === 0)
    problems.push(
      `mlflow-gate.mlflow.cpu must be a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384), not ${cpu}`,
    );
  else if (!sizes.includes(memoryMiB)) {
    problems.push(
      `mlflow-gate.mlflow.memoryMiB must be a Fargate size for cpu ${cpu} (${sizes[0]} to ${sizes[sizes.length - 1]}: ${sizes.join(", ")}), not ${memoryMiB}`,
    );
  }
  if (minTasks < 1 || maxTasks < minTasks)
    problems.push(`mlflow-gate.mlflow needs 1 <= minTasks <= maxTasks, not ${minTasks} and ${maxTasks}`);
  if (problems.length > 0) throw new ConfigError(`invalid MLflow service configuration:\n  ${problems.join("\n  ")}`);
}
