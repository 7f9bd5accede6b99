import { CustomResource, Duration, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as lambdaNodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";

export interface PollingCustomResourceProps {
  /** The handlers' source file: it exports `onEvent` and `isComplete` (CDK's Provider framework calls them). */
  readonly entry: string;
  /** The functions' descriptions: what onEvent starts, what isComplete reads. */
  readonly descriptions: { readonly onEvent: string; readonly isComplete: string };
  /** The role both handlers run as; it holds the grants of their AWS calls. */
  readonly role: iam.IRole;
  /** Where the handlers and the framework's own functions log. */
  readonly logGroup: logs.ILogGroup;
  /** `Custom::<Name>`. */
  readonly resourceType: string;
  /** The resource's properties: a change of any of them is an update. */
  readonly properties: Record<string, unknown>;
  /** The deployment fails when isComplete has not said so by then. */
  readonly totalTimeout: Duration;
  /** @default Duration.seconds(15) */
  readonly queryInterval?: Duration;
  /** What one wait lasts for, in cdk-nag's acknowledgements ("one UI deployment runs"). */
  readonly waitsWhile: string;
}

export interface PollingCustomResource {
  readonly resource: CustomResource;
  readonly provider: cr.Provider;
  readonly onEvent: lambdaNodejs.NodejsFunction;
  readonly isComplete: lambdaNodejs.NodejsFunction;
}

/**
 * A custom resource whose deployment waits: CDK's Provider framework calls `onEvent` once, then `isComplete`
 * every `queryInterval` until it answers complete or throws (which fails the deployment), for `totalTimeout` at
 * most. Both handlers are bundled from `entry` and run Node.js 22 as `role`; the framework's cdk-nag findings are
 * acknowledged here, each with its reason. The parts are added to `scope` as `<id>` (the resource), `<id>Start`,
 * `<id>Check` and `<id>Provider`, not under a construct of their own: their logical ids stay those of the
 * stacks that had them before this function, since CloudFormation refuses a new service token for a resource.
 */
export function addPollingCustomResource(
  scope: Construct,
  id: string,
  props: PollingCustomResourceProps,
): PollingCustomResource {
  const queryInterval = props.queryInterval ?? Duration.seconds(15);
  const functionProps = {
    entry: props.entry,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: Duration.seconds(30),
    role: props.role,
    logGroup: props.logGroup,
    // The runtime's own AWS SDK v3; the handlers are a few calls.
    bundling: { externalModules: ["@aws-sdk/*"], minify: true },
  };
  const onEvent = new lambdaNodejs.NodejsFunction(scope, `${id}Start`, {
    ...functionProps,
    handler: "onEvent",
    description: props.descriptions.onEvent,
  });
  const isComplete = new lambdaNodejs.NodejsFunction(scope, `${id}Check`, {
    ...functionProps,
    handler: "isComplete",
    description: props.descriptions.isComplete,
  });
  const provider = new cr.Provider(scope, `${id}Provider`, {
    onEventHandler: onEvent,
    isCompleteHandler: isComplete,
    queryInterval,
    totalTimeout: props.totalTimeout,
    logGroup: props.logGroup,
  });
  const resource = new CustomResource(scope, id, {
    serviceToken: provider.serviceToken,
    resourceType: props.resourceType,
    properties: props.properties,
  });
  for (const fn of [onEvent, isComplete])
    Validations.of(fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node.js 22, as the authorizer: a supported LTS Lambda runtime, the one the project's code is tested on (Node 20/22)",
    });
  acknowledgeWaiter(provider, [onEvent, isComplete], queryInterval, props);
  return { resource, provider, onEvent, isComplete };
}

/** cdk-nag findings on the Provider framework's parts, each a decision with its reason. */
function acknowledgeWaiter(
  provider: cr.Provider,
  handlers: readonly lambda.Function[],
  queryInterval: Duration,
  props: Pick<PollingCustomResourceProps, "totalTimeout" | "waitsWhile">,
): void {
  Validations.of(provider).acknowledge(
    {
      id: "AwsSolutions-L1",
      reason: "CDK's Provider framework picks the runtime of its own functions; this stack's handlers run Node.js 22",
    },
    {
      id: "AwsSolutions-SF1",
      reason: `the Provider framework's waiter only calls the isComplete function every ${queryInterval.toSeconds()} s while ${props.waitsWhile}; every call is logged by the framework's functions`,
    },
    {
      id: "AwsSolutions-SF2",
      reason: `a waiter of at most ${props.totalTimeout.toMinutes()} minutes per deployment, with nothing to trace beyond the functions' own log lines`,
    },
    {
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "the Provider framework's own functions (a role each, apart from the handlers' so that no role invokes itself): the managed policy lets them write their log lines only",
    },
  );
  // The framework lets its functions and its waiter invoke the handlers and its own functions, versions included (`<arn>:*`).
  const stack = Stack.of(provider);
  const invoked = [
    ...handlers.map((fn) => fn.node.defaultChild as lambda.CfnFunction),
    ...provider.node.findAll().filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction),
  ].map((fn) => ({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn)}.Arn>:*]`,
    reason: "CDK's Provider framework invokes this function and its versions (`:*`), nothing else",
  }));
  Validations.of(provider).acknowledge(...invoked);
}
