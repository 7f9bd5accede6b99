// The decisions of the custom resource that upgrades MLflow's database schema (infra/lambda/schema-upgrade.ts):
// what a CloudFormation event asks for, what the task and the snapshot it observes mean, and the lines it
// fails with. No AWS calls and no clock here; MlflowVpcStack imports the names its IAM statements cover.
import { createHash } from "crypto";

/** Every snapshot this step takes is named `<prefix><version>-<time>`; the handlers' role may create only those. */
export const SNAPSHOT_PREFIX = "mlflow-gate-before-";
/** The `startedBy` of every upgrade task starts so; ECS allows 36 characters in all. */
export const STARTED_BY_PREFIX = "mlflow-gate-upgrade-";
const STARTED_BY_MAX_LENGTH = 36;

/** The custom resource's properties, as MlflowVpcStack gives them (CloudFormation passes strings). */
export interface SchemaUpgradeProperties {
  /** The MLflow the image holds (MLFLOW_VERSION): its change is what the upgrade is for. */
  readonly MlflowVersion: string;
  /** The upgrade task's definition, revision included: a new image is a new revision. */
  readonly TaskDefinitionArn: string;
  readonly ClusterArn: string;
  /** The task's one container, whose exit code decides. */
  readonly ContainerName: string;
  readonly Subnets: readonly string[];
  readonly SecurityGroups: readonly string[];
  /** Where the container's log stream is: `<LogStreamPrefix>/<ContainerName>/<task id>` (awslogs). */
  readonly LogGroupName: string;
  readonly LogStreamPrefix: string;
  /** The Aurora cluster whose snapshot an update takes first. */
  readonly DatabaseClusterId: string;
}

/** The parts of CloudFormation's request (through CDK's Provider framework) the handlers read. */
export interface SchemaUpgradeEvent {
  readonly RequestType: "Create" | "Update" | "Delete";
  readonly RequestId: string;
  readonly ResourceProperties: unknown;
  readonly OldResourceProperties?: unknown;
  readonly PhysicalResourceId?: string;
  /** What onEvent returned, given to every isComplete call. */
  readonly Data?: { readonly SnapshotId?: string };
}

/** The properties, checked: every problem is listed at once. */
export function parseSchemaUpgradeProperties(value: unknown): SchemaUpgradeProperties {
  const o = (value ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const text = (key: keyof SchemaUpgradeProperties): string => {
    if (typeof o[key] === "string" && o[key] !== "") return o[key];
    problems.push(`${key} must be a non-empty string`);
    return "";
  };
  const list = (key: keyof SchemaUpgradeProperties): string[] => {
    const v = o[key];
    if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string" && s !== "")) return v as string[];
    problems.push(`${key} must be a non-empty list of strings`);
    return [];
  };
  const properties: SchemaUpgradeProperties = {
    MlflowVersion: text("MlflowVersion"),
    TaskDefinitionArn: text("TaskDefinitionArn"),
    ClusterArn: text("ClusterArn"),
    ContainerName: text("ContainerName"),
    Subnets: list("Subnets"),
    SecurityGroups: list("SecurityGroups"),
    LogGroupName: text("LogGroupName"),
    LogStreamPrefix: text("LogStreamPrefix"),
    DatabaseClusterId: text("DatabaseClusterId"),
  };
  if (properties.MlflowVersion && !/^\d+(\.\d+)*$/.test(properties.MlflowVersion))
    problems.push(
      `MlflowVersion must be a release version like 3.17.2, not ${JSON.stringify(properties.MlflowVersion)}`,
    );
  if (problems.length > 0) throw new Error(`invalid schema upgrade properties: ${problems.join("; ")}`);
  return properties;
}

/**
 * What a request asks for. A create upgrades a new database (MLflow's upgrade creates the schema); an update
 * snapshots the database first. A delete leaves the database alone, and so does the update of a rollback:
 * MLflow has no downgrade, and the previous image's `db upgrade` fails on a schema newer than its own.
 */
export function planFor(
  event: Pick<SchemaUpgradeEvent, "RequestType" | "ResourceProperties" | "OldResourceProperties">,
): { readonly kind: "nothing"; readonly why: string } | { readonly kind: "upgrade"; readonly snapshotFirst: boolean } {
  if (event.RequestType === "Delete") return { kind: "nothing", why: "the database is never touched on delete" };
  if (event.RequestType === "Create") return { kind: "upgrade", snapshotFirst: false };
  const next = taskDefinitionRevision(parseSchemaUpgradeProperties(event.ResourceProperties).TaskDefinitionArn);
  const previous = taskDefinitionRevision(
    (event.OldResourceProperties as Partial<SchemaUpgradeProperties> | undefined)?.TaskDefinitionArn,
  );
  if (next && previous && next.family === previous.family && next.revision < previous.revision)
    return {
      kind: "nothing",
      why: `a rollback to revision ${next.revision} of the upgrade task: the schema stays as it is; the snapshot taken before the failed update holds the database as it was`,
    };
  return { kind: "upgrade", snapshotFirst: true };
}

/**
 * The family and revision of a task definition ARN (`arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>`).
 * CloudFormation registers a new revision for every change, so only a rollback goes back to a lower one.
 */
export function taskDefinitionRevision(arn: unknown): { family: string; revision: number } | undefined {
  const m = typeof arn === "string" ? /:task-definition\/([^:/]+):(\d+)$/.exec(arn) : null;
  return m ? { family: m[1] as string, revision: Number(m[2]) } : undefined;
}

/** One physical id per database: an update keeps it, so CloudFormation never deletes the resource on the way. */
export function buildPhysicalResourceId(properties: Pick<SchemaUpgradeProperties, "DatabaseClusterId">): string {
  return `${properties.DatabaseClusterId}/mlflow-schema`;
}

/**
 * `mlflow-gate-before-<version>-<yyyymmdd>-<hhmmss>` (UTC): the version the database is about to be upgraded to,
 * and when. RDS allows letters, digits and single hyphens, starting with a letter.
 */
export function buildSnapshotId(mlflowVersion: string, at: Date): string {
  const time = at
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:]/g, "")
    .replace("T", "-");
  return `${SNAPSHOT_PREFIX}${mlflowVersion.replace(/\./g, "-")}-${time}`;
}

/** The request's own `startedBy`: the tasks of a request are found by it, and an operator recognises them. */
export function buildStartedBy(requestId: string): string {
  const digest = createHash("sha256").update(requestId).digest("hex");
  return `${STARTED_BY_PREFIX}${digest}`.slice(0, STARTED_BY_MAX_LENGTH);
}

/** An upgrade task as ECS describes it, reduced to what decides. */
export interface TaskView {
  readonly arn: string;
  /** ECS has no such task (DescribeTasks' MISSING). */
  readonly missing?: boolean;
  readonly lastStatus?: string;
  readonly stoppedReason?: string;
  /** The upgrade container's exit code and reason; no exit code when it never ran. */
  readonly exitCode?: number;
  readonly containerReason?: string;
}

/** What the check observed: the snapshot an update takes first (none on create) and the request's tasks. */
export interface UpgradeState {
  readonly snapshot?: { readonly id: string; readonly status?: string };
  readonly tasks: readonly TaskView[];
}

export type Step =
  | { readonly kind: "wait"; readonly on: string }
  | { readonly kind: "run-task" }
  | { readonly kind: "done"; readonly task: string }
  | { readonly kind: "fail"; readonly message: string };

/** What to do now: wait for the snapshot, start the task, wait for it, or end with its outcome. */
export function nextStep(state: UpgradeState, properties: SchemaUpgradeProperties): Step {
  const { snapshot } = state;
  if (snapshot && snapshot.status !== "available") {
    if (snapshot.status === "creating") return { kind: "wait", on: `snapshot ${snapshot.id} (creating)` };
    return {
      kind: "fail",
      message: `MLflow's schema upgrade to ${properties.MlflowVersion} did not start: the snapshot ${snapshot.id} of cluster ${properties.DatabaseClusterId} ${snapshot.status ? `is ${snapshot.status}` : "cannot be found"}`,
    };
  }
  if (state.tasks.length === 0) return { kind: "run-task" };
  const missing = state.tasks.find((t) => t.missing);
  if (missing)
    return {
      kind: "fail",
      message: `MLflow's schema upgrade to ${properties.MlflowVersion}: its task ${taskId(missing.arn)} cannot be found in cluster ${properties.ClusterArn}`,
    };
  const running = state.tasks.find((t) => t.lastStatus !== "STOPPED");
  if (running) return { kind: "wait", on: `task ${taskId(running.arn)} (${running.lastStatus ?? "starting"})` };
  const failed = state.tasks.find((t) => t.exitCode !== 0);
  if (failed) return { kind: "fail", message: buildFailureMessage(failed, properties, snapshot?.id) };
  return { kind: "done", task: (state.tasks[0] as TaskView).arn };
}

/** The reason a failed upgrade gives CloudFormation: the exit code, ECS's reasons, and the log to read. */
export function buildFailureMessage(task: TaskView, properties: SchemaUpgradeProperties, snapshotId?: string): string {
  const id = taskId(task.arn);
  const exit = task.exitCode === undefined ? "stopped without an exit code" : `exited with code ${task.exitCode}`;
  const reasons = [task.stoppedReason, task.containerReason].filter(Boolean).join("; ");
  const lines = [
    `MLflow's schema upgrade to ${properties.MlflowVersion} failed: task ${id} ${exit}${reasons ? ` (${reasons})` : ""}.`,
    `Its log: CloudWatch log group ${properties.LogGroupName}, stream ${properties.LogStreamPrefix}/${properties.ContainerName}/${id}.`,
  ];
  if (snapshotId) lines.push(`The database as it was before: cluster snapshot ${snapshotId}.`);
  return lines.join(" ");
}

/** The task id: the last part of its ARN (`.../task/<cluster>/<id>`), as log streams and the console name it. */
export function taskId(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}
