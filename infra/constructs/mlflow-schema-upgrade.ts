import { join } from "path";
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { REPO_ROOT } from "../../project/paths";
import { SchemaUpgradeProperties, SNAPSHOT_PREFIX } from "../lambda/schema-upgrade-steps";
import { acknowledgeWildcards } from "./mlflow-access-role";
import { addPollingCustomResource } from "./polling-custom-resource";

/** The upgrade task's one container. */
export const SCHEMA_UPGRADE_CONTAINER_NAME = "SchemaUpgrade";
/** Its log streams are `<prefix>/SchemaUpgrade/<task id>` (awslogs) in the log group it is given. */
export const SCHEMA_UPGRADE_LOG_STREAM_PREFIX = "schema-upgrade";
export const SCHEMA_UPGRADE_RESOURCE_TYPE = "Custom::MlflowSchemaUpgrade";
/** The handlers of the custom resource (onEvent, isComplete). */
export const SCHEMA_UPGRADE_HANDLERS = join(REPO_ROOT, "infra", "lambda", "schema-upgrade.ts");

export interface MlflowSchemaUpgradeProps {
  readonly cluster: ecs.ICluster;
  /** MLflow's image, the service's: the schema is brought to the MLflow the service is about to run. */
  readonly image: ecs.ContainerImage;
  /** The image's platform, as the service's task has it. */
  readonly runtimePlatform: ecs.RuntimePlatform;
  /** The DB_* variables the image's entrypoint builds the database URI from, as the MLflow container gets them. */
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
  /** The MLflow the image holds (MLFLOW_VERSION): a new one runs the upgrade again. */
  readonly mlflowVersion: string;
  /** The database whose schema is upgraded; an update snapshots it first. */
  readonly database: rds.IDatabaseCluster;
  readonly vpc: ec2.IVpc;
  /** Subnets with a route to ECR, Secrets Manager and CloudWatch Logs. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The security group the database admits. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The task's log; its streams start with SCHEMA_UPGRADE_LOG_STREAM_PREFIX. */
  readonly logGroup: logs.ILogGroup;
  /** The deployment fails when the upgrade (its snapshot included) has not ended by then. @default Duration.minutes(30) */
  readonly timeout?: Duration;
}

/**
 * MLflow's schema upgrade as a step of `cdk deploy`: a custom resource runs a one-off Fargate task of MLflow's
 * image whose command is `db-upgrade` (infra/docker/entrypoint.py: MLflow's own `mlflow db upgrade`, in process),
 * and fails the deployment unless it exits 0. A create upgrades the new, empty database (MLflow creates its
 * schema); an update first takes a cluster snapshot `mlflow-gate-before-<version>-<time>` and waits until it is
 * available; a delete, and the update of a rollback, leave the database alone (infra/lambda/schema-upgrade.ts).
 * It runs again when a property changes: the version, the task definition's revision (a new image is a new
 * revision), or where the task runs. Whatever needs the new schema depends on `resource`.
 *
 * The task gets MLflow's database secrets and none of the server's settings (Host and CORS lists): `db upgrade`
 * reads none of them, and a change of them would register a new revision and upgrade again for nothing.
 */
export class MlflowSchemaUpgrade extends Construct {
  /** One container, no sidecar: the task ends when the upgrade does. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  /** The handlers' role: run this task, snapshot this database, write their own log. */
  public readonly handlerRole: iam.Role;
  public readonly handlerPolicy: iam.Policy;
  public readonly handlerLogGroup: logs.LogGroup;
  public readonly provider: cr.Provider;
  /** The step itself: done when the upgrade task has exited 0. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MlflowSchemaUpgradeProps) {
    super(scope, id);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "TaskDefinition", {
      // Fixed sizes, not the service's: resizing the service is no reason to upgrade again.
      cpu: 512,
      memoryLimitMiB: 2048,
      runtimePlatform: props.runtimePlatform,
    });
    this.container = this.taskDefinition.addContainer(SCHEMA_UPGRADE_CONTAINER_NAME, {
      image: props.image,
      // The image's ENTRYPOINT is entrypoint.py; this replaces its CMD (the server's flags).
      command: ["db-upgrade"],
      secrets: { ...props.secrets },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: props.logGroup,
        streamPrefix: SCHEMA_UPGRADE_LOG_STREAM_PREFIX,
        // Every line of a failed upgrade is what the operator reads next.
        mode: ecs.AwsLogDriverMode.BLOCKING,
      }),
    });

    this.handlerLogGroup = new logs.LogGroup(this, "HandlerLogs", {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.handlerRole = new iam.Role(this, "HandlerRole", {
      description: "mlflow-gate: snapshots the MLflow database and runs its schema upgrade task",
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    this.handlerPolicy = this.grantHandlers(props);

    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    const properties: SchemaUpgradeProperties = {
      MlflowVersion: props.mlflowVersion,
      TaskDefinitionArn: this.taskDefinition.taskDefinitionArn,
      ClusterArn: props.cluster.clusterArn,
      ContainerName: SCHEMA_UPGRADE_CONTAINER_NAME,
      Subnets: subnets.subnetIds,
      SecurityGroups: [props.securityGroup.securityGroupId],
      LogGroupName: props.logGroup.logGroupName,
      LogStreamPrefix: SCHEMA_UPGRADE_LOG_STREAM_PREFIX,
      DatabaseClusterId: props.database.clusterIdentifier,
    };
    const timeout = props.timeout ?? Duration.minutes(30);
    const parts = addPollingCustomResource(this, "Upgrade", {
      entry: SCHEMA_UPGRADE_HANDLERS,
      descriptions: {
        onEvent: "mlflow-gate: starts MLflow's schema upgrade (after a database snapshot on an update)",
        isComplete: "mlflow-gate: reads the snapshot and the schema upgrade task until the task has exited",
      },
      role: this.handlerRole,
      logGroup: this.handlerLogGroup,
      resourceType: SCHEMA_UPGRADE_RESOURCE_TYPE,
      properties: { ...properties },
      totalTimeout: timeout,
      waitsWhile: "one snapshot and one schema upgrade task run",
    });
    this.provider = parts.provider;
    this.resource = parts.resource;
    // Its first call needs its grants, the database, and the task's: its roles' grants (the image, the secret) and
    // a way out to ECR, Secrets Manager and CloudWatch Logs.
    this.resource.node.addDependency(
      this.handlerPolicy,
      props.database,
      this.taskDefinition,
      subnets.internetConnectivityEstablished,
    );
  }

  /** Exactly the calls the handlers make, on this task, cluster and database. */
  private grantHandlers(props: MlflowSchemaUpgradeProps): iam.Policy {
    const stack = Stack.of(this);
    const onThisCluster = { ArnEquals: { "ecs:cluster": props.cluster.clusterArn } };
    const snapshots = stack.formatArn({
      service: "rds",
      resource: "cluster-snapshot",
      resourceName: `${SNAPSHOT_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const taskRoles = [this.taskDefinition.taskRole, this.taskDefinition.obtainExecutionRole()];
    const policy = new iam.Policy(this, "HandlerPolicy", {
      roles: [this.handlerRole],
      statements: [
        new iam.PolicyStatement({
          sid: "RunUpgradeTask",
          actions: ["ecs:RunTask"],
          resources: [this.taskDefinition.taskDefinitionArn],
          conditions: onThisCluster,
        }),
        new iam.PolicyStatement({
          sid: "PassUpgradeTaskRoles",
          actions: ["iam:PassRole"],
          resources: taskRoles.map((r) => r.roleArn),
          conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        }),
        new iam.PolicyStatement({
          sid: "FindUpgradeTasks",
          actions: ["ecs:ListTasks"],
          resources: ["*"],
          conditions: onThisCluster,
        }),
        new iam.PolicyStatement({
          sid: "ReadUpgradeTasks",
          actions: ["ecs:DescribeTasks"],
          resources: [
            stack.formatArn({ service: "ecs", resource: "task", resourceName: `${props.cluster.clusterName}/*` }),
          ],
          conditions: onThisCluster,
        }),
        new iam.PolicyStatement({
          sid: "SnapshotDatabase",
          actions: ["rds:CreateDBClusterSnapshot"],
          resources: [props.database.clusterArn, snapshots],
        }),
        new iam.PolicyStatement({
          sid: "TagAndReadSnapshots",
          actions: ["rds:AddTagsToResource", "rds:DescribeDBClusterSnapshots"],
          resources: [snapshots],
        }),
        new iam.PolicyStatement({
          sid: "WriteOwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [this.handlerLogGroup.logGroupArn],
        }),
      ],
    });
    acknowledgeWildcards(policy, (sid) => WILDCARD_REASONS[sid]);
    return policy;
  }
}

/** Why each statement with a wildcard has it; a wildcard in any other statement stays a cdk-nag finding. */
const WILDCARD_REASONS: Readonly<Record<string, string>> = {
  FindUpgradeTasks:
    "ecs:ListTasks has no task resource to name; the condition confines it to this stack's cluster, and it only lists the tasks the handlers started (by startedBy)",
  ReadUpgradeTasks:
    "the tasks of this stack's cluster only (also by the ecs:cluster condition); task ids are assigned by ECS when the upgrade task starts",
  SnapshotDatabase: `the snapshots this step names (${SNAPSHOT_PREFIX}<version>-<time>, the time known only at deploy), of this stack's database cluster only`,
  TagAndReadSnapshots: `the snapshots this step names (${SNAPSHOT_PREFIX}<version>-<time>), to tag them as they are created and to wait until they are available`,
};
