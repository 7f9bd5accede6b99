import { App, CfnElement, Duration, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { AwsSolutionsChecks } from "cdk-nag";
import { join } from "path";
import { addPollingCustomResource } from "../../../infra/constructs/polling-custom-resource";
import { REPO_ROOT } from "../../../project/paths";
import { CfnProperties, flatTemplate } from "../support/template";

// The Provider-framework custom resource both the UI's deployment wait and the schema upgrade use, alone in a
// stack with cdk-nag's AWS Solutions checks: its parts, its waiter, and the findings it acknowledges itself.

function build() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, "S", { env: { account: "123456789012", region: "eu-west-1" } });
  const role = new iam.Role(stack, "HandlerRole", { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });
  const logGroup = new logs.LogGroup(stack, "HandlerLogs");
  const parts = addPollingCustomResource(stack, "Wait", {
    entry: join(REPO_ROOT, "infra", "lambda", "amplify-job.ts"),
    descriptions: { onEvent: "starts", isComplete: "checks" },
    role,
    logGroup,
    resourceType: "Custom::Probe",
    properties: { Answer: "42" },
    totalTimeout: Duration.minutes(5),
    queryInterval: Duration.seconds(10),
    waitsWhile: "a probe runs",
  });
  return { app, stack, role, logGroup, parts };
}

const { app, stack, role, logGroup, parts } = build();
const template = Template.fromStack(stack);
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);

test("adds its parts to the scope as <id>, <id>Start, <id>Check and <id>Provider: logical ids that stay", () => {
  expect([parts.resource, parts.onEvent, parts.isComplete, parts.provider].map((c) => c.node.path)).toEqual([
    "S/Wait",
    "S/WaitStart",
    "S/WaitCheck",
    "S/WaitProvider",
  ]);
  template.hasResource("Custom::Probe", { Properties: { Answer: "42" } });
});

test("the handlers run Node.js 22 on arm64 as the given role, logging to the given log group", () => {
  for (const [fn, handler, description] of [
    [parts.onEvent, "index.onEvent", "starts"],
    [parts.isComplete, "index.isComplete", "checks"],
  ] as const) {
    const properties = template.toJSON().Resources[id(fn)].Properties as CfnProperties;
    expect(flatTemplate(properties)).toMatchObject({
      Handler: handler,
      Description: description,
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Timeout: 30,
      Role: `<${id(role)}.Arn>`,
      LoggingConfig: { LogGroup: `<ref ${id(logGroup)}>` },
    });
  }
});

test("the waiter asks every queryInterval until totalTimeout", () => {
  const [machine] = Object.values(template.findResources("AWS::StepFunctions::StateMachine"));
  expect(String(flatTemplate(machine!.Properties.DefinitionString))).toContain('"IntervalSeconds":10,"MaxAttempts":30');
});

test("acknowledges the framework's findings and the handlers' runtime, each with its reason, and cdk-nag passes", () => {
  const acknowledged = stack.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([rule, reason]) => ({ path: c.node.path, rule: rule.replace(/^Annotation::/, ""), reason })),
  );
  const invoked = (fn: { node: { defaultChild?: unknown } }) =>
    `S/WaitProvider AwsSolutions-IAM5[Resource::<${id(fn)}.Arn>:*]`;
  const frameworkFunctions = ["framework-onEvent", "framework-isComplete", "framework-onTimeout"].map(
    (name) => parts.provider.node.findChild(name) as never,
  );
  expect(acknowledged.map(({ path, rule }) => `${path} ${rule}`).sort()).toEqual(
    [
      "S/WaitStart AwsSolutions-L1",
      "S/WaitCheck AwsSolutions-L1",
      "S/WaitProvider AwsSolutions-L1",
      "S/WaitProvider AwsSolutions-SF1",
      "S/WaitProvider AwsSolutions-SF2",
      "S/WaitProvider AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      ...[parts.onEvent, parts.isComplete, ...frameworkFunctions].map(invoked),
    ].sort(),
  );
  expect(acknowledged.find((a) => a.rule === "AwsSolutions-SF1")?.reason).toContain("every 10 s while a probe runs");
  expect(() => app.synth({ force: true })).not.toThrow();
});
