import { App, Aws, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import { spawn } from "child_process";
import { createServer } from "http";
import { AddressInfo } from "net";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ConfigError } from "../../../authorizer/core/errors";
import {
  GUARD_BUNDLE_FILES,
  GUARD_BUNDLE_GROUPS_DIR,
  GUARD_BUNDLE_TEAMS_DIR,
  guardBundleFiles,
} from "../../../guard/build";
import { GUARD_ENV } from "../../../guard/config";
import {
  buildGuardImageContext,
  GUARD_CONTAINER_NAME,
  GUARD_DOCKERFILE,
  GUARD_PORT,
  GuardSidecar,
  GuardSidecarProps,
} from "../../../infra/constructs/guard-sidecar";
import { thrownBy } from "../../support/errors";
import { CfnProperties } from "../support/template";

// The sidecar in a bare task beside a stand-in MLflow container; its image context is built once into a temp dir
// (esbuild, no Docker).

const UPSTREAM = new URL("http://127.0.0.1:5000");
let contextDir: string;
beforeAll(() => {
  contextDir = buildGuardImageContext(join(mkdtempSync(join(tmpdir(), "guard-image-")), "context"));
});
afterAll(() => rmSync(join(contextDir, ".."), { recursive: true, force: true }));

function synth(props: Partial<GuardSidecarProps> = {}) {
  const stack = new Stack(new App(), "S", { env: { account: "123456789012", region: "eu-west-1" } });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, "Task");
  const mlflowContainer = taskDefinition.addContainer("Mlflow", {
    image: ecs.ContainerImage.fromRegistry("mlflow"),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: "mlflow" }),
  });
  const sidecar = new GuardSidecar(stack, "Guard", {
    taskDefinition,
    mlflowContainer,
    upstream: UPSTREAM,
    stagePathPrefix: "/prod",
    imageDirectory: contextDir,
    ...props,
  });
  const template = Template.fromStack(stack);
  const [task] = Object.values(template.findResources("AWS::ECS::TaskDefinition"));
  const guard = (task!.Properties.ContainerDefinitions as CfnProperties[]).find(
    (c) => c.Name === GUARD_CONTAINER_NAME,
  )!;
  const logGroupId = stack.getLogicalId(sidecar.auditLogGroup.node.defaultChild as logs.CfnLogGroup);
  return { stack, sidecar, template, guard, logGroupId };
}

describe("buildGuardImageContext", () => {
  test("holds the Dockerfile, the bundle, the catalog and the group files, nothing else", () => {
    const files = readdirSync(contextDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(contextDir.length + 1))
      .sort();
    expect(files).toEqual(["Dockerfile", ...guardBundleFiles()].sort());
    expect(files.filter((f) => f.startsWith("policies/groups/"))).not.toEqual([]);
    expect(readFileSync(join(contextDir, "Dockerfile"), "utf8")).toBe(readFileSync(GUARD_DOCKERFILE, "utf8"));
  });

  test("the Dockerfile copies only those files, runs node on the bundle as a non-root user, installs nothing", () => {
    const dockerfile = readFileSync(GUARD_DOCKERFILE, "utf8");
    const copies = [...dockerfile.matchAll(/^COPY (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(copies).toEqual([
      ...Object.values(GUARD_BUNDLE_FILES).map((f) => [f, `/opt/mlflow-gate/${f}`]),
      [`${GUARD_BUNDLE_GROUPS_DIR}/`, `/opt/mlflow-gate/${GUARD_BUNDLE_GROUPS_DIR}/`],
      [`${GUARD_BUNDLE_TEAMS_DIR}/`, `/opt/mlflow-gate/${GUARD_BUNDLE_TEAMS_DIR}/`],
    ]);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+-[a-z]+-slim$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/opt\/mlflow-gate\/guard\/main\.js"\]$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${GUARD_PORT}$`, "m"));
    expect(dockerfile).not.toMatch(/^RUN /m);
  });
});

describe("GuardSidecar", () => {
  test("configures the guard for the task: all interfaces on its port, MLflow's loopback address, the stage prefix", () => {
    const { guard, sidecar } = synth();
    const environment = Object.fromEntries(
      (guard.Environment as { Name: string; Value: string }[]).map((e) => [e.Name, e.Value]),
    );
    expect(environment).toEqual({
      [GUARD_ENV.host]: "0.0.0.0",
      [GUARD_ENV.port]: String(GUARD_PORT),
      [GUARD_ENV.upstream]: "http://127.0.0.1:5000",
      [GUARD_ENV.stagePathPrefix]: "/prod",
      [GUARD_ENV.auditReads]: "false",
      [GUARD_ENV.groupsDir]: "/opt/mlflow-gate/policies/groups",
      [GUARD_ENV.teamsDir]: "/opt/mlflow-gate/policies/teams",
    });
    // Audit lines go to standard output (the log driver's), and the image's layout names the catalog.
    expect(environment).not.toHaveProperty(GUARD_ENV.auditFile);
    expect(environment).not.toHaveProperty(GUARD_ENV.catalogFile);
    expect(sidecar.environment).toEqual(environment);
    expect(guard.PortMappings).toEqual([{ ContainerPort: GUARD_PORT, Protocol: "tcp" }]);
  });

  test("is essential, read-only, health-checked by node on its own port, and starts after MLflow", () => {
    const { guard } = synth();
    expect(guard).toMatchObject({
      Essential: true,
      ReadonlyRootFilesystem: true,
      DependsOn: [{ ContainerName: "Mlflow", Condition: "START" }],
      HealthCheck: {
        Command: ["CMD", "node", "-e", expect.stringContaining(`fetch("http://127.0.0.1:${GUARD_PORT}/health"`)],
      },
    });
    expect(guard).not.toHaveProperty("User"); // the image's USER (1000) stands
  });

  test("its health check passes on any answer from the guard's port (a 502 too), and fails when none comes", async () => {
    // Prepare: a stand-in guard answering 502, as the guard does while MLflow starts
    const server = createServer((_req, res) => res.writeHead(502).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    // Run as ECS runs it (exec form), without blocking this process's event loop, which serves the answer.
    const check = (p: number) => {
      const [, node, ...args] = synth({ port: p }).guard.HealthCheck.Command as string[];
      expect(node).toBe("node");
      const child = spawn(process.execPath, args, { stdio: "ignore" });
      return new Promise<number | null>((resolve) => child.once("exit", resolve));
    };
    try {
      // Act, Assess
      expect(await check(port)).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check(port)).toBe(1);
  });

  test("sends its output to the audit log group: retained, deletion-protected, kept a year by default", () => {
    const { template, guard, logGroupId } = synth();
    expect(guard.LogConfiguration).toEqual({
      LogDriver: "awslogs",
      Options: expect.objectContaining({
        "awslogs-group": { Ref: logGroupId },
        "awslogs-stream-prefix": "guard",
        mode: "blocking",
      }),
    });
    template.hasResource("AWS::Logs::LogGroup", {
      Properties: { RetentionInDays: 365, DeletionProtectionEnabled: true },
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
  });

  test("the task may only create streams in the audit log group and put events there", () => {
    const { template, logGroupId } = synth({ auditLogRetention: logs.RetentionDays.TEN_YEARS });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 3653 });
    const statements = Object.values(template.findResources("AWS::IAM::Policy"))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as CfnProperties[])
      .filter((s) => JSON.stringify(s.Resource).includes(logGroupId));
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: { "Fn::GetAtt": [logGroupId, "Arn"] },
      }),
    ]);
  });

  test("lists every problem of its props at once, the guard's own parser deciding its environment", () => {
    const e = thrownBy(
      () =>
        synth({
          port: 5000,
          upstream: new URL("http://10.0.0.5:5000"),
          stagePathPrefix: "prod",
        }),
      ConfigError,
    );
    expect(e.message).toMatch(/^GuardSidecar:/);
    expect(e.problems).toEqual([
      "port 5000 is MLflow's (http://10.0.0.5:5000)",
      expect.stringContaining(`${GUARD_ENV.upstream} must be http://<loopback address>:<port>`),
      expect.stringContaining(`${GUARD_ENV.stagePathPrefix} must be empty or like /prod`),
    ]);
    expect(thrownBy(() => synth({ port: 0 }), ConfigError).problems).toEqual([
      "port must be a port number from 1 to 65535, not 0",
    ]);
  });

  test("passes the table of SigV4 callers' groups, the region token filled in by CloudFormation; a bad entry stops synth", () => {
    // Prepare: a name holding the region token, as in an environment-agnostic stack
    const { guard, stack } = synth({
      iamGroups: new Map([
        [`role/mlflow-gate-x-${Aws.REGION}`, "release-managers"],
        ["role/cross", "readers"],
      ]),
    });
    // Assess
    const value = (guard.Environment as { Name: string; Value: unknown }[]).find(
      (e) => e.Name === GUARD_ENV.iamGroups,
    )?.Value;
    expect(stack.resolve(value)).toEqual({
      "Fn::Join": [
        "",
        ['{"role/mlflow-gate-x-', { Ref: "AWS::Region" }, '":"release-managers","role/cross":"readers"}'],
      ],
    });
    expect(
      thrownBy(() => synth({ iamGroups: new Map([["arn:aws:iam::1:role/x", "readers"]]) }), ConfigError).problems,
    ).toEqual([
      expect.stringContaining(`${GUARD_ENV.iamGroups}: "arn:aws:iam::1:role/x" must be role/<name> or user/<name>`),
    ]);
  });
});
