import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as s3 from "aws-cdk-lib/aws-s3";
import { CloudAssembly } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { delimiter, join } from "path";
import { ConfigError } from "../../../authorizer/core/errors";
import { InfraConfig, parseInfraConfig } from "../../../infra/config";
import { MLFLOW_IMAGE_DIR, MlflowVpcStack } from "../../../infra/stacks/mlflow-vpc-stack";
import { loadPinnedMlflowVersion } from "../../../project/mlflow-venv";
import { REPO_ROOT, VENV_PYTHON } from "../../../project/paths";
import { thrownBy } from "../../support/errors";

// MlflowVpcStack synthesized once as the app does it (cdk.json's feature flags, cdk-nag's AWS
// Solutions checks), with no docker binary reachable: the image asset is only staged at synth.

const GROUPS = new Set(["admins", "readers", "model-approvers"]);
const ENV = { account: "123456789012", region: "us-east-1" };
const CDK_FLAGS = Object.fromEntries(
  Object.entries(
    JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")).context as Record<string, unknown>,
  ).filter(([k]) => k.startsWith("@aws-cdk/")),
);

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

function containerDefinition(): Record<string, unknown> {
  const [taskDefinition] = Object.values(template.findResources("AWS::ECS::TaskDefinition"));
  const containers = taskDefinition?.Properties?.ContainerDefinitions as Record<string, unknown>[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

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

  test("listens on TCP 80 and forwards to the tasks' port 5000, health-checking /health", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      LoadBalancerArn: ref(id(stack.loadBalancer)),
      Port: 80,
      Protocol: "TCP",
      DefaultActions: [{ Type: "forward", TargetGroupArn: ref(id(stack.targetGroup)) }],
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      Port: 5000,
      Protocol: "TCP",
      TargetType: "ip",
      HealthCheckProtocol: "HTTP",
      HealthCheckPath: "/health",
    });
  });

  test("the task security group admits port 5000 from the NLB's security group only", () => {
    expect(ingressRulesOf(id(stack.taskSecurityGroup))).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 5000,
        ToPort: 5000,
        SourceSecurityGroupId: groupId(id(stack.loadBalancerSecurityGroup)),
      }),
    ]);
  });
});

describe("MLflow service", () => {
  test("gets the database credentials through ECS secrets from the database secret", () => {
    const secretRef = ref(id(stack.databaseSecret));
    const secrets = containerDefinition().Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name).sort()).toEqual(["DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_USER"]);
    for (const s of secrets) expect(json(s.ValueFrom)).toContain(json(secretRef));
  });

  test("no command, entry point or environment value carries a password or refers to the secret", () => {
    const { Command, EntryPoint, Environment } = containerDefinition();
    const visible = json({ Command, EntryPoint, Environment });
    expect(visible).not.toMatch(/password/i);
    expect(visible).not.toMatch(/secretsmanager|resolve:|postgres(ql)?:\/\//i);
    expect(visible).not.toContain(id(stack.databaseSecret));
    expect(visible).not.toContain(id(stack.database));
  });

  test("starts `mlflow server` on 0.0.0.0:5000, serving artifacts from s3://<bucket>/artifacts", () => {
    expect(containerDefinition().Command).toEqual([
      "server",
      "--host",
      "0.0.0.0",
      "--port",
      "5000",
      "--artifacts-destination",
      { "Fn::Join": ["", ["s3://", ref(id(stack.artifactBucket)), "/artifacts"]] },
      "--serve-artifacts",
    ]);
  });

  test("turns telemetry off, accepts the NLB's DNS name as Host and the UI's origin", () => {
    const environment = Object.fromEntries(
      (containerDefinition().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(environment.MLFLOW_DISABLE_TELEMETRY).toBe("true");
    expect(json(environment.MLFLOW_SERVER_ALLOWED_HOSTS)).toContain(
      json({ "Fn::GetAtt": [id(stack.loadBalancer), "DNSName"] }),
    );
    expect(environment.MLFLOW_SERVER_ALLOWED_HOSTS).not.toBe("*");
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

  test("takes sizes and task counts from the config", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlflow-vpc-sized-"));
    try {
      const sized = sampleConfig({
        mlflow: { cpu: 2048, memoryMiB: 8192, minTasks: 2, maxTasks: 6 },
        uiOrigin: "https://mlflow.example.com",
      });
      const app = new App({ outdir: dir, context: CDK_FLAGS });
      const t = Template.fromStack(new MlflowVpcStack(app, "Sized", { config: sized, env: ENV }));
      t.hasResourceProperties("AWS::ECS::TaskDefinition", { Cpu: "2048", Memory: "8192" });
      t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 2, MaxCapacity: 6 });
      t.hasResourceProperties("AWS::ECS::TaskDefinition", {
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([
              { Name: "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", Value: "https://mlflow.example.com" },
            ]),
          }),
        ],
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

describe("MLflow image", () => {
  const dockerfile = readFileSync(join(MLFLOW_IMAGE_DIR, "Dockerfile"), "utf8");

  test("the Dockerfile installs mlflow==${MLFLOW_VERSION} from the build arg, on a Python base", () => {
    expect(dockerfile).toMatch(/^FROM \$\{PYTHON_IMAGE\}$/m);
    expect(dockerfile).toMatch(/^ARG PYTHON_IMAGE=python:3\.\d+-slim/m);
    expect(dockerfile).toMatch(/^ARG MLFLOW_VERSION$/m);
    expect(dockerfile).toMatch(/^RUN pip install "mlflow==\$\{MLFLOW_VERSION\}" /m);
    expect(dockerfile).toMatch(/^USER 10001$/m);
  });

  test("MLflow loads the same sitecustomize.py as in the local stack (the runs/search race fix)", () => {
    expect(dockerfile).toMatch(
      /^COPY mlflow-python\/sitecustomize\.py \/opt\/mlflow-gate\/python\/sitecustomize\.py$/m,
    );
    expect(dockerfile).toMatch(/^ENV PYTHONPATH=\/opt\/mlflow-gate\/python$/m);
  });

  test("the stack passes MLFLOW_VERSION's pin as that build arg, and only stages the build context at synth", () => {
    const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), "utf8")) as {
      dockerImages: Record<
        string,
        { source: { directory: string; dockerBuildArgs?: Record<string, string>; platform?: string } }
      >;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source.dockerBuildArgs).toEqual({ MLFLOW_VERSION: loadPinnedMlflowVersion() });
    expect(images[0]!.source.platform).toBe("linux/amd64");
    expect(readdirSync(join(outdir, images[0]!.source.directory)).sort()).toEqual([
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
  const run = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(python, [join(MLFLOW_IMAGE_DIR, "entrypoint.py"), ...args], {
      encoding: "utf8",
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, ...env },
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

  test("refuses a backend store URI on the command line", () => {
    const r = run(db, "server", "--backend-store-uri", "postgresql://u:p@h/db");
    expect(r.status).toBe(64);
    expect(r.stdout).toBe("");
  });
});
