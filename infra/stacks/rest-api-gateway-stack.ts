import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { InfraConfig } from "../config";
import { AuthorizerFunction } from "../constructs/authorizer-function";
import { DEFAULT_MAX_API_RESOURCES } from "../../authorizer/core/api-routes";
import { CatalogApiRoutes } from "../constructs/catalog-api-routes";
import { MlflowUserPool } from "../constructs/mlflow-user-pool";
import { UiConfigRoute } from "../constructs/ui-config-route";

export interface RestApiGatewayStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly policySet: PolicySet;
  /** MLflow's VPC (the VPC link reaches it through `loadBalancer`). */
  readonly vpc: ec2.IVpc;
  /** MLflow's internal NLB, listening on port 80. */
  readonly loadBalancer: elbv2.INetworkLoadBalancer;
  /**
   * The API's "Resources per API" quota: past it, deeper path parts fold into `{proxy+}` resources.
   * API Gateway raises it per API only (after the first deploy); the whole catalog needs about 480
   * resources and, with its methods, more than one CloudFormation stack holds.
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
 * MLflow's REST API: a REGIONAL API Gateway (Amplify's rewrites reach it from CloudFront) whose
 * resources come from the route catalog. SDK routes use AWS_IAM (the compiled group policies on the
 * callers' roles decide), UI routes the Lambda authorizer (a Cognito access token's groups decide);
 * every method is an HTTP proxy over a VPC link to the internal NLB. Public routes (the UI shell)
 * are Amplify's; the API's one unauthenticated method is the shell's config (`UiConfigRoute`), a MOCK
 * integration that reaches nothing.
 */
export class RestApiGatewayStack extends Stack {
  public readonly api: apigw.RestApi;
  public readonly stageName: string;
  public readonly vpcLink: apigw.VpcLink;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly groups: readonly cognito.CfnUserPoolGroup[];
  public readonly authorizerFunction: lambda.Function;
  public readonly authorizer: apigw.RequestAuthorizer;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly routes: CatalogApiRoutes;
  /** `GET /mlflow-gate-ui.json`: the login shell's config, the one method without authorization. */
  public readonly uiConfig: UiConfigRoute;

  constructor(scope: Construct, id: string, props: RestApiGatewayStackProps) {
    super(scope, id, props);
    const problems = propsProblems(props);
    if (problems.length > 0) throw new ConfigError(`RestApiGatewayStack:\n  ${problems.join("\n  ")}`);
    const { config, policySet } = props;
    this.stageName = config.stageName;

    const users = new MlflowUserPool(this, "Users", { groups: policySet.groups });
    this.userPool = users.userPool;
    this.userPoolClient = users.userPoolClient;
    this.groups = users.groups;

    const authorizerFunction = new AuthorizerFunction(this, "Authorizer", {
      userPool: this.userPool,
      userPoolClient: this.userPoolClient,
      policySet,
    });
    this.authorizerFunction = authorizerFunction.function;

    this.accessLogGroup = new logs.LogGroup(this, "AccessLogs", {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new apigw.RestApi(this, "Api", {
      restApiName: `mlflow-gate-${this.stackName}`,
      description: "mlflow-gate: MLflow's REST API (AWS_IAM for the SDK, Lambda authorizer for the UI)",
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      policy: resourcePolicy(config.allowedSourceCidrs),
      // A pure proxy: artifacts are binary, and no payload may be re-encoded on the way.
      binaryMediaTypes: ["*/*"],
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

    this.authorizer = new apigw.RequestAuthorizer(this, "RequestAuthorizer", {
      authorizerName: "mlflow-gate-cognito",
      handler: this.authorizerFunction,
      identitySources: [apigw.IdentitySource.header("Authorization")],
      resultsCacheTtl: Duration.seconds(API_GATEWAY.authorizerCacheTtlSeconds),
    });

    this.vpcLink = new apigw.VpcLink(this, "VpcLink", {
      description: "mlflow-gate: API Gateway to MLflow's internal NLB",
      targets: [props.loadBalancer],
    });

    this.routes = new CatalogApiRoutes(this, "Routes", {
      api: this.api,
      routes: policySet.catalog.routes,
      vpcLink: this.vpcLink,
      upstreamHost: props.loadBalancer.loadBalancerDnsName,
      authorizer: this.authorizer,
      // One resource of the quota is the UI config's.
      maxResources: (props.maxApiResources ?? DEFAULT_MAX_API_RESOURCES) - 1,
    });
    this.uiConfig = new UiConfigRoute(this, "UiConfig", {
      api: this.api,
      userPoolId: this.userPool.userPoolId,
      userPoolClientId: this.userPoolClient.userPoolClientId,
    });

    this.acknowledgeFindings();

    new CfnOutput(this, "ApiUrl", { value: this.api.url, description: "The stage's invoke URL" });
    new CfnOutput(this, "UserPoolId", { value: this.userPool.userPoolId });
    new CfnOutput(this, "UserPoolClientId", { value: this.userPoolClient.userPoolClientId });
  }

  /** cdk-nag findings that are decisions, each with the reason. */
  private acknowledgeFindings(): void {
    Validations.of(this.api).acknowledge(
      {
        id: "AwsSolutions-COG4",
        reason:
          "Every method that reaches MLflow is authorized, never NONE (the one NONE method is the login shell's config, a MOCK integration acknowledged on its own): SDK routes with AWS_IAM (SigV4; the callers' compiled group policies decide per route), UI routes with a Lambda REQUEST authorizer that verifies the Cognito access token (signature, issuer, client id, token_use) and returns the compiled policy of the user's groups. A COGNITO_USER_POOLS authorizer could not map groups to per-route permissions.",
      },
      {
        id: "AwsSolutions-APIG2",
        reason:
          "The API is a pass-through proxy to MLflow, which validates its own request bodies; API Gateway only routes by method and path, and every path parameter is required by the resource path itself.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "Every method requires SigV4 or a Cognito token, the stage is throttled, and sources can be limited by allowedSourceCidrs. AWS managed WAF rule sets block legitimate MLflow traffic (request bodies over 8 KB: batch logging, artifacts); a WebACL tuned for MLflow can be associated later without changing this stack.",
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
