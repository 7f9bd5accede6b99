import {
  buildFailureMessage,
  buildPhysicalResourceId,
  buildSnapshotId,
  buildStartedBy,
  nextStep,
  parseSchemaUpgradeProperties,
  planFor,
  SchemaUpgradeProperties,
  SNAPSHOT_PREFIX,
  STARTED_BY_PREFIX,
  taskDefinitionRevision,
  TaskView,
} from "../../../infra/lambda/schema-upgrade-steps";
import { taskDefinitionArn, upgradeProperties } from "./support/schema-upgrade";

// The decisions of the schema upgrade's custom resource: what each request asks for, and what each snapshot and
// task state means for the deployment.

const TASK_DEFINITION = taskDefinitionArn(7);
const PROPS: SchemaUpgradeProperties = upgradeProperties("3.17.2", 7);
const TASK = "arn:aws:ecs:us-east-1:123456789012:task/mlflow/0f1e2d3c4b5a";
const stopped = (exitCode: number | undefined, more: Partial<TaskView> = {}): TaskView => ({
  arn: TASK,
  lastStatus: "STOPPED",
  stoppedReason: "Essential container in task exited",
  exitCode,
  ...more,
});

describe("parseSchemaUpgradeProperties", () => {
  test("takes the stack's properties as they are", () => {
    expect(parseSchemaUpgradeProperties({ ...PROPS, ServiceToken: "arn:aws:lambda:..." })).toMatchObject(PROPS);
  });

  test("lists every problem at once", () => {
    expect(() =>
      parseSchemaUpgradeProperties({ ...PROPS, MlflowVersion: "latest", Subnets: [], LogGroupName: 1 }),
    ).toThrow(
      'invalid schema upgrade properties: Subnets must be a non-empty list of strings; LogGroupName must be a non-empty string; MlflowVersion must be a release version like 3.17.2, not "latest"',
    );
  });
});

describe("planFor", () => {
  const update = (from: string, to: string) => ({
    RequestType: "Update" as const,
    ResourceProperties: { ...PROPS, TaskDefinitionArn: to },
    OldResourceProperties: { ...PROPS, TaskDefinitionArn: from },
  });

  test("a create upgrades the new database without a snapshot; a delete leaves it alone", () => {
    expect(planFor({ RequestType: "Create", ResourceProperties: PROPS })).toEqual({
      kind: "upgrade",
      snapshotFirst: false,
    });
    expect(planFor({ RequestType: "Delete", ResourceProperties: PROPS })).toMatchObject({ kind: "nothing" });
  });

  test("an update to a new revision snapshots first", () => {
    expect(planFor(update(TASK_DEFINITION, TASK_DEFINITION.replace(/:7$/, ":8")))).toEqual({
      kind: "upgrade",
      snapshotFirst: true,
    });
  });

  test("the update of a rollback (back to a lower revision of the same family) leaves the schema alone", () => {
    const plan = planFor(update(TASK_DEFINITION.replace(/:7$/, ":8"), TASK_DEFINITION));
    expect(plan).toMatchObject({ kind: "nothing" });
    expect(plan.kind === "nothing" && plan.why).toMatch(/^a rollback to revision 7 of the upgrade task/);
  });

  test("a new family is no rollback, whatever its revision", () => {
    const otherFamily = "arn:aws:ecs:us-east-1:123456789012:task-definition/Renamed:1";
    expect(planFor(update(TASK_DEFINITION, otherFamily))).toMatchObject({ kind: "upgrade", snapshotFirst: true });
  });
});

test("taskDefinitionRevision reads family and revision from an ARN, and nothing from anything else", () => {
  expect(taskDefinitionRevision(TASK_DEFINITION)).toEqual({ family: "MlflowVpcStackSchemaUpgrade1A2B", revision: 7 });
  expect(taskDefinitionRevision("MlflowVpcStackSchemaUpgrade1A2B")).toBeUndefined();
  expect(taskDefinitionRevision(undefined)).toBeUndefined();
});

describe("names", () => {
  test("a snapshot is named mlflow-gate-before-<version>-<UTC time>, a valid RDS identifier", () => {
    const id = buildSnapshotId("3.17.2", new Date("2026-03-04T05:06:07.089Z"));
    expect(id).toBe("mlflow-gate-before-3-17-2-20260304-050607");
    expect(id.startsWith(SNAPSHOT_PREFIX)).toBe(true);
    // RDS: letters, digits and hyphens, a letter first, no two hyphens in a row, none at the end, 255 at most.
    expect(id).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    expect(id.length).toBeLessThanOrEqual(255);
  });

  test("startedBy is recognisable, the same for one request, another for the next, and within ECS's 36 characters", () => {
    const first = buildStartedBy("8b9f0c1e-6a2d-4e3f-9a8b-7c6d5e4f3a2b");
    expect(first.startsWith(STARTED_BY_PREFIX)).toBe(true);
    expect(first).toMatch(/^[A-Za-z0-9_/-]{1,36}$/);
    expect(first).toHaveLength(36);
    expect(buildStartedBy("8b9f0c1e-6a2d-4e3f-9a8b-7c6d5e4f3a2b")).toBe(first);
    expect(buildStartedBy("0a1b2c3d-6a2d-4e3f-9a8b-7c6d5e4f3a2b")).not.toBe(first);
  });

  test("one physical id per database", () => {
    expect(buildPhysicalResourceId(PROPS)).toBe("mlflowvpcstack-database/mlflow-schema");
  });
});

describe("nextStep", () => {
  const snapshot = (status?: string) => ({ id: "mlflow-gate-before-3-17-2-20260304-050607", status });

  test("waits while the snapshot is being created, and starts nothing", () => {
    expect(nextStep({ snapshot: snapshot("creating"), tasks: [] }, PROPS)).toEqual({
      kind: "wait",
      on: "snapshot mlflow-gate-before-3-17-2-20260304-050607 (creating)",
    });
  });

  test("fails when the snapshot cannot be found or is in any other state", () => {
    expect(nextStep({ snapshot: snapshot(undefined), tasks: [] }, PROPS)).toEqual({
      kind: "fail",
      message:
        "MLflow's schema upgrade to 3.17.2 did not start: the snapshot mlflow-gate-before-3-17-2-20260304-050607 of cluster mlflowvpcstack-database cannot be found",
    });
    expect(nextStep({ snapshot: snapshot("copying"), tasks: [] }, PROPS)).toMatchObject({
      kind: "fail",
      message: expect.stringMatching(/ is copying$/),
    });
  });

  test("starts the task once the snapshot is available, or at once without one", () => {
    expect(nextStep({ snapshot: snapshot("available"), tasks: [] }, PROPS)).toEqual({ kind: "run-task" });
    expect(nextStep({ tasks: [] }, PROPS)).toEqual({ kind: "run-task" });
  });

  test("waits while the task has not stopped", () => {
    for (const lastStatus of ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING", undefined])
      expect(nextStep({ tasks: [{ arn: TASK, lastStatus }] }, PROPS)).toEqual({
        kind: "wait",
        on: `task 0f1e2d3c4b5a (${lastStatus ?? "starting"})`,
      });
  });

  test("is done when the task stopped with exit code 0", () => {
    expect(nextStep({ snapshot: snapshot("available"), tasks: [stopped(0)] }, PROPS)).toEqual({
      kind: "done",
      task: TASK,
    });
  });

  test("fails with the exit code, ECS's reasons, the log and the snapshot when the task exited otherwise", () => {
    expect(nextStep({ snapshot: snapshot("available"), tasks: [stopped(1)] }, PROPS)).toEqual({
      kind: "fail",
      message:
        "MLflow's schema upgrade to 3.17.2 failed: task 0f1e2d3c4b5a exited with code 1 (Essential container in task exited). " +
        "Its log: CloudWatch log group MlflowVpcStack-LogGroup, stream schema-upgrade/SchemaUpgrade/0f1e2d3c4b5a. " +
        "The database as it was before: cluster snapshot mlflow-gate-before-3-17-2-20260304-050607.",
    });
  });

  test("a task that never ran (no exit code) fails too, with the container's reason", () => {
    const task = stopped(undefined, {
      stoppedReason: "Task failed to start",
      containerReason: "CannotPullContainerError: pull access denied",
    });
    expect(nextStep({ tasks: [task] }, PROPS)).toEqual({
      kind: "fail",
      message:
        "MLflow's schema upgrade to 3.17.2 failed: task 0f1e2d3c4b5a stopped without an exit code (Task failed to start; CannotPullContainerError: pull access denied). " +
        "Its log: CloudWatch log group MlflowVpcStack-LogGroup, stream schema-upgrade/SchemaUpgrade/0f1e2d3c4b5a.",
    });
  });

  test("fails, rather than waiting for ever, when ECS cannot find the task", () => {
    expect(nextStep({ tasks: [{ arn: TASK, missing: true }] }, PROPS)).toEqual({
      kind: "fail",
      message:
        "MLflow's schema upgrade to 3.17.2: its task 0f1e2d3c4b5a cannot be found in cluster arn:aws:ecs:us-east-1:123456789012:cluster/mlflow",
    });
  });

  test("with more than one task, every one must have stopped with exit code 0", () => {
    const second = { ...stopped(0), arn: `${TASK}ff` };
    expect(nextStep({ tasks: [stopped(0), { ...second, lastStatus: "RUNNING" }] }, PROPS)).toMatchObject({
      kind: "wait",
    });
    expect(nextStep({ tasks: [second, stopped(2)] }, PROPS)).toMatchObject({
      kind: "fail",
      message: expect.stringContaining("task 0f1e2d3c4b5a exited with code 2"),
    });
  });
});

test("buildFailureMessage leaves out what ECS did not say", () => {
  expect(buildFailureMessage({ arn: TASK, lastStatus: "STOPPED", exitCode: 69 }, PROPS)).toBe(
    "MLflow's schema upgrade to 3.17.2 failed: task 0f1e2d3c4b5a exited with code 69. Its log: CloudWatch log group MlflowVpcStack-LogGroup, stream schema-upgrade/SchemaUpgrade/0f1e2d3c4b5a.",
  );
});
