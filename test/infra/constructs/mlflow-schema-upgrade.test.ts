import { App, CfnElement, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import {
  MlflowSchemaUpgrade,
  MlflowSchemaUpgradeProps,
  SCHEMA_UPGRADE_RESOURCE_TYPE,
} from "../../../infra/constructs/mlflow-schema-upgrade";
import { parseSchemaUpgradeProperties } from "../../../infra/lambda/schema-upgrade-steps";
import { CfnProperties, flatTemplate } from "../support/template";

// The schema upgrade in a bare stack: a VPC, a cluster, an imported database and a stand-in image and secret.
// MlflowVpcStack's test covers it in place (the service's image and secrets, the service's DependsOn, cdk-nag).

type Resource = { Type: string; Properties: CfnProperties; DependsOn?: string[] };

function synth(props: Partial<MlflowSchemaUpgradeProps> = {}) {
  const stack = new Stack(new App(), "S", { env: { account: "123456789012", region: "eu-west-1" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 2, natGateways: 1 });
  const secret = new secretsmanager.Secret(stack, "DatabaseSecret");
  const logGroup = new logs.LogGroup(stack, "MlflowLogs");
  const upgrade = new MlflowSchemaUpgrade(stack, "SchemaUpgrade", {
    cluster: new ecs.Cluster(stack, "Cluster", { vpc }),
    image: ecs.ContainerImage.fromRegistry("mlflow-gate/mlflow:3.17.2"),
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
    secrets: {
      DB_HOST: ecs.Secret.fromSecretsManager(secret, "host"),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(secret, "password"),
    },
    mlflowVersion: "3.17.2",
    database: rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, "Database", { clusterIdentifier: "mlflow-db" }),
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroup: new ec2.SecurityGroup(stack, "TaskSecurityGroup", { vpc }),
    logGroup,
    ...props,
  });
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  return { stack, upgrade, secret, logGroup, template, id, resources };
}

const { upgrade, secret, logGroup, template, id, resources } = synth();
const flat = (value: unknown) => flatTemplate(value);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
/** The one resource of a type. */
const only = (type: string): Resource => {
  const all = ofType(type);
  expect(all).toHaveLength(1);
  return all[0]![1];
};
const policyStatements = (logicalId: string) =>
  (flat(resources[logicalId]!.Properties.PolicyDocument) as { Statement: CfnProperties[] }).Statement;

describe("the upgrade task", () => {
  test("has one container, MLflow's image with the command db-upgrade (the image's entrypoint stays), no sidecar", () => {
    const taskDefinition = resources[id(upgrade.taskDefinition)]!;
    const containers = taskDefinition.Properties.ContainerDefinitions as CfnProperties[];
    expect(containers.map((c) => c.Name)).toEqual(["SchemaUpgrade"]);
    expect(containers[0]).toMatchObject({
      Image: "mlflow-gate/mlflow:3.17.2",
      Command: ["db-upgrade"],
      Essential: true,
    });
    expect(containers[0]).not.toHaveProperty("EntryPoint");
    expect(containers[0]).not.toHaveProperty("PortMappings");
    expect(taskDefinition.Properties).toMatchObject({
      Cpu: "512",
      Memory: "2048",
      RequiresCompatibilities: ["FARGATE"],
      RuntimePlatform: { CpuArchitecture: "X86_64", OperatingSystemFamily: "LINUX" },
    });
  });

  test("gets the database secrets it is given and none of the server's settings", () => {
    const [container] = resources[id(upgrade.taskDefinition)]!.Properties.ContainerDefinitions as CfnProperties[];
    expect(flat(container!.Secrets)).toEqual([
      { Name: "DB_HOST", ValueFrom: `<ref ${id(secret)}>:host::` },
      { Name: "DB_PASSWORD", ValueFrom: `<ref ${id(secret)}>:password::` },
    ]);
    expect(container).not.toHaveProperty("Environment");
  });

  test("logs to the given log group under schema-upgrade/, blocking: no line of a failed upgrade is dropped", () => {
    const [container] = resources[id(upgrade.taskDefinition)]!.Properties.ContainerDefinitions as CfnProperties[];
    expect(flat(container!.LogConfiguration)).toEqual({
      LogDriver: "awslogs",
      Options: {
        "awslogs-group": `<ref ${id(logGroup)}>`,
        "awslogs-stream-prefix": "schema-upgrade",
        "awslogs-region": "eu-west-1",
        mode: "blocking",
      },
    });
  });

  test("its task role holds no grant: the upgrade talks to the database only", () => {
    const taskRole = `<ref ${id(upgrade.taskDefinition.taskRole as never)}>`;
    const grants = ofType("AWS::IAM::Policy").filter(([, p]) =>
      (flat(p.Properties.Roles) as string[]).includes(taskRole),
    );
    expect(grants).toEqual([]);
    expect(resources[id(upgrade.taskDefinition.taskRole as never)]!.Properties).not.toHaveProperty("ManagedPolicyArns");
  });
});

describe("the custom resource", () => {
  test("is a Custom::MlflowSchemaUpgrade over the version, the task definition's revision and where to run it", () => {
    const { ServiceToken, ...properties } = flat(only(SCHEMA_UPGRADE_RESOURCE_TYPE).Properties) as CfnProperties;
    expect(ServiceToken).toMatch(/^<SchemaUpgradeUpgradeProviderframeworkonEvent[0-9A-F]+\.Arn>$/);
    expect(properties).toEqual({
      MlflowVersion: "3.17.2",
      TaskDefinitionArn: `<ref ${id(upgrade.taskDefinition)}>`,
      ClusterArn: expect.stringMatching(/^<Cluster[0-9A-F]+\.Arn>$/),
      ContainerName: "SchemaUpgrade",
      Subnets: [
        expect.stringMatching(/^<ref VpcPrivateSubnet1Subnet/),
        expect.stringMatching(/^<ref VpcPrivateSubnet2Subnet/),
      ],
      SecurityGroups: [expect.stringMatching(/^<TaskSecurityGroup[0-9A-F]+\.GroupId>$/)],
      LogGroupName: `<ref ${id(logGroup)}>`,
      LogStreamPrefix: "schema-upgrade",
      DatabaseClusterId: "mlflow-db",
    });
    // What the stack gives is what the handlers accept.
    expect(parseSchemaUpgradeProperties(properties)).toEqual(properties);
  });

  test("waits for its grants, the task's roles and the private subnets' routes out", () => {
    expect(only(SCHEMA_UPGRADE_RESOURCE_TYPE).DependsOn).toEqual(
      expect.arrayContaining([
        id(upgrade.handlerPolicy),
        id(upgrade.taskDefinition),
        id(upgrade.taskDefinition.obtainExecutionRole() as never),
        expect.stringMatching(/^SchemaUpgradeTaskDefinitionExecutionRoleDefaultPolicy/),
        expect.stringMatching(/^VpcPrivateSubnet1DefaultRoute/),
        expect.stringMatching(/^VpcPrivateSubnet2DefaultRoute/),
      ]),
    );
  });

  test("its handlers run Node.js 22 as the handler role; the waiter asks every 15 s for 30 minutes", () => {
    const handlers = ofType("AWS::Lambda::Function").filter(([, f]) =>
      ["index.onEvent", "index.isComplete"].includes(String(f.Properties.Handler)),
    );
    expect(
      handlers.map(([, h]) => [h.Properties.Handler, h.Properties.Runtime, flat(h.Properties.Role)]).sort(),
    ).toEqual([
      ["index.isComplete", "nodejs22.x", `<${id(upgrade.handlerRole)}.Arn>`],
      ["index.onEvent", "nodejs22.x", `<${id(upgrade.handlerRole)}.Arn>`],
    ]);
    const machine = only("AWS::StepFunctions::StateMachine");
    const definition = JSON.parse(flat(machine.Properties.DefinitionString) as string) as {
      States: Record<string, { Retry?: { IntervalSeconds: number; MaxAttempts: number }[] }>;
    };
    expect(definition.States["framework-isComplete-task"]?.Retry?.[0]).toMatchObject({
      IntervalSeconds: 15,
      MaxAttempts: 120,
    });
  });

  test("a timeout of its own sets the waiter's attempts", () => {
    const { template: shorter } = synth({ timeout: Duration.minutes(10) });
    const [machine] = Object.values(shorter.findResources("AWS::StepFunctions::StateMachine"));
    expect(String(flat(machine!.Properties.DefinitionString))).toContain('"IntervalSeconds":15,"MaxAttempts":40');
  });
});

describe("the handlers' grants", () => {
  const cluster = expect.stringMatching(/^<Cluster[0-9A-F]+\.Arn>$/);
  const snapshots = "arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:mlflow-gate-before-*";

  test("are exactly: run this task on this cluster, pass its two roles to ECS tasks, read tasks of this cluster, snapshot this database, write their log", () => {
    expect(policyStatements(id(upgrade.handlerPolicy))).toEqual([
      {
        Sid: "RunUpgradeTask",
        Effect: "Allow",
        Action: "ecs:RunTask",
        Resource: `<ref ${id(upgrade.taskDefinition)}>`,
        Condition: { ArnEquals: { "ecs:cluster": cluster } },
      },
      {
        Sid: "PassUpgradeTaskRoles",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: [
          `<${id(upgrade.taskDefinition.taskRole as never)}.Arn>`,
          `<${id(upgrade.taskDefinition.obtainExecutionRole() as never)}.Arn>`,
        ],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      {
        Sid: "FindUpgradeTasks",
        Effect: "Allow",
        Action: "ecs:ListTasks",
        Resource: "*",
        Condition: { ArnEquals: { "ecs:cluster": cluster } },
      },
      {
        Sid: "ReadUpgradeTasks",
        Effect: "Allow",
        Action: "ecs:DescribeTasks",
        Resource: expect.stringMatching(/^arn:aws:ecs:eu-west-1:123456789012:task\/<ref Cluster[0-9A-F]+>\/\*$/),
        Condition: { ArnEquals: { "ecs:cluster": cluster } },
      },
      {
        Sid: "SnapshotDatabase",
        Effect: "Allow",
        Action: "rds:CreateDBClusterSnapshot",
        Resource: ["arn:aws:rds:eu-west-1:123456789012:cluster:mlflow-db", snapshots],
      },
      {
        Sid: "TagAndReadSnapshots",
        Effect: "Allow",
        Action: ["rds:AddTagsToResource", "rds:DescribeDBClusterSnapshots"],
        Resource: snapshots,
      },
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `<${id(upgrade.handlerLogGroup)}.Arn>`,
      },
    ]);
  });

  test("the handler role has no other policy, inline or managed", () => {
    const role = `<ref ${id(upgrade.handlerRole)}>`;
    const policies = ofType("AWS::IAM::Policy").filter(([, p]) =>
      (flat(p.Properties.Roles) as string[]).includes(role),
    );
    expect(policies.map(([logicalId]) => logicalId)).toEqual([id(upgrade.handlerPolicy)]);
    expect(resources[id(upgrade.handlerRole)]!.Properties).not.toHaveProperty("ManagedPolicyArns");
    expect(resources[id(upgrade.handlerRole)]!.Properties).not.toHaveProperty("Policies");
  });
});

test("the template has one upgrade task definition and no service", () => {
  template.resourceCountIs("AWS::ECS::TaskDefinition", 1);
  template.resourceCountIs("AWS::ECS::Service", 0);
});
