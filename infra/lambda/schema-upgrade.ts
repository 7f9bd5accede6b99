// The custom resource that upgrades MLflow's database schema before the service rolls out a new image: a new
// MLflow refuses the old schema, and its tasks would crash-loop. CDK's Provider framework calls onEvent once,
// then isComplete every 15 s until it says so or throws (which fails the deployment with the message).
// The decisions are in schema-upgrade-steps.ts; this file makes the AWS calls.
import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type DesiredStatus,
  type Task,
} from "@aws-sdk/client-ecs";
import { CreateDBClusterSnapshotCommand, DescribeDBClusterSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { jsonLineWriter, logLine, LogSink } from "../../common/log";
import {
  buildPhysicalResourceId,
  buildSnapshotId,
  buildStartedBy,
  nextStep,
  parseSchemaUpgradeProperties,
  planFor,
  SchemaUpgradeEvent,
  SchemaUpgradeProperties,
  TaskView,
  UpgradeState,
} from "./schema-upgrade-steps";

/** The handlers' I/O: the two AWS clients (only `send` is used), the clock of snapshot names, the log. */
export interface SchemaUpgradeDeps {
  readonly ecs: Pick<ECSClient, "send">;
  readonly rds: Pick<RDSClient, "send">;
  readonly now: () => Date;
  readonly log: LogSink;
}

let defaults: SchemaUpgradeDeps | undefined;
const defaultDeps = (): SchemaUpgradeDeps =>
  (defaults ??= {
    ecs: new ECSClient({}),
    rds: new RDSClient({}),
    now: () => new Date(),
    log: jsonLineWriter(process.stdout),
  });

const COMPONENT = "schema-upgrade";

/** Create: starts the upgrade task. Update: starts the database's snapshot (isComplete runs the task once it is available). */
export async function onEvent(
  event: SchemaUpgradeEvent,
  deps: SchemaUpgradeDeps = defaultDeps(),
): Promise<{ PhysicalResourceId: string; Data?: { SnapshotId: string } }> {
  const plan = planFor(event);
  if (plan.kind === "nothing") {
    deps.log(logLine(COMPONENT, "skipped", { requestType: event.RequestType, why: plan.why }));
    return { PhysicalResourceId: event.PhysicalResourceId as string }; // a delete's and an update's are set
  }
  const properties = parseSchemaUpgradeProperties(event.ResourceProperties);
  const PhysicalResourceId = event.PhysicalResourceId ?? buildPhysicalResourceId(properties);
  if (!plan.snapshotFirst) {
    await runUpgradeTask(event.RequestId, properties, deps);
    return { PhysicalResourceId };
  }
  const SnapshotId = buildSnapshotId(properties.MlflowVersion, deps.now());
  await deps.rds.send(
    new CreateDBClusterSnapshotCommand({
      DBClusterIdentifier: properties.DatabaseClusterId,
      DBClusterSnapshotIdentifier: SnapshotId,
      Tags: [
        { Key: "mlflow-gate:purpose", Value: "before-schema-upgrade" },
        { Key: "mlflow-gate:mlflow-version", Value: properties.MlflowVersion },
        { Key: "mlflow-gate:previous-mlflow-version", Value: previousVersion(event) },
      ],
    }),
  );
  deps.log(logLine(COMPONENT, "snapshot-started", { snapshot: SnapshotId, cluster: properties.DatabaseClusterId }));
  return { PhysicalResourceId, Data: { SnapshotId } };
}

/** Complete once the request's upgrade task has exited 0; throws when it failed, so that the deployment fails. */
export async function isComplete(
  event: SchemaUpgradeEvent,
  deps: SchemaUpgradeDeps = defaultDeps(),
): Promise<{ IsComplete: boolean }> {
  const plan = planFor(event);
  if (plan.kind === "nothing") return { IsComplete: true };
  const properties = parseSchemaUpgradeProperties(event.ResourceProperties);
  const snapshotId = event.Data?.SnapshotId;
  if (plan.snapshotFirst && !snapshotId) throw new Error("the update's snapshot id is missing from onEvent's data");
  const state: UpgradeState = {
    ...(snapshotId ? { snapshot: { id: snapshotId, status: await snapshotStatus(snapshotId, deps) } } : {}),
    tasks: await requestTasks(event.RequestId, properties, deps),
  };
  const step = nextStep(state, properties);
  const { kind, ...fields } = step;
  deps.log(logLine(COMPONENT, kind, { ...fields, ...(snapshotId ? { snapshot: snapshotId } : {}) }));
  switch (step.kind) {
    case "fail":
      throw new Error(step.message);
    case "done":
      return { IsComplete: true };
    case "run-task":
      await runUpgradeTask(event.RequestId, properties, deps);
      return { IsComplete: false };
    case "wait":
      return { IsComplete: false };
  }
}

/**
 * Starts the task in the private subnets with the task security group (the one Aurora admits). The request id is
 * the client token: a repeated call for the same request (a retried onEvent, a task not yet listed) starts no second task.
 */
async function runUpgradeTask(requestId: string, p: SchemaUpgradeProperties, deps: SchemaUpgradeDeps): Promise<void> {
  const answer = await deps.ecs.send(
    new RunTaskCommand({
      cluster: p.ClusterArn,
      taskDefinition: p.TaskDefinitionArn,
      launchType: "FARGATE",
      count: 1,
      startedBy: buildStartedBy(requestId),
      clientToken: requestId,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...p.Subnets],
          securityGroups: [...p.SecurityGroups],
          assignPublicIp: "DISABLED",
        },
      },
    }),
  );
  const task = answer.tasks?.[0]?.taskArn;
  if (!task) {
    const why = (answer.failures ?? []).map((f) => [f.reason, f.detail].filter(Boolean).join(": ")).join("; ");
    throw new Error(`MLflow's schema upgrade to ${p.MlflowVersion}: ECS started no task (${why || "no reason given"})`);
  }
  deps.log(logLine(COMPONENT, "task-started", { task, startedBy: buildStartedBy(requestId) }));
}

/** The snapshot's status, or undefined when RDS has no such snapshot. */
async function snapshotStatus(id: string, deps: SchemaUpgradeDeps): Promise<string | undefined> {
  try {
    const answer = await deps.rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }));
    return answer.DBClusterSnapshots?.[0]?.Status;
  } catch (e) {
    if ((e as Error).name === "DBClusterSnapshotNotFoundFault") return undefined;
    throw e;
  }
}

/** The tasks this request started, running or recently stopped (ECS lists each desired status on its own). */
async function requestTasks(
  requestId: string,
  p: SchemaUpgradeProperties,
  deps: SchemaUpgradeDeps,
): Promise<TaskView[]> {
  const list = (desiredStatus: DesiredStatus) =>
    deps.ecs.send(new ListTasksCommand({ cluster: p.ClusterArn, startedBy: buildStartedBy(requestId), desiredStatus }));
  const arns = (await Promise.all([list("RUNNING"), list("STOPPED")])).flatMap((a) => a.taskArns ?? []);
  if (arns.length === 0) return [];
  const answer = await deps.ecs.send(new DescribeTasksCommand({ cluster: p.ClusterArn, tasks: arns }));
  return [
    ...(answer.tasks ?? []).map((t) => viewOf(t, p.ContainerName)),
    ...(answer.failures ?? []).map((f) => ({ arn: f.arn ?? "(no arn)", missing: true })),
  ];
}

function viewOf(task: Task, containerName: string): TaskView {
  const container = task.containers?.find((c) => c.name === containerName);
  return {
    arn: task.taskArn ?? "(no arn)",
    lastStatus: task.lastStatus,
    stoppedReason: task.stoppedReason,
    exitCode: container?.exitCode,
    containerReason: container?.reason,
  };
}

function previousVersion(event: SchemaUpgradeEvent): string {
  const old = (event.OldResourceProperties as Partial<SchemaUpgradeProperties> | undefined)?.MlflowVersion;
  return typeof old === "string" && old !== "" ? old : "unknown";
}
