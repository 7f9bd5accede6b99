import { Annotations, ArnFormat, CfnOutput, RemovalPolicy, Stack, StackProps, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ApiDefinition, lambdaInvocationUri, renderApiDefinition } from "../../authorizer/core/api-definition";
import { ApiRouteTree, DEFAULT_MAX_API_RESOURCES } from "../../authorizer/core/api-routes";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { InfraConfig } from "../config";
import { PolicyDirs } from "../policy-dirs";
import { AuthorizerFunction } from "../constructs/authorizer-function";
import { MlflowUserPool } from "../constructs/mlflow-user-pool";
import { buildDeployedUiConfig } from "../ui-config";

export interface RestApiGatewayStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly policySet: PolicySet;
  /**
   * Where `policySet` was read from: the authorizer's build reads the same files.
   * @default DEFAULT_POLICY_DIRS (policies/groups, policies/teams)
   */
  readonly policyDirs?: PolicyDirs;
  /** MLflow's VPC (the VPC link reaches it through `loadBalancer`). */
  readonly vpc: ec2.IVpc;
  /** MLflow's internal NLB, listening on port 80. */
  readonly loadBalancer: elbv2.INetworkLoadBalancer;
  /**
   * The API's "Resources per API" quota, the UI config's resource counted: past it, deeper path parts fold
   * into `{proxy+}` resources. API Gateway raises it per API only (after the first deploy); the whole
   * catalog, unfolded, needs about 490 resources.
   * @default DEFAULT_MAX_API_RESOURCES (300)
   */
  readonly maxApiResources?: number;
}

/**
 * What the access log records per request, as JSON: who called (`principalId` for the UI's users,
 * `userArn` for SigV4 callers), what they called, and why API Gateway refused it. Never a header,
 * token or body.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTimeEpoch",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  path: "$context.path",
  protocol: "$context.protocol",
  status: "$context.status",
  responseLength: "$context.responseLength",
  errorType: "$context.error.responseType",
  principalId: "$context.authorizer.principalId",
  username: "$context.authorizer.username",
  groups: "$context.authorizer.groups",
  userArn: "$context.identity.userArn",
  authorizeStatus: "$context.authorize.status",
  authorizeError: "$context.authorize.error",
  authorizerStatus: "$context.authorizer.status",
  authorizerError: "$context.authorizer.error",
  authorizerLatency: "$context.authorizer.latency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integration.error",
  integrationLatency: "$context.integration.latency",
  latency: "$context.responseLatency",
};

/** Every problem with the props, listed together. */
function propsProblems(props: RestApiGatewayStackProps): string[] {
  const problems: string[] = [];
  const { config, policySet } = props;
  if (!/^[A-Za-z0-9_]{1,128}$/.test(config.stageName))
    problems.push(`stageName "${config.stageName}" is not a valid stage name`);
  if (policySet.groups.size === 0) problems.push("the policies define no group");
  else if (policySet.callerGroups.size === 0) problems.push("the policies give no group to callers");
  if (!policySet.catalog.routes.some((r) => r.auth !== "none"))
    problems.push("the route catalog has no authenticated route");
  if (config.throttle.burstLimit < 1 || config.throttle.rateLimit < 1)
    problems.push("throttle limits must be positive");
  if (props.maxApiResources !== undefined && !(Number.isInteger(props.maxApiResources) && props.maxApiResources >= 2)) {
    problems.push(`maxApiResources must be an integer of at least 2, not ${props.maxApiResources}`);
  }
  return problems;
}

/**
 * MLflow's REST API: a REGIONAL API Gateway (Amplify's rewrites reach it from CloudFront) deployed from one
 * OpenAPI document, `renderApiDefinition` of the route catalog (the one `npm run api:generate` commits with
 * placeholders as policies/api-definition.json). SDK routes use SigV4 (the compiled group policies on the
 * callers' roles decide), UI routes the Lambda REQUEST authorizer (a Cognito access token's groups decide);
 * every operation is an HTTP proxy over a VPC link to the internal NLB. Public routes (the UI shell) are
 * Amplify's; the API's one unauthenticated operation is the shell's config, a MOCK that reaches nothing.
 */
export class RestApiGatewayStack extends Stack {
  public readonly api: apigw.SpecRestApi;
  /** The document the API is deployed from, CDK tokens in it (the NLB, the VPC link, the authorizer, the pool). */
  public readonly definition: ApiDefinition;
  /** The route catalog as API Gateway holds it: the document's paths. */
  public readonly tree: ApiRouteTree;
  public readonly stageName: string;
  public readonly vpcLink: apigw.VpcLink;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly groups: readonly cognito.CfnUserPoolGroup[];
  public readonly authorizerFunction: lambda.Function;
  /** API Gateway may invoke the authorizer function as one of this API's authorizers, and only so. */
  public readonly authorizerPermission: lambda.CfnPermission;
  public readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RestApiGatewayStackProps) {
    super(scope, id, props);
    const problems = propsProblems(props);
    if (problems.length > 0) throw new ConfigError(`RestApiGatewayStack:\n  ${problems.join("\n  ")}`);
    const { config, policySet } = props;
    this.stageName = config.stageName;

    const users = new MlflowUserPool(this, "Users", { groups: callerGroupDescriptions(policySet) });
    this.userPool = users.userPool;
    this.userPoolClient = users.userPoolClient;
    this.groups = users.groups;

    const authorizerFunction = new AuthorizerFunction(this, "Authorizer", {
      userPool: this.userPool,
      userPoolClient: this.userPoolClient,
      policySet,
      ...(props.policyDirs ? { policyDirs: props.policyDirs } : {}),
    });
    this.authorizerFunction = authorizerFunction.function;

    this.accessLogGroup = new logs.LogGroup(this, "AccessLogs", {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.vpcLink = new apigw.VpcLink(this, "VpcLink", {
      description: "mlflow-gate: API Gateway to MLflow's internal NLB",
      targets: [props.loadBalancer],
    });

    const restApiName = `mlflow-gate-${this.stackName}`;
    const rendered = renderApiDefinition(policySet.catalog.routes, {
      title: restApiName,
      version: policySet.catalog.mlflowVersion,
      upstreamHost: props.loadBalancer.loadBalancerDnsName,
      vpcLinkId: this.vpcLink.vpcLinkId,
      authorizerUri: lambdaInvocationUri(this.partition, this.region, this.authorizerFunction.functionArn),
      uiConfigJson: this.toJsonString(
        buildDeployedUiConfig({
          userPoolId: this.userPool.userPoolId,
          userPoolClientId: this.userPoolClient.userPoolClientId,
          region: this.region,
          policySet,
        }),
      ),
      maxResources: props.maxApiResources ?? DEFAULT_MAX_API_RESOURCES,
      // With team files, MLflow's routes live under /ws/{workspace}/ and the team reaches the guard as a header.
      workspaces: policySet.teams !== undefined,
    });
    this.definition = rendered.definition;
    this.tree = rendered.tree;

    this.api = new apigw.SpecRestApi(this, "Api", {
      restApiName,
      description: "mlflow-gate: MLflow's REST API (AWS_IAM for the SDK, Lambda authorizer for the UI)",
      // CloudFormation resolves the tokens in it; the deployment's logical id hashes the whole RestApi, the
      // document included, so a changed document is a new deployment of the stage.
      apiDefinition: apigw.ApiDefinition.fromInline(this.definition),
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // An API imported from a document is EDGE unless the import says otherwise (ImportRestApi's
      // `endpointConfigurationTypes`); the property above is reported ignored on creation from a Body
      // (serverless/examples#516), so the import says it too.
      parameters: { endpointConfigurationTypes: "REGIONAL" },
      policy: resourcePolicy(config.allowedSourceCidrs),
      // The document's binary media types say the same: a pure proxy, artifacts are binary, and no payload may
      // be re-encoded on the way.
      binaryMediaTypes: [...this.definition["x-amazon-apigateway-binary-media-types"]],
      // Access and execution logs need the account's API Gateway CloudWatch role; retained, since
      // it is one per account and region and other APIs may rely on it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        // Errors only, and never request or response data (it would log tokens and bodies).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: false,
        throttlingRateLimit: config.throttle.rateLimit,
        throttlingBurstLimit: config.throttle.burstLimit,
      },
    });

    // The document's authorizer has no construct of its own: its id is API Gateway's, hence `authorizers/*`.
    this.authorizerPermission = new lambda.CfnPermission(this, "AuthorizerInvokePermission", {
      action: "lambda:InvokeFunction",
      functionName: this.authorizerFunction.functionArn,
      principal: "apigateway.amazonaws.com",
      sourceAccount: this.account,
      sourceArn: this.formatArn({
        service: "execute-api",
        resource: this.api.restApiId,
        resourceName: "authorizers/*",
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    });

    this.acknowledgeFindings();
    if (config.allowedSourceCidrs.length > 0)
      Annotations.of(this).addWarningV2(
        "mlflow-gate:allowedSourceCidrs",
        "allowedSourceCidrs refuses every other source address, Amplify's proxy (CloudFront's addresses) and Studio's NAT gateways included: the UI and Studio get 403 unless their addresses are listed",
      );

    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "The stage's invoke URL" });
    new CfnOutput(this, "UserPoolId", { value: this.userPool.userPoolId });
    new CfnOutput(this, "UserPoolClientId", { value: this.userPoolClient.userPoolClientId });
  }

  /**
   * cdk-nag findings that are decisions, each with the reason. Its method checks (APIG4, COG4) read
   * AWS::ApiGateway::Method resources, which the document replaces: the stack's tests check the same of the
   * document (every operation has SigV4 or the authorizer, but the UI config's MOCK).
   */
  private acknowledgeFindings(): void {
    Validations.of(this.api).acknowledge(
      {
        id: "AwsSolutions-APIG2",
        reason:
          "The API is a pass-through proxy to MLflow, which validates its own request bodies; API Gateway only routes by method and path, and every path parameter is required by the resource path itself.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "Every operation that reaches MLflow requires SigV4 or a Cognito token (the one other is the login shell's config, a MOCK), the stage is throttled, and sources can be limited by allowedSourceCidrs. AWS managed WAF rule sets block legitimate MLflow traffic (request bodies over 8 KB: batch logging, artifacts); a WebACL tuned for MLflow can be associated later without changing this stack.",
      },
    );
    const cloudWatchRole = this.api.node.tryFindChild("CloudWatchRole");
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "The account-wide role API Gateway assumes to write access and execution logs of every API in the region; the AWS managed policy is the documented one and only grants CloudWatch Logs writes.",
      });
    }
  }
}

/**
 * Each caller group (a Cognito group) with a description: a group file's own, or the tiers a team group holds
 * in each workspace (`team-a: readers`).
 */
export function callerGroupDescriptions(policySet: PolicySet): Map<string, string> {
  return new Map(
    [...policySet.callerGroups].sort().map((name): [string, string] => {
      const file = policySet.teams?.isGlobal(name) !== false ? policySet.groups.get(name) : undefined;
      if (file) return [name, file.description];
      const grants = [...(policySet.teams?.grants([name]) ?? [])].map(([w, tiers]) => `${w}: ${tiers.join(", ")}`);
      return [name, `mlflow-gate team group; tiers by workspace (/ws/<team>/): ${grants.join("; ")}`];
    }),
  );
}

/**
 * The API's resource policy. Only a Deny: an Allow for `*` here would, for callers of this account,
 * stand in for the IAM policy or the authorizer's answer (API Gateway allows when either allows), and
 * so let any role of the account call any SDK route. Without source CIDRs there is no policy at all.
 */
function resourcePolicy(allowedSourceCidrs: readonly string[]): iam.PolicyDocument | undefined {
  if (allowedSourceCidrs.length === 0) return undefined;
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: "DenyOutsideAllowedSourceCidrs",
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ["execute-api:Invoke"],
        resources: ["execute-api:/*"],
        conditions: { NotIpAddress: { "aws:SourceIp": [...allowedSourceCidrs] } },
      }),
    ],
  });
}
