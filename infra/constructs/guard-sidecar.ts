import { copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from "fs";
import { join, resolve } from "path";
import { Duration, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ConfigError } from "../../authorizer/core/errors";
import { buildGuard, GUARD_BUNDLE_GROUPS_DIR, GUARD_BUNDLE_TEAMS_DIR } from "../../guard/build";
import { GUARD_ENV, parseGuardConfig } from "../../guard/config";
import { CATALOG_FILE, GUARD_BUILD_DIR, REPO_ROOT } from "../../project/paths";
import { buildDirFor, DEFAULT_POLICY_DIRS, PolicyDirs } from "../policy-dirs";

/** The port the guard listens on in the MLflow task: the load balancer's target. */
export const GUARD_PORT = 8080;
/** The guard image's Dockerfile; its build context is the guard's bundle (guard/build.ts). */
export const GUARD_DOCKERFILE = join(REPO_ROOT, "infra", "docker", "guard", "Dockerfile");
/** Where the guard's Dockerfile puts the bundle in the image (its layout is the repository's). */
export const GUARD_IMAGE_ROOT = "/opt/mlflow-gate";
/** The group and team files in the image: what MLFLOW_GATE_GUARD_GROUPS_DIR and _TEAMS_DIR name. */
export const GUARD_IMAGE_POLICY_DIRS: PolicyDirs = {
  groupsDir: `${GUARD_IMAGE_ROOT}/${GUARD_BUNDLE_GROUPS_DIR}`,
  teamsDir: `${GUARD_IMAGE_ROOT}/${GUARD_BUNDLE_TEAMS_DIR}`,
};
/** The name of the guard's container in the task definition. */
export const GUARD_CONTAINER_NAME = "Guard";

const staged = new Set<string>();

/**
 * The guard image's build context: the bundle, its catalog and the group and team files of `dirs` (guard/build.ts,
 * esbuild, no Docker) with the Dockerfile copied in, built once per process and folder (dist/guard for the
 * repository's policies, a folder of their own for others: `buildDirFor`). Every file is renamed into place, so a
 * concurrent synth never reads a half-written one; the files do not depend on the folder, so the asset
 * hash changes only when the guard, the catalog or the Dockerfile do.
 */
export function buildGuardImageContext(
  outDir: string = GUARD_BUILD_DIR,
  dirs: PolicyDirs = DEFAULT_POLICY_DIRS,
): string {
  const target = resolve(outDir === GUARD_BUILD_DIR ? buildDirFor(outDir, dirs) : outDir);
  if (staged.has(target)) return target;
  buildGuard(target, dirs);
  const staging = mkdtempSync(`${target}.dockerfile-`);
  try {
    copyFileSync(GUARD_DOCKERFILE, join(staging, "Dockerfile"));
    renameSync(join(staging, "Dockerfile"), join(target, "Dockerfile"));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  staged.add(target);
  return target;
}

export interface GuardSidecarProps {
  /** MLflow's task: the guard joins it as a second container and shares its loopback (awsvpc). */
  readonly taskDefinition: ecs.TaskDefinition;
  /** MLflow's container in that task; the guard starts once it has started. */
  readonly mlflowContainer: ecs.ContainerDefinition;
  /** Where MLflow listens in the task: loopback only, since the guard is the only way to it. */
  readonly upstream: URL;
  /** API Gateway's `context.path` before MLflow's path: `/<stage>` on the execute-api host. */
  readonly stagePathPrefix: string;
  /** @default GUARD_PORT */
  readonly port?: number;
  /**
   * The group of each SigV4 caller the deployment creates, `role/<name>` → group (infra/iam-callers.ts): the
   * guard's promotion rules need it. Names may hold the region token. @default none: a SigV4 caller may
   * promote only where no group restricts promotion
   */
  readonly iamGroups?: ReadonlyMap<string, string>;
  /** Reads are audited too (they are most of the traffic). @default false */
  readonly auditReads?: boolean;
  /** @default logs.RetentionDays.ONE_YEAR (as long as the API's access log, whose lines share the request id) */
  readonly auditLogRetention?: logs.RetentionDays;
  /**
   * Where the API's policies were read from: the image holds these group and team files.
   * @default DEFAULT_POLICY_DIRS (policies/groups, policies/teams)
   */
  readonly policyDirs?: PolicyDirs;
  /**
   * The teams the API was built from (PolicySet.teams.names): the image's team files must be exactly these.
   * @default not checked
   */
  readonly teams?: readonly string[];
  /**
   * The image's build context: a Dockerfile beside `guard/main.js`, `policies/mlflow-routes.json`, and the group
   * and team files under `policies/`.
   * @default built at synth from `policyDirs` into dist/guard by guard/build.ts, with infra/docker/guard/Dockerfile
   */
  readonly imageDirectory?: string;
}

/**
 * The guard as a sidecar of MLflow's task: the only container the load balancer reaches, in front of MLflow
 * on loopback. Its standard output is the audit trail, sent to a log group of its own that the task may
 * only append to. Its own event lines (`"event":"started"`, `"stopping"`, `"cannot-start"`) are on
 * standard error, which the awslogs driver sends to the same stream; audit lines are `"event":"audit"`.
 */
export class GuardSidecar extends Construct {
  public readonly container: ecs.ContainerDefinition;
  /** The audit trail: retained, deletion-protected, written by the task's log driver only. */
  public readonly auditLogGroup: logs.LogGroup;
  public readonly port: number;
  /** The guard's configuration (guard/config.ts), as the container receives it. */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GuardSidecarProps) {
    super(scope, id);
    this.port = props.port ?? GUARD_PORT;
    this.environment = {
      // All interfaces of the task: the load balancer's traffic and health checks reach it there.
      [GUARD_ENV.host]: "0.0.0.0",
      [GUARD_ENV.port]: String(this.port),
      [GUARD_ENV.upstream]: props.upstream.origin,
      [GUARD_ENV.stagePathPrefix]: props.stagePathPrefix,
      [GUARD_ENV.auditReads]: String(props.auditReads ?? false),
      // The group and team files the image holds: those the API was built from.
      [GUARD_ENV.groupsDir]: GUARD_IMAGE_POLICY_DIRS.groupsDir,
      [GUARD_ENV.teamsDir]: GUARD_IMAGE_POLICY_DIRS.teamsDir,
      // No GUARD_ENV.auditFile: audit lines go to standard output, the log driver's.
      ...(props.iamGroups && props.iamGroups.size > 0
        ? { [GUARD_ENV.iamGroups]: Stack.of(this).toJsonString(Object.fromEntries(props.iamGroups)) }
        : {}),
    };
    validateGuardSidecar(this.port, props.upstream, {
      ...this.environment,
      // A token (the region) stands for a name part CloudFormation fills in: the parser checks the rest.
      ...(props.iamGroups && props.iamGroups.size > 0
        ? {
            [GUARD_ENV.iamGroups]: JSON.stringify(
              Object.fromEntries([...props.iamGroups].map(([k, g]) => [Token.isUnresolved(k) ? untokened(k) : k, g])),
            ),
          }
        : {}),
    });

    const imageDirectory = props.imageDirectory ?? buildGuardImageContext(GUARD_BUILD_DIR, props.policyDirs);
    if (props.teams) {
      const shipped = teamFilesIn(join(imageDirectory, GUARD_BUNDLE_TEAMS_DIR));
      if (shipped.join(",") !== [...props.teams].sort().join(","))
        throw new ConfigError(
          `GuardSidecar: the image's team files (${shipped.join(", ") || "none"}) are not the API's teams (${[...props.teams].sort().join(", ") || "none"})`,
        );
    }

    this.auditLogGroup = new logs.LogGroup(this, "AuditLogs", {
      retention: props.auditLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtectionEnabled: true,
    });

    this.container = props.taskDefinition.addContainer(GUARD_CONTAINER_NAME, {
      image: ecs.ContainerImage.fromAsset(imageDirectory, {
        platform: Platform.LINUX_AMD64,
      }),
      essential: true,
      environment: { ...this.environment },
      portMappings: [{ containerPort: this.port, protocol: ecs.Protocol.TCP }],
      readonlyRootFilesystem: true,
      // The guard answers at all, within the timeout (a 502 while MLflow starts will do). MLflow's health,
      // through the guard, is the load balancer's check.
      healthCheck: {
        command: [
          "CMD",
          "node",
          "-e",
          `fetch("http://127.0.0.1:${this.port}/health",{signal:AbortSignal.timeout(4000)}).then(()=>process.exit(0),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(15),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.auditLogGroup,
        streamPrefix: "guard",
        // An audit line is never dropped to keep serving: if CloudWatch Logs stalls, the guard waits.
        mode: ecs.AwsLogDriverMode.BLOCKING,
      }),
      // SIGTERM: the guard stops accepting and lets requests in flight finish (common/http-server.ts).
      stopTimeout: Duration.seconds(30),
    });
    // Started after MLflow and, at a task's stop, stopped before it: no request is cut at MLflow's end.
    // Not HEALTHY: the guard answers 502 until MLflow listens, and the load balancer's /health waits.
    this.container.addContainerDependencies({
      container: props.mlflowContainer,
      condition: ecs.ContainerDependencyCondition.START,
    });
  }
}

/** The team names of a bundle's team folder (none when it is missing). */
function teamFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ""))
    .sort();
}

/** A token's place in a string, as a name part: `${Token[AWS.Region.9]}` → `region`. */
const untokened = (s: string): string => s.replace(/\$\{Token\[[^\]]*\]\}/g, "region");

/** The guard's own parser decides its environment at synth, with the checks of a load balancer target. */
function validateGuardSidecar(port: number, upstream: URL, environment: Record<string, string>): void {
  const problems: string[] = [];
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(`port must be a port number from 1 to 65535, not ${port}`);
  if (String(port) === upstream.port) problems.push(`port ${port} is MLflow's (${upstream.origin})`);
  try {
    parseGuardConfig(environment, { catalogFile: CATALOG_FILE, ...GUARD_IMAGE_POLICY_DIRS });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0) throw new ConfigError(`GuardSidecar:\n  ${problems.join("\n  ")}`, problems);
}
