import { Task } from "@aws-sdk/client-ecs";
import { LogHead } from "../../../common/log";
import { isComplete, onEvent, SchemaUpgradeDeps } from "../../../infra/lambda/schema-upgrade";
import {
  buildStartedBy,
  SchemaUpgradeEvent,
  SchemaUpgradeProperties,
} from "../../../infra/lambda/schema-upgrade-steps";
import { taskDefinitionArn, upgradeProperties } from "./support/schema-upgrade";

// The handlers of the schema upgrade's custom resource against a small simulation of ECS and RDS: the clients'
// `send` is answered here (no AWS from tests), and every call is recorded with its input.

const TASK_DEFINITION = taskDefinitionArn(8);
const PROPS: SchemaUpgradeProperties = upgradeProperties("3.18.0", 8);
const OLD_PROPS = { ...PROPS, MlflowVersion: "3.17.2", TaskDefinitionArn: TASK_DEFINITION.replace(/:8$/, ":7") };
const REQUEST_ID = "8b9f0c1e-6a2d-4e3f-9a8b-7c6d5e4f3a2b";
const NOW = new Date("2026-03-04T05:06:07.089Z");
const SNAPSHOT = "mlflow-gate-before-3-18-0-20260304-050607";
const PHYSICAL_ID = "mlflowvpcstack-database/mlflow-schema";

const create = (): SchemaUpgradeEvent => ({ RequestType: "Create", RequestId: REQUEST_ID, ResourceProperties: PROPS });
const update = (): SchemaUpgradeEvent => ({
  RequestType: "Update",
  RequestId: REQUEST_ID,
  ResourceProperties: PROPS,
  OldResourceProperties: OLD_PROPS,
  PhysicalResourceId: PHYSICAL_ID,
});
/** The event isComplete gets: the request with what onEvent returned. */
const checking = (event: SchemaUpgradeEvent, returned: { PhysicalResourceId: string; Data?: object }) => ({
  ...event,
  ...returned,
});

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/**
 * ECS and RDS as far as the handlers see them: RunTask adds a task (once per client token, as ECS does), ListTasks
 * and DescribeTasks read the tasks, CreateDBClusterSnapshot adds a snapshot, which stays `creating` until a test
 * makes it available. `send` records every call.
 */
function simulatedAws() {
  const calls: Call[] = [];
  const lines: LogHead[] = [];
  const tasks: (Task & { clientToken?: string })[] = [];
  const snapshots = new Map<string, string>();
  const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
    RunTaskCommand: (input) => {
      let task = tasks.find((t) => t.clientToken === input.clientToken);
      if (!task) {
        task = {
          taskArn: `arn:aws:ecs:us-east-1:123456789012:task/mlflow/task${tasks.length + 1}`,
          startedBy: input.startedBy as string,
          lastStatus: "PROVISIONING",
          desiredStatus: "RUNNING",
          containers: [{ name: "SchemaUpgrade" }],
          clientToken: input.clientToken as string,
        };
        tasks.push(task);
      }
      return { tasks: [task], failures: [] };
    },
    ListTasksCommand: (input) => ({
      taskArns: tasks
        .filter((t) => t.startedBy === input.startedBy && t.desiredStatus === input.desiredStatus)
        .map((t) => t.taskArn),
    }),
    DescribeTasksCommand: (input) => ({
      tasks: tasks.filter((t) => (input.tasks as string[]).includes(t.taskArn as string)),
      failures: [],
    }),
    CreateDBClusterSnapshotCommand: (input) => {
      snapshots.set(input.DBClusterSnapshotIdentifier as string, "creating");
      return { DBClusterSnapshot: { Status: "creating" } };
    },
    DescribeDBClusterSnapshotsCommand: (input) => {
      const status = snapshots.get(input.DBClusterSnapshotIdentifier as string);
      if (!status) throw Object.assign(new Error("not found"), { name: "DBClusterSnapshotNotFoundFault" });
      return { DBClusterSnapshots: [{ Status: status }] };
    },
  };
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name;
    calls.push({ command: name, input: command.input });
    const answer = answers[name];
    if (!answer) throw new Error(`the handlers should not call ${name}`);
    return answer(command.input);
  };
  const deps = { ecs: { send }, rds: { send }, now: () => NOW, log: (line: LogHead) => lines.push(line) };
  /** The task ends: its container exits with `exitCode` (none when it never ran). */
  const stop = (exitCode: number | undefined, stoppedReason = "Essential container in task exited") => {
    for (const t of tasks)
      Object.assign(t, {
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        stoppedReason,
        containers: [{ name: "SchemaUpgrade", exitCode }],
      });
  };
  return {
    deps: deps as unknown as SchemaUpgradeDeps,
    calls,
    lines,
    tasks,
    snapshots,
    answers,
    stop,
    names: () => calls.map((c) => c.command),
  };
}

const RUN_TASK_INPUT = {
  cluster: PROPS.ClusterArn,
  taskDefinition: TASK_DEFINITION,
  launchType: "FARGATE",
  count: 1,
  startedBy: buildStartedBy(REQUEST_ID),
  clientToken: REQUEST_ID,
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ["subnet-1", "subnet-2"],
      securityGroups: ["sg-tasks"],
      assignPublicIp: "DISABLED",
    },
  },
};

describe("create", () => {
  test("runs the upgrade task at once, in the private subnets with the task security group, and takes no snapshot", async () => {
    // Prepare
    const aws = simulatedAws();
    // Act
    const returned = await onEvent(create(), aws.deps);
    // Assess
    expect(returned).toEqual({ PhysicalResourceId: PHYSICAL_ID });
    expect(aws.calls).toEqual([{ command: "RunTaskCommand", input: RUN_TASK_INPUT }]);
    expect(aws.lines).toEqual([
      expect.objectContaining({ component: "schema-upgrade", event: "task-started", task: aws.tasks[0]?.taskArn }),
    ]);
  });

  test("is complete once the task has exited 0, and never starts a second one", async () => {
    const aws = simulatedAws();
    const event = checking(create(), await onEvent(create(), aws.deps));
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    aws.tasks[0]!.lastStatus = "RUNNING";
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    aws.stop(0);
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: true });
    expect(aws.names().filter((n) => n === "RunTaskCommand")).toHaveLength(1);
    expect(aws.names().filter((n) => n.includes("DBCluster"))).toEqual([]);
    expect(aws.lines.map((l) => l.event)).toEqual(["task-started", "wait", "wait", "done"]);
  });

  test("a task ECS does not list yet is asked for again with the same client token: still one task", async () => {
    const aws = simulatedAws();
    const event = checking(create(), await onEvent(create(), aws.deps));
    const listTasks = aws.answers.ListTasksCommand!;
    aws.answers.ListTasksCommand = () => ({ taskArns: [] }); // ECS's eventual consistency
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    aws.answers.ListTasksCommand = listTasks;
    expect(aws.calls.filter((c) => c.command === "RunTaskCommand").map((c) => c.input)).toEqual([
      RUN_TASK_INPUT,
      RUN_TASK_INPUT,
    ]);
    expect(aws.tasks).toHaveLength(1);
  });
});

describe("update", () => {
  test("snapshots the database first, tagged, and starts no task yet", async () => {
    const aws = simulatedAws();
    const returned = await onEvent(update(), aws.deps);
    expect(returned).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { SnapshotId: SNAPSHOT } });
    expect(aws.calls).toEqual([
      {
        command: "CreateDBClusterSnapshotCommand",
        input: {
          DBClusterIdentifier: "mlflowvpcstack-database",
          DBClusterSnapshotIdentifier: SNAPSHOT,
          Tags: [
            { Key: "mlflow-gate:purpose", Value: "before-schema-upgrade" },
            { Key: "mlflow-gate:mlflow-version", Value: "3.18.0" },
            { Key: "mlflow-gate:previous-mlflow-version", Value: "3.17.2" },
          ],
        },
      },
    ]);
  });

  test("waits for the snapshot to be available, then runs the task, then waits for it to exit 0", async () => {
    // Prepare
    const aws = simulatedAws();
    const event = checking(update(), await onEvent(update(), aws.deps));
    // Act, Assess: the snapshot is still being created: no task
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    expect(aws.names()).not.toContain("RunTaskCommand");
    expect(aws.calls.find((c) => c.command === "DescribeDBClusterSnapshotsCommand")?.input).toEqual({
      DBClusterSnapshotIdentifier: SNAPSHOT,
    });
    // available: the task starts, with the same inputs as on a create
    aws.snapshots.set(SNAPSHOT, "available");
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    expect(aws.calls.filter((c) => c.command === "RunTaskCommand").map((c) => c.input)).toEqual([RUN_TASK_INPUT]);
    // running, then exited 0
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: false });
    aws.stop(0);
    expect(await isComplete(event, aws.deps)).toEqual({ IsComplete: true });
    expect(aws.lines.map((l) => l.event)).toEqual([
      "snapshot-started",
      "wait",
      "wait",
      "run-task",
      "task-started",
      "wait",
      "done",
    ]);
  });

  test("the update of a rollback leaves the database alone: no snapshot, no task", async () => {
    const aws = simulatedAws();
    const rollback: SchemaUpgradeEvent = {
      ...update(),
      ResourceProperties: OLD_PROPS,
      OldResourceProperties: PROPS,
    };
    const returned = await onEvent(rollback, aws.deps);
    expect(returned).toEqual({ PhysicalResourceId: PHYSICAL_ID });
    expect(await isComplete(checking(rollback, returned), aws.deps)).toEqual({ IsComplete: true });
    expect(aws.calls).toEqual([]);
    expect(aws.lines).toEqual([
      expect.objectContaining({ event: "skipped", why: expect.stringMatching(/^a rollback to revision 7/) }),
    ]);
  });

  test("a snapshot RDS cannot find fails the deployment instead of waiting", async () => {
    const aws = simulatedAws();
    const event = checking(update(), await onEvent(update(), aws.deps));
    aws.snapshots.clear();
    await expect(isComplete(event, aws.deps)).rejects.toThrow(
      `MLflow's schema upgrade to 3.18.0 did not start: the snapshot ${SNAPSHOT} of cluster mlflowvpcstack-database cannot be found`,
    );
    expect(aws.names()).not.toContain("RunTaskCommand");
  });
});

describe("delete", () => {
  test("does nothing: no call to ECS or RDS, the same physical id, complete at once", async () => {
    const aws = simulatedAws();
    const event: SchemaUpgradeEvent = {
      RequestType: "Delete",
      RequestId: REQUEST_ID,
      ResourceProperties: PROPS,
      PhysicalResourceId: PHYSICAL_ID,
    };
    const returned = await onEvent(event, aws.deps);
    expect(returned).toEqual({ PhysicalResourceId: PHYSICAL_ID });
    expect(await isComplete(checking(event, returned), aws.deps)).toEqual({ IsComplete: true });
    expect(aws.calls).toEqual([]);
  });
});

describe("a failed upgrade fails the deployment", () => {
  test("with the exit code, ECS's reason, the log to read and the snapshot", async () => {
    const aws = simulatedAws();
    const event = checking(update(), await onEvent(update(), aws.deps));
    aws.snapshots.set(SNAPSHOT, "available");
    await isComplete(event, aws.deps);
    aws.stop(1);
    await expect(isComplete(event, aws.deps)).rejects.toThrow(
      "MLflow's schema upgrade to 3.18.0 failed: task task1 exited with code 1 (Essential container in task exited). " +
        "Its log: CloudWatch log group MlflowVpcStack-LogGroup, stream schema-upgrade/SchemaUpgrade/task1. " +
        `The database as it was before: cluster snapshot ${SNAPSHOT}.`,
    );
    expect(aws.lines.at(-1)).toMatchObject({ event: "fail", snapshot: SNAPSHOT });
  });

  test("when ECS cannot find the task it listed", async () => {
    const aws = simulatedAws();
    const event = checking(create(), await onEvent(create(), aws.deps));
    aws.answers.DescribeTasksCommand = (input) => ({
      tasks: [],
      failures: (input.tasks as string[]).map((arn) => ({ arn, reason: "MISSING" })),
    });
    await expect(isComplete(event, aws.deps)).rejects.toThrow(
      "MLflow's schema upgrade to 3.18.0: its task task1 cannot be found in cluster arn:aws:ecs:us-east-1:123456789012:cluster/mlflow",
    );
  });

  test("when ECS starts no task, with ECS's reasons", async () => {
    const aws = simulatedAws();
    aws.answers.RunTaskCommand = () => ({ tasks: [], failures: [{ reason: "RESOURCE:ENI", detail: "no free IP" }] });
    await expect(onEvent(create(), aws.deps)).rejects.toThrow(
      "MLflow's schema upgrade to 3.18.0: ECS started no task (RESOURCE:ENI: no free IP)",
    );
  });

  test("when the properties are not the stack's, naming each problem", async () => {
    const aws = simulatedAws();
    await expect(
      onEvent({ ...create(), ResourceProperties: { ...PROPS, Subnets: "subnet-1" } }, aws.deps),
    ).rejects.toThrow("invalid schema upgrade properties: Subnets must be a non-empty list of strings");
    expect(aws.calls).toEqual([]);
  });
});
