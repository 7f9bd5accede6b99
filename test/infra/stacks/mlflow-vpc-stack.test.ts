import { App, Validations } from "aws-cdk-lib";
import { CDK_FLAGS } from "../support/cdk-flags";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { CloudAssembly } from "aws-cdk-lib/cx-api";
import { IConstruct } from "constructs";
import { AwsSolutionsChecks } from "cdk-nag";
import { spawn, spawnSync } from "child_process";
import { AddressInfo, createServer as createNetServer } from "net";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { delimiter, join } from "path";
import { ConfigError } from "../../../authorizer/core/errors";
import { InfraConfig, parseInfraConfig } from "../../../infra/config";
import { guardBundleFiles } from "../../../guard/build";
import { GUARD_ENV } from "../../../guard/config";
import { iamCallerGroups } from "../../../infra/iam-callers";
import { GUARD_PORT } from "../../../infra/constructs/guard-sidecar";
import { MLFLOW_IMAGE_DIR, MlflowVpcStack } from "../../../infra/stacks/mlflow-vpc-stack";
import { loadPinnedMlflowVersion } from "../../../project/mlflow-venv";
import { VENV_PYTHON } from "../../../project/paths";
import { thrownBy } from "../../support/errors";

// MlflowVpcStack synthesized once as the app does it (cdk.json's feature flags, cdk-nag's AWS
// Solutions checks), with no docker binary reachable: the image asset is only staged at synth.

const GROUPS = new Set(["admins", "readers", "model-approvers", "release-managers"]);
const ENV = { account: "123456789012", region: "us-east-1" };

function sampleConfig(input: Record<string, unknown> = {}): InfraConfig {
  return parseInfraConfig({ ...ENV, ...input }, GROUPS);
}

function newApp(outdir: string): App {
  const app = new App({ outdir, context: CDK_FLAGS });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** Every JSON value under `node` (strings, objects), for "does this mention X anywhere" checks. */
const json = (node: unknown) => JSON.stringify(node ?? null);
const ref = (logicalId: string) => ({ Ref: logicalId });
const groupId = (logicalId: string) => ({ "Fn::GetAtt": [logicalId, "GroupId"] });

const config = sampleConfig();
const outdir = mkdtempSync(join(tmpdir(), "mlflow-vpc-stack-"));
const savedPath = process.env.PATH;
const savedCdkDocker = process.env.CDK_DOCKER;
let stack: MlflowVpcStack;
let assembly: CloudAssembly | undefined;
let synthError: unknown;
let synthMs = 0;
let template: Template;
let id: (construct: { node: { defaultChild?: unknown } }) => string;

beforeAll(() => {
  // No docker anywhere: PATH without any directory holding one, and CDK_DOCKER pointing nowhere.
  process.env.PATH = (savedPath ?? "")
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, "docker")))
    .join(delimiter);
  process.env.CDK_DOCKER = join(outdir, "no-docker-here");
  const app = newApp(outdir);
  stack = new MlflowVpcStack(app, "MlflowVpcStack", { config, env: ENV });
  const started = Date.now();
  try {
    assembly = app.synth();
  } catch (e) {
    synthError = e;
  }
  synthMs = Date.now() - started;
  template = Template.fromJSON(assembly?.getStackArtifact(stack.artifactId).template ?? {});
  id = (construct) => stack.getLogicalId(construct.node.defaultChild as never);
}, 120_000);

afterAll(() => {
  process.env.PATH = savedPath;
  if (savedCdkDocker === undefined) delete process.env.CDK_DOCKER;
  else process.env.CDK_DOCKER = savedCdkDocker;
  rmSync(outdir, { recursive: true, force: true });
});

/** The construct at a path under the stack. */
const constructAt = (path: string): IConstruct =>
  path.split("/").reduce<IConstruct>((c, part) => c.node.findChild(part), stack);

/** Every ingress rule of a security group, inline or as a separate resource. */
function ingressRulesOf(sgLogicalId: string): Record<string, unknown>[] {
  const inline = (template.findResources("AWS::EC2::SecurityGroup")[sgLogicalId]?.Properties?.SecurityGroupIngress ??
    []) as Record<string, unknown>[];
  const separate = Object.values(
    template.findResources("AWS::EC2::SecurityGroupIngress", { Properties: { GroupId: groupId(sgLogicalId) } }),
  ).map((r) => r.Properties as Record<string, unknown>);
  return [...inline, ...separate];
}

function subnetIdsByType(type: "Public" | "Private" | "Isolated"): string[] {
  return Object.keys(
    template.findResources("AWS::EC2::Subnet", {
      Properties: { Tags: Match.arrayWith([{ Key: "aws-cdk:subnet-type", Value: type }]) },
    }),
  );
}

/** The service's task's containers: MLflow and the guard, nothing else. */
function containerDefinitions(): Record<string, unknown>[] {
  const taskDefinition = template.findResources("AWS::ECS::TaskDefinition")[id(stack.taskDefinition)];
  const containers = taskDefinition?.Properties?.ContainerDefinitions as Record<string, unknown>[];
  expect(containers.map((c) => c.Name)).toEqual(["Mlflow", "Guard"]);
  return containers;
}
const containerDefinition = (): Record<string, unknown> => containerDefinitions()[0]!;
const guardContainerDefinition = (): Record<string, unknown> => containerDefinitions()[1]!;
const environmentOf = (container: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries((container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));

describe("MlflowVpcStack synth", () => {
  test("passes cdk-nag's AWS Solutions checks: synth does not throw", () => {
    expect(synthError === undefined ? "synthesized" : String((synthError as Error).message)).toBe("synthesized");
    expect(synthMs).toBeLessThan(60_000);
  });

  test("acknowledges exactly these findings, each on the resource it is about, with a reason", () => {
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .map((m) => [c.node.path, m.data as Record<string, string>] as const),
      )
      .flatMap(([path, data]) =>
        Object.entries(data).map(([rule, reason]) => ({
          path: path.replace(/^MlflowVpcStack\//, ""),
          rule: rule.replace(/^Annotation::/, ""),
          reason,
        })),
      )
      .filter(({ rule }) => rule.startsWith("AwsSolutions-"));
    expect(acknowledged.map(({ path, rule }) => `${path} ${rule}`).sort()).toEqual(
      [
        "ArtifactAccessPolicy/Resource AwsSolutions-IAM5[Resource::<ArtifactBucket7410C9EF.Arn>/artifacts/*]",
        "Database/Resource AwsSolutions-RDS6",
        "DatabaseSecret/Resource AwsSolutions-SMG4",
        "LoadBalancer/Resource AwsSolutions-ELB2",
        // The schema upgrade's own wildcards (ListTasks, its cluster's tasks, its snapshots), and the execution role's
        "SchemaUpgrade/HandlerPolicy AwsSolutions-IAM5[Resource::*]",
        `SchemaUpgrade/HandlerPolicy AwsSolutions-IAM5[Resource::arn:aws:ecs:us-east-1:123456789012:task/<${id(stack.cluster)}>/*]`,
        "SchemaUpgrade/HandlerPolicy AwsSolutions-IAM5[Resource::arn:aws:rds:us-east-1:123456789012:cluster-snapshot:mlflow-gate-before-*]",
        "SchemaUpgrade/TaskDefinition/ExecutionRole/DefaultPolicy/Resource AwsSolutions-IAM5[Resource::*]",
        // The Provider framework's, acknowledged by infra/constructs/polling-custom-resource.ts
        "SchemaUpgrade/UpgradeStart AwsSolutions-L1",
        "SchemaUpgrade/UpgradeCheck AwsSolutions-L1",
        "SchemaUpgrade/UpgradeProvider AwsSolutions-L1",
        "SchemaUpgrade/UpgradeProvider AwsSolutions-SF1",
        "SchemaUpgrade/UpgradeProvider AwsSolutions-SF2",
        "SchemaUpgrade/UpgradeProvider AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        ...[
          "UpgradeStart",
          "UpgradeCheck",
          "UpgradeProvider/framework-onEvent",
          "UpgradeProvider/framework-isComplete",
          "UpgradeProvider/framework-onTimeout",
        ].map(
          (fn) =>
            `SchemaUpgrade/UpgradeProvider AwsSolutions-IAM5[Resource::<${id(constructAt(`SchemaUpgrade/${fn}`))}.Arn>:*]`,
        ),
        "TaskDefinition/ExecutionRole/DefaultPolicy/Resource AwsSolutions-IAM5[Resource::*]",
        "TaskDefinition/Resource AwsSolutions-ECS2",
      ].sort(),
    );
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(80);
  });

  test("the checks are live: an unlogged bucket in the same setup fails synth", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlflow-vpc-nag-"));
    try {
      const app = newApp(dir);
      const probe = new MlflowVpcStack(app, "Probe", { config, env: ENV });
      new s3.Bucket(probe, "UnloggedBucket");
      expect(() => app.synth()).toThrow(/AwsSolutions-S1'[\s\S]*Probe\/UnloggedBucket/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("network", () => {
  test("spans two AZs; the database's isolated subnets have no route out", () => {
    const isolated = subnetIdsByType("Isolated");
    expect(isolated).toHaveLength(2);
    const azs = isolated.map((s) => template.findResources("AWS::EC2::Subnet")[s]!.Properties.AvailabilityZone);
    expect(azs).toEqual(
      expect.arrayContaining([
        { "Fn::Select": [0, { "Fn::GetAZs": "" }] },
        { "Fn::Select": [1, { "Fn::GetAZs": "" }] },
      ]),
    );
    expect(subnetIdsByType("Private")).toHaveLength(2);
    expect(subnetIdsByType("Public")).toHaveLength(2);
    const isolatedRouteTables = Object.values(template.findResources("AWS::EC2::SubnetRouteTableAssociation"))
      .filter((a) => isolated.some((s) => json(a.Properties.SubnetId) === json(ref(s))))
      .map((a) => json(a.Properties.RouteTableId));
    expect(isolatedRouteTables).toHaveLength(2);
    const routesFromIsolated = Object.values(template.findResources("AWS::EC2::Route")).filter((r) =>
      isolatedRouteTables.includes(json(r.Properties.RouteTableId)),
    );
    expect(routesFromIsolated).toEqual([]);
  });

  test("logs all VPC traffic to the log bucket", () => {
    template.hasResourceProperties("AWS::EC2::FlowLog", {
      ResourceId: ref(id(stack.vpc)),
      ResourceType: "VPC",
      TrafficType: "ALL",
      LogDestinationType: "s3",
    });
    const [flowLog] = Object.values(template.findResources("AWS::EC2::FlowLog"));
    expect(json(flowLog!.Properties.LogDestination)).toContain(json({ "Fn::GetAtt": [id(stack.logBucket), "Arn"] }));
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: ref(id(stack.logBucket)),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "delivery.logs.amazonaws.com" },
            Action: "s3:PutObject",
          }),
        ]),
      },
    });
  });
});

describe("database", () => {
  test("is Aurora Serverless v2 PostgreSQL: provisioned engine mode with v2 scaling, db.serverless writer", () => {
    template.resourceCountIs("AWS::RDS::DBCluster", 1);
    template.hasResourceProperties("AWS::RDS::DBCluster", {
      Engine: "aurora-postgresql",
      EngineMode: Match.absent(),
      EngineVersion: Match.stringLikeRegexp("^1[7-9]\\."),
      ServerlessV2ScalingConfiguration: { MinCapacity: Match.anyValue(), MaxCapacity: Match.anyValue() },
      StorageEncrypted: true,
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
    });
    template.resourceCountIs("AWS::RDS::DBInstance", 1);
    template.hasResourceProperties("AWS::RDS::DBInstance", {
      DBInstanceClass: "db.serverless",
      Engine: "aurora-postgresql",
      PubliclyAccessible: false,
    });
  });

  test("lives in the isolated subnets and admits only the MLflow tasks", () => {
    const [subnetGroup] = Object.values(template.findResources("AWS::RDS::DBSubnetGroup"));
    expect(subnetGroup!.Properties.SubnetIds).toEqual(expect.arrayContaining(subnetIdsByType("Isolated").map(ref)));
    expect(subnetGroup!.Properties.SubnetIds).toHaveLength(2);
    const ingress = ingressRulesOf(id(stack.databaseSecurityGroup));
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 5433,
        ToPort: 5433,
        SourceSecurityGroupId: groupId(id(stack.taskSecurityGroup)),
      }),
    ]);
  });
});

describe("artifact bucket", () => {
  test("is encrypted, versioned, blocks public access and logs access to the separate log bucket", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: { DestinationBucketName: ref(id(stack.logBucket)), LogFilePrefix: "artifact-bucket/" },
    });
    expect(id(stack.logBucket)).not.toBe(id(stack.artifactBucket));
  });

  test.each([
    ["artifact", () => stack.artifactBucket],
    ["log", () => stack.logBucket],
  ])("the %s bucket denies every request without TLS", (_, bucket) => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: ref(id(bucket())),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  test("the log bucket is encrypted and blocks public access", () => {
    const props = template.findResources("AWS::S3::Bucket")[id(stack.logBucket)]!.Properties;
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  test("the task role reaches the artifacts/ prefix of that bucket and nothing else", () => {
    const taskRole = id(stack.taskDefinition.taskRole as never);
    const statements = Object.values(template.findResources("AWS::IAM::Policy"))
      .filter((p) => json(p.Properties.Roles).includes(json(ref(taskRole))))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
    const bucketArn = { "Fn::GetAtt": [id(stack.artifactBucket), "Arn"] };
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": ["artifacts", "artifacts/*"] } },
      }),
      expect.objectContaining({ Effect: "Allow", Resource: { "Fn::Join": ["", [bucketArn, "/artifacts/*"]] } }),
    ]);
    expect(json(statements)).not.toMatch(/"\*"|s3:\*/);
  });
});

describe("load balancer", () => {
  test("is an internal NLB in the private subnets, with PrivateLink inbound-rule enforcement off", () => {
    template.resourceCountIs("AWS::ElasticLoadBalancingV2::LoadBalancer", 1);
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Type: "network",
      Scheme: "internal",
      Subnets: Match.arrayEquals(subnetIdsByType("Private").map(ref)),
      SecurityGroups: [groupId(id(stack.loadBalancerSecurityGroup))],
      EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off",
    });
  });

  test("its security group has no inbound rule: only the VPC link's PrivateLink traffic gets in", () => {
    expect(ingressRulesOf(id(stack.loadBalancerSecurityGroup))).toEqual([]);
  });

  test("listens on TCP 80 and forwards to the guard's port in the tasks, health-checking /health through it", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      LoadBalancerArn: ref(id(stack.loadBalancer)),
      Port: 80,
      Protocol: "TCP",
      DefaultActions: [{ Type: "forward", TargetGroupArn: ref(id(stack.targetGroup)) }],
    });
    template.resourceCountIs("AWS::ElasticLoadBalancingV2::TargetGroup", 1);
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      Port: GUARD_PORT,
      Protocol: "TCP",
      TargetType: "ip",
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/health",
      HealthCheckPort: Match.absent(), // the traffic port: the guard's
    });
  });

  test("the target group's target is the guard container's port, never MLflow's", () => {
    const [service] = Object.values(template.findResources("AWS::ECS::Service"));
    expect(service!.Properties.LoadBalancers).toEqual([
      { ContainerName: "Guard", ContainerPort: GUARD_PORT, TargetGroupArn: ref(id(stack.targetGroup)) },
    ]);
    expect(guardContainerDefinition().PortMappings).toEqual([{ ContainerPort: GUARD_PORT, Protocol: "tcp" }]);
    expect(containerDefinition()).not.toHaveProperty("PortMappings");
  });

  test("the task security group admits the guard's port from the NLB's security group only, not MLflow's", () => {
    expect(ingressRulesOf(id(stack.taskSecurityGroup))).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: GUARD_PORT,
        ToPort: GUARD_PORT,
        SourceSecurityGroupId: groupId(id(stack.loadBalancerSecurityGroup)),
      }),
    ]);
    const nlbEgress = Object.values(
      template.findResources("AWS::EC2::SecurityGroupEgress", {
        Properties: { GroupId: groupId(id(stack.loadBalancerSecurityGroup)) },
      }),
    ).map((r) => r.Properties);
    expect(nlbEgress).toEqual([
      expect.objectContaining({
        FromPort: GUARD_PORT,
        ToPort: GUARD_PORT,
        DestinationSecurityGroupId: groupId(id(stack.taskSecurityGroup)),
      }),
    ]);
    expect(json(ingressRulesOf(id(stack.taskSecurityGroup)))).not.toContain("5000");
  });
});

describe("MLflow service", () => {
  test("gets the database credentials through ECS secrets from the secret as the cluster's attachment completes it", () => {
    // The attachment adds host and port: naming it orders the task definition after it (a first deploy whose
    // tasks read the bare secret finds neither, fails, and rolls back into a deletion-protected cluster).
    const attachmentRef = ref(id(stack.attachedDatabaseSecret));
    expect(template.findResources("AWS::SecretsManager::SecretTargetAttachment")).toHaveProperty(
      id(stack.attachedDatabaseSecret),
    );
    const secrets = containerDefinition().Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name).sort()).toEqual(["DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_USER"]);
    for (const s of secrets) expect(json(s.ValueFrom)).toContain(json(attachmentRef));
  });

  test("the service depends on the database cluster and its writer: no task starts before them", () => {
    const service = Object.values(template.findResources("AWS::ECS::Service"))[0] as { DependsOn?: string[] };
    const cluster = Object.keys(template.findResources("AWS::RDS::DBCluster"));
    const writer = Object.keys(template.findResources("AWS::RDS::DBInstance"));
    expect(cluster).toHaveLength(1);
    expect(writer).toHaveLength(1);
    expect(service.DependsOn).toEqual(expect.arrayContaining([...cluster, ...writer]));
  });

  test("no command, entry point or environment value of either container carries a password or refers to the secret", () => {
    const visible = json(
      containerDefinitions().map(({ Command, EntryPoint, Environment, HealthCheck }) => ({
        Command,
        EntryPoint,
        Environment,
        HealthCheck,
      })),
    );
    expect(visible).not.toMatch(/password/i);
    expect(visible).not.toMatch(/secretsmanager|resolve:|postgres(ql)?:\/\//i);
    expect(visible).not.toContain(id(stack.databaseSecret));
    expect(visible).not.toContain(id(stack.database));
    expect(guardContainerDefinition()).not.toHaveProperty("Secrets");
  });

  test("starts `mlflow server` on loopback only, 127.0.0.1:5000, serving artifacts from s3://<bucket>/artifacts", () => {
    expect(containerDefinition().Command).toEqual([
      "server",
      "--host",
      "127.0.0.1",
      "--port",
      "5000",
      "--artifacts-destination",
      { "Fn::Join": ["", ["s3://", ref(id(stack.artifactBucket)), "/artifacts"]] },
      "--serve-artifacts",
    ]);
  });

  test("turns telemetry off, accepts only the Host the guard sends (its upstream's), and the UI's origin", () => {
    const environment = environmentOf(containerDefinition());
    expect(environment.MLFLOW_DISABLE_TELEMETRY).toBe("true");
    // guard/server.ts forwards with `Host: <upstream host>`; MLflow compares exactly (fnmatch without a "*").
    expect(environment.MLFLOW_SERVER_ALLOWED_HOSTS).toBe(
      new URL(String(environmentOf(guardContainerDefinition())[GUARD_ENV.upstream])).host,
    );
    expect(environment.MLFLOW_SERVER_ALLOWED_HOSTS).toBe("127.0.0.1:5000");
    expect(json(environment.MLFLOW_SERVER_ALLOWED_HOSTS)).not.toContain(id(stack.loadBalancer));
    // Without a configured uiOrigin the UI is on Amplify's domain; never "*".
    expect(environment.MLFLOW_SERVER_CORS_ALLOWED_ORIGINS).toBe("https://*.amplifyapp.com");
  });

  test("logs to CloudWatch with a retention, in a cluster with Container Insights", () => {
    expect(containerDefinition().LogConfiguration).toEqual(
      expect.objectContaining({
        LogDriver: "awslogs",
        Options: expect.objectContaining({ "awslogs-group": ref(id(stack.logGroup)) }),
      }),
    );
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: Match.anyValue() });
    template.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
  });

  test("runs in the private subnets without public IPs", () => {
    template.hasResourceProperties("AWS::ECS::Service", {
      LaunchType: "FARGATE",
      DesiredCount: config.mlflow.minTasks,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: "DISABLED",
          Subnets: Match.arrayEquals(subnetIdsByType("Private").map(ref)),
          SecurityGroups: [groupId(id(stack.taskSecurityGroup))],
        },
      },
    });
  });

  test("scales on CPU between the configured minTasks and maxTasks", () => {
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: config.mlflow.minTasks,
      MaxCapacity: config.mlflow.maxTasks,
      ScalableDimension: "ecs:service:DesiredCount",
    });
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: "ECSServiceAverageCPUUtilization" },
      }),
    });
  });

  test("with availabilityZoneIds, every subnet is placed by AZ id, the n-th of each tier in the n-th AZ", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlflow-vpc-azs-"));
    try {
      const placed = sampleConfig({ availabilityZoneIds: ["use1-az4", "use1-az6"] });
      const app = new App({ outdir: dir, context: CDK_FLAGS });
      const t = Template.fromStack(new MlflowVpcStack(app, "Placed", { config: placed, env: ENV }));
      const subnets = Object.values(t.findResources("AWS::EC2::Subnet")) as { Properties: Record<string, unknown> }[];
      expect(subnets).toHaveLength(6);
      for (const s of subnets) expect(s.Properties).not.toHaveProperty("AvailabilityZone");
      const byAz = (id: string) => subnets.filter((s) => s.Properties.AvailabilityZoneId === id).length;
      expect([byAz("use1-az4"), byAz("use1-az6")]).toEqual([3, 3]);
      // Each AZ holds one subnet of each tier: their CIDRs are the tiers' (10.40.0.0/24, /22, /24 blocks)
      const tiersIn = (id: string) =>
        subnets
          .filter((s) => s.Properties.AvailabilityZoneId === id)
          .map(
            (s) =>
              (s.Properties.Tags as { Key: string; Value: string }[]).find((x) => x.Key === "aws-cdk:subnet-name")
                ?.Value,
          )
          .sort();
      expect(tiersIn("use1-az4")).toEqual(["Database", "Private", "Public"]);
      expect(tiersIn("use1-az6")).toEqual(["Database", "Private", "Public"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("takes sizes and task counts from the config", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlflow-vpc-sized-"));
    try {
      const sized = sampleConfig({
        mlflow: { cpu: 2048, memoryMiB: 8192, minTasks: 2, maxTasks: 6 },
        uiOrigin: "https://mlflow.example.com",
        stageName: "v1",
      });
      const app = new App({ outdir: dir, context: CDK_FLAGS });
      const t = Template.fromStack(new MlflowVpcStack(app, "Sized", { config: sized, env: ENV }));
      t.hasResourceProperties("AWS::ECS::TaskDefinition", { Cpu: "2048", Memory: "8192" });
      t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 2, MaxCapacity: 6 });
      t.hasResourceProperties("AWS::ECS::TaskDefinition", {
        ContainerDefinitions: Match.arrayWith([
          Match.objectLike({
            Name: "Mlflow",
            Environment: Match.arrayWith([
              { Name: "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", Value: "https://mlflow.example.com" },
            ]),
          }),
          Match.objectLike({
            Name: "Guard",
            Environment: Match.arrayWith([{ Name: GUARD_ENV.stagePathPrefix, Value: "/v1" }]),
          }),
        ]),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a CPU and memory pair Fargate does not offer stops synth with every problem listed", () => {
    const bad = { ...config, mlflow: { cpu: 300, memoryMiB: 2048, minTasks: 3, maxTasks: 2 } };
    const e = thrownBy(() => new MlflowVpcStack(new App(), "Bad", { config: bad, env: ENV }), ConfigError);
    expect(e.message).toMatch(/mlflow\.cpu must be a Fargate size/);
    expect(e.message).toMatch(/minTasks <= maxTasks/);
    const e2 = thrownBy(
      () =>
        new MlflowVpcStack(new App(), "Bad", {
          config: { ...config, mlflow: { ...config.mlflow, cpu: 256, memoryMiB: 4096 } },
          env: ENV,
        }),
      ConfigError,
    );
    expect(e2.message).toMatch(
      /memoryMiB must be a Fargate size for cpu 256 \(512 to 2048: 512, 1024, 2048\), not 4096/,
    );
  });
});

describe("schema upgrade", () => {
  /** The upgrade task's one container. */
  const upgradeContainer = (): Record<string, unknown> => {
    const taskDefinition = template.findResources("AWS::ECS::TaskDefinition")[id(stack.schemaUpgrade.taskDefinition)];
    const containers = taskDefinition?.Properties?.ContainerDefinitions as Record<string, unknown>[];
    expect(containers.map((c) => c.Name)).toEqual(["SchemaUpgrade"]);
    return containers[0]!;
  };
  const upgradeResource = () => {
    const all = Object.entries(template.findResources("Custom::MlflowSchemaUpgrade"));
    expect(all).toHaveLength(1);
    const [logicalId, resource] = all[0]!;
    return { logicalId, properties: resource.Properties, dependsOn: resource.DependsOn as string[] };
  };

  test("is a task definition of its own: MLflow's image, the command db-upgrade, one container and no guard", () => {
    template.resourceCountIs("AWS::ECS::TaskDefinition", 2);
    expect(id(stack.schemaUpgrade.taskDefinition)).not.toBe(id(stack.taskDefinition));
    expect(upgradeContainer().Image).toEqual(containerDefinition().Image);
    // The image's ENTRYPOINT (entrypoint.py) stays: the command replaces its CMD, as the server's flags do.
    expect(upgradeContainer().Command).toEqual(["db-upgrade"]);
    expect(upgradeContainer()).not.toHaveProperty("EntryPoint");
    expect(readFileSync(join(MLFLOW_IMAGE_DIR, "Dockerfile"), "utf8")).toMatch(
      /^ENTRYPOINT \["python", "\/opt\/mlflow-gate\/entrypoint\.py"\]$/m,
    );
  });

  test("reads exactly MLflow's database secrets, from the secret as the cluster's attachment completes it", () => {
    expect(upgradeContainer().Secrets).toEqual(containerDefinition().Secrets);
    const attachmentRef = json(ref(id(stack.attachedDatabaseSecret)));
    for (const s of upgradeContainer().Secrets as { ValueFrom: unknown }[])
      expect(json(s.ValueFrom)).toContain(attachmentRef);
    expect(upgradeContainer()).not.toHaveProperty("Environment");
  });

  test("logs to MLflow's log group, under schema-upgrade/", () => {
    expect(upgradeContainer().LogConfiguration).toEqual({
      LogDriver: "awslogs",
      Options: expect.objectContaining({
        "awslogs-group": ref(id(stack.logGroup)),
        "awslogs-stream-prefix": "schema-upgrade",
      }),
    });
  });

  test("its custom resource names the pinned MLflow version and the task's revision, to run where the service's tasks run", () => {
    expect(upgradeResource().properties).toEqual({
      ServiceToken: expect.anything(),
      MlflowVersion: loadPinnedMlflowVersion(),
      TaskDefinitionArn: ref(id(stack.schemaUpgrade.taskDefinition)),
      ClusterArn: { "Fn::GetAtt": [id(stack.cluster), "Arn"] },
      ContainerName: "SchemaUpgrade",
      // The private subnets and the task security group, the one the database admits
      Subnets: subnetIdsByType("Private").map(ref),
      SecurityGroups: [groupId(id(stack.taskSecurityGroup))],
      LogGroupName: ref(id(stack.logGroup)),
      LogStreamPrefix: "schema-upgrade",
      DatabaseClusterId: ref(id(stack.database)),
    });
  });

  test("the service depends on it, and still on the cluster and its writer: a new image rolls out once the schema is upgraded", () => {
    const service = template.findResources("AWS::ECS::Service")[id(stack.service)] as { DependsOn?: string[] };
    const cluster = Object.keys(template.findResources("AWS::RDS::DBCluster"));
    const writer = Object.keys(template.findResources("AWS::RDS::DBInstance"));
    expect(service.DependsOn).toEqual(expect.arrayContaining([upgradeResource().logicalId, ...cluster, ...writer]));
  });

  test("it runs once the database, its writer, both security groups' rules and the routes out exist", () => {
    const rulesOf = (type: string, sg: { node: { defaultChild?: unknown } }) =>
      Object.keys(template.findResources(type, { Properties: { GroupId: groupId(id(sg)) } }));
    const rules = [
      ...rulesOf("AWS::EC2::SecurityGroupIngress", stack.databaseSecurityGroup),
      ...rulesOf("AWS::EC2::SecurityGroupEgress", stack.taskSecurityGroup),
    ];
    expect(rules.length).toBeGreaterThanOrEqual(2);
    expect(upgradeResource().dependsOn).toEqual(
      expect.arrayContaining([
        ...Object.keys(template.findResources("AWS::RDS::DBCluster")),
        ...Object.keys(template.findResources("AWS::RDS::DBInstance")),
        ...rules,
        ...Object.keys(template.findResources("AWS::EC2::Route")).filter((r) => r.startsWith("VpcPrivateSubnet")),
      ]),
    );
  });
});

interface DockerImageAsset {
  readonly displayName?: string;
  readonly source: { directory: string; dockerBuildArgs?: Record<string, string>; platform?: string };
}

/** The task's images as the asset manifest names them: staged at synth, built only at deploy. */
function dockerImage(displayName: string): DockerImageAsset {
  const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), "utf8")) as {
    dockerImages: Record<string, DockerImageAsset>;
  };
  const images = Object.values(manifest.dockerImages);
  expect(images.map((i) => i.displayName).sort()).toEqual(["MlflowImage", "TaskDefinition/Guard/AssetImage"]);
  return images.find((i) => i.displayName === displayName)!;
}

describe("guard sidecar", () => {
  test("runs in MLflow's task in front of it: MLflow's loopback address, the stage's path prefix, audit to stdout", () => {
    const environment = environmentOf(guardContainerDefinition());
    expect(environment).toEqual({
      [GUARD_ENV.host]: "0.0.0.0",
      [GUARD_ENV.port]: String(GUARD_PORT),
      [GUARD_ENV.upstream]: "http://127.0.0.1:5000",
      [GUARD_ENV.stagePathPrefix]: `/${config.stageName}`,
      [GUARD_ENV.auditReads]: "false",
      [GUARD_ENV.groupsDir]: "/opt/mlflow-gate/policies/groups",
      [GUARD_ENV.teamsDir]: "/opt/mlflow-gate/policies/teams",
      // The SigV4 callers the configuration creates (infra/iam-callers.ts), for the promotion rules.
      [GUARD_ENV.iamGroups]: JSON.stringify(Object.fromEntries(iamCallerGroups(config, ENV.region))),
    });
    expect(JSON.parse(String(environment[GUARD_ENV.iamGroups]))).toMatchObject({
      [`role/mlflow-gate-mlflow-release-manager-${ENV.region}`]: "release-managers",
    });
    expect(environment).not.toHaveProperty(GUARD_ENV.auditFile);
    expect(guardContainerDefinition()).toMatchObject({
      Essential: true,
      ReadonlyRootFilesystem: true,
      DependsOn: [{ ContainerName: "Mlflow", Condition: "START" }],
    });
    expect(stack.guardContainer.containerName).toBe("Guard");
  });

  test("sends the guard's output to the audit log group: kept a year, retained, deletion-protected, named in an output", () => {
    const auditLogGroup = id(stack.auditLogGroup);
    expect(guardContainerDefinition().LogConfiguration).toEqual({
      LogDriver: "awslogs",
      Options: expect.objectContaining({ "awslogs-group": ref(auditLogGroup), mode: "blocking" }),
    });
    expect(template.findResources("AWS::Logs::LogGroup")[auditLogGroup]).toEqual(
      expect.objectContaining({
        Properties: { RetentionInDays: 365, DeletionProtectionEnabled: true },
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
      }),
    );
    expect(auditLogGroup).not.toBe(id(stack.logGroup));
    template.hasOutput("AuditLogGroupName", { Value: ref(auditLogGroup) });
  });

  test("no IAM policy statement in the stack grants logs:Delete* (nor logs:* or *)", () => {
    const documents = [
      ...Object.values(template.findResources("AWS::IAM::Policy")).map((p) => p.Properties.PolicyDocument),
      ...Object.values(template.findResources("AWS::IAM::ManagedPolicy")).map((p) => p.Properties.PolicyDocument),
      ...Object.values(template.findResources("AWS::IAM::Role")).flatMap((r) =>
        ((r.Properties.Policies ?? []) as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument),
      ),
    ] as { Statement: { Effect: string; Action?: string | string[]; NotAction?: unknown }[] }[];
    const allowed = documents
      .flatMap((d) => d.Statement)
      .filter((st) => st.Effect === "Allow")
      .flatMap((st) => {
        expect(st).not.toHaveProperty("NotAction");
        return [st.Action ?? []].flat();
      });
    expect(allowed.length).toBeGreaterThan(5);
    expect(allowed.filter((a) => /^(\*|logs:\*|logs:Delete)/i.test(a))).toEqual([]);
  });

  test("the execution role writes the two log groups (new streams, new events) and the task role no log at all", () => {
    const policyOf = (role: { node: { defaultChild?: unknown } }) =>
      Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
        json(p.Properties.Roles).includes(json(ref(id(role)))),
      );
    const executionStatements = policyOf(stack.taskDefinition.executionRole as never).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const logStatements = executionStatements.filter((st) => json(st.Action).includes("logs:"));
    expect(logStatements).toEqual([
      expect.objectContaining({
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: expect.arrayContaining([
          { "Fn::GetAtt": [id(stack.auditLogGroup), "Arn"] },
          { "Fn::GetAtt": [id(stack.logGroup), "Arn"] },
        ]),
      }),
    ]);
    expect(json(policyOf(stack.taskDefinition.taskRole as never))).not.toContain("logs:");
  });

  test("its image is built from the guard's bundle, staged at synth: the Dockerfile, the bundle and the catalog", () => {
    const image = dockerImage("TaskDefinition/Guard/AssetImage");
    expect(image.source.platform).toBe("linux/amd64");
    expect(image.source.dockerBuildArgs).toBeUndefined();
    const dir = join(outdir, image.source.directory);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort();
    expect(files).toEqual(["Dockerfile", ...guardBundleFiles()].sort());
  });
});

describe("MLflow image", () => {
  const dockerfile = readFileSync(join(MLFLOW_IMAGE_DIR, "Dockerfile"), "utf8");

  test("the Dockerfile installs mlflow==${MLFLOW_VERSION} from the build arg, on a Python base", () => {
    expect(dockerfile).toMatch(/^FROM \$\{PYTHON_IMAGE\}$/m);
    expect(dockerfile).toMatch(/^ARG PYTHON_IMAGE=python:3\.\d+-slim/m);
    expect(dockerfile).toMatch(/^ARG MLFLOW_VERSION$/m);
    expect(dockerfile).toMatch(
      /^RUN pip install -c \/opt\/mlflow-gate\/constraints\.txt "mlflow==\$\{MLFLOW_VERSION\}" /m,
    );
    expect(dockerfile).toMatch(/^USER 10001$/m);
  });

  test("every package at the version of the local .venv: the lock is copied in and given to pip as constraints", () => {
    expect(dockerfile).toMatch(/^COPY mlflow-python\/constraints\.txt \/opt\/mlflow-gate\/constraints\.txt$/m);
  });

  test("MLflow loads the same sitecustomize.py as in the local stack (the runs/search race fix)", () => {
    expect(dockerfile).toMatch(
      /^COPY mlflow-python\/sitecustomize\.py \/opt\/mlflow-gate\/python\/sitecustomize\.py$/m,
    );
    expect(dockerfile).toMatch(/^ENV PYTHONPATH=\/opt\/mlflow-gate\/python$/m);
  });

  test("the stack passes MLFLOW_VERSION's pin as that build arg, and only stages the build context at synth", () => {
    const image = dockerImage("MlflowImage");
    expect(image.source.dockerBuildArgs).toEqual({ MLFLOW_VERSION: loadPinnedMlflowVersion() });
    expect(image.source.platform).toBe("linux/amd64");
    // Without the guard's folder (infra/docker/guard/): it is an image of its own.
    expect(readdirSync(join(outdir, image.source.directory)).sort()).toEqual([
      "Dockerfile",
      "entrypoint.py",
      "mlflow-python",
    ]);
  });
});

describe("MLflow image entrypoint", () => {
  // Runs infra/docker/entrypoint.py with a stand-in `mlflow` that reports what it was started with.
  const python = existsSync(VENV_PYTHON) ? VENV_PYTHON : "python3";
  const bin = mkdtempSync(join(tmpdir(), "fake-mlflow-"));
  writeFileSync(
    join(bin, "mlflow"),
    '#!/bin/sh\necho "ARGV=$*"\necho "URI=$MLFLOW_BACKEND_STORE_URI"\necho "HOSTS=$MLFLOW_SERVER_ALLOWED_HOSTS"\necho "LEFT=$DB_PASSWORD"\n',
  );
  chmodSync(join(bin, "mlflow"), 0o755);
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const db = {
    DB_HOST: "mlflow.cluster-abc.us-east-1.rds.amazonaws.com",
    DB_PORT: "5433",
    DB_USER: "mlflow",
    DB_PASSWORD: "p@ss:w/rd%1",
    DB_NAME: "mlflow",
  };
  // The database wait is off unless a test turns it on: DB_HOST names a host these tests never reach.
  const run = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(python, [join(MLFLOW_IMAGE_DIR, "entrypoint.py"), ...args], {
      encoding: "utf8",
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, DB_WAIT_SECONDS: "0", ...env },
    });

  test("assembles the backend store URI from the DB_* variables and hands it over in the environment, not argv", () => {
    const r = run(
      { ...db, MLFLOW_SERVER_ALLOWED_HOSTS: "internal-Mlflow-1.elb.us-east-1.amazonaws.com" },
      "server",
      "--port",
      "5000",
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ARGV=server --port 5000\n");
    expect(r.stdout).toContain(
      "URI=postgresql+psycopg://mlflow:p%40ss%3Aw%2Frd%251@mlflow.cluster-abc.us-east-1.rds.amazonaws.com:5433/mlflow?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem\n",
    );
    expect(r.stdout).toContain(
      "HOSTS=internal-Mlflow-1.elb.us-east-1.amazonaws.com,internal-mlflow-1.elb.us-east-1.amazonaws.com\n",
    );
    expect(r.stdout).toContain("LEFT=\n");
  });

  test("refuses to start without the database settings, naming them but no value", () => {
    const r = run({ DB_HOST: db.DB_HOST, DB_PASSWORD: db.DB_PASSWORD }, "server");
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/missing database settings: DB_PORT, DB_USER, DB_NAME/);
    expect(r.stderr).not.toContain(db.DB_PASSWORD);
  });

  test("waits for the database to accept connections before it starts MLflow", async () => {
    // Prepare: a loopback port that starts listening 1.5 s after the entrypoint starts
    const server = createNetServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const later = setTimeout(() => server.listen(port, "127.0.0.1"), 1500);
    try {
      // Act
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(python, [join(MLFLOW_IMAGE_DIR, "entrypoint.py"), "server"], {
          env: {
            PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
            ...db,
            DB_HOST: "127.0.0.1",
            DB_PORT: String(port),
            DB_WAIT_SECONDS: "20",
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
      // Assess: it waited (at least one line saying so, without the password), then MLflow started
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(
        /waiting for the database \(DB_HOST:DB_PORT\): attempt 1, ConnectionRefusedError; \d+ s left/,
      );
      expect(r.stderr).toMatch(/the database accepts connections \(attempt \d+\)/);
      expect(r.stderr).not.toContain(db.DB_PASSWORD);
      expect(r.stdout).toContain("ARGV=server\n");
    } finally {
      clearTimeout(later);
      server.close();
    }
  }, 30_000);

  test("gives up after DB_WAIT_SECONDS with exit 69, so that ECS starts another task", () => {
    const r = run({ ...db, DB_HOST: "127.0.0.1", DB_PORT: "9", DB_WAIT_SECONDS: "2" }, "server");
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/accepted no connection within 2 s, \d+ attempts, last ConnectionRefusedError/);
    expect(r.stdout).toBe("");
    expect(run({ ...db, DB_WAIT_SECONDS: "lots" }, "server").stderr).toMatch(/DB_WAIT_SECONDS must be a whole number/);
  });

  test("db-upgrade brings a database to the image's MLflow schema in process, and again is a no-op", () => {
    // The function the one-off task's `entrypoint.py db-upgrade` runs, on a fresh SQLite database with the real
    // MLflow of .venv (every migration from the first), then on the upgraded one.
    const file = join(bin, "upgrade.db");
    const script = [
      "import sys",
      `sys.path.insert(0, ${JSON.stringify(MLFLOW_IMAGE_DIR)})`,
      "import entrypoint",
      "import mlflow.store.db.utils as u",
      `print(entrypoint.upgrade_database(${JSON.stringify(`sqlite:///${file}`)}))`,
      `print(entrypoint.upgrade_database(${JSON.stringify(`sqlite:///${file}`)}))`,
      "print(u._get_latest_schema_revision())",
    ].join("\n");
    const r = spawnSync(python, ["-c", script], { encoding: "utf8", env: { ...process.env, DB_WAIT_SECONDS: "0" } });
    expect(r.status).toBe(0);
    const [first, second, latest] = r.stdout.trim().split("\n").slice(-3);
    expect(latest).toMatch(/^[0-9a-f]{12}$/);
    expect([first, second]).toEqual([latest, latest]);
  }, 120_000);

  test("the schema upgrade task's command is the entrypoint's db-upgrade: it waits for the database and never starts the server", () => {
    const [upgrade] = (
      template.findResources("AWS::ECS::TaskDefinition")[id(stack.schemaUpgrade.taskDefinition)]?.Properties
        ?.ContainerDefinitions as { Command: string[] }[]
    ).map((c) => c.Command);
    const r = run({ ...db, DB_HOST: "127.0.0.1", DB_PORT: "9", DB_WAIT_SECONDS: "1" }, ...upgrade!);
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/accepted no connection within 1 s/);
    expect(r.stdout).toBe(""); // the stand-in `mlflow` never ran
  });

  test("refuses a backend store URI on the command line", () => {
    const r = run(db, "server", "--backend-store-uri", "postgresql://u:p@h/db");
    expect(r.status).toBe(64);
    expect(r.stdout).toBe("");
  });
});
