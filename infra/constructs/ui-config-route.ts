import { Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import { Construct } from "constructs";
import { UI_CONFIG_PATH, UiConfig } from "../../ui-patch/shell/config";

export interface UiConfigRouteProps {
  readonly api: apigw.RestApi;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** @default the stack's region */
  readonly region?: string;
}

/** The login shell's config in AWS: Cognito's own endpoint, with SRP (the password never leaves the browser). */
export function buildDeployedUiConfig(
  props: Pick<UiConfigRouteProps, "userPoolId" | "userPoolClientId"> & { readonly region: string },
): UiConfig {
  return {
    userPoolId: props.userPoolId,
    userPoolClientId: props.userPoolClientId,
    region: props.region,
    authFlow: "USER_SRP_AUTH",
  };
}

/**
 * `GET /mlflow-gate-ui.json` on the API: a MOCK integration that answers the shell's config, with the
 * pool and client ids CloudFormation resolves at deploy time. The UI build stays one zip for every
 * deployment, and the config cannot go stale: it changes with the pool, in the same deployment.
 */
export class UiConfigRoute extends Construct {
  public readonly resource: apigw.Resource;
  public readonly method: apigw.Method;

  constructor(scope: Construct, id: string, props: UiConfigRouteProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const body = stack.toJsonString(buildDeployedUiConfig({ ...props, region: props.region ?? stack.region }));
    this.resource = props.api.root.addResource(UI_CONFIG_PATH.slice(1));
    const headers = {
      "method.response.header.Content-Type": "'application/json'",
      // Short: a new pool or client reaches open browsers within minutes.
      "method.response.header.Cache-Control": "'max-age=300'",
      "method.response.header.X-Content-Type-Options": "'nosniff'",
    };
    const integration = new apigw.MockIntegration({
      // The API takes every payload as binary (`binaryMediaTypes: ["*/*"]`, for artifacts): without this, the
      // MOCK cannot map the request to its template and API Gateway answers 500 ("Unable to transform request").
      contentHandling: apigw.ContentHandling.CONVERT_TO_TEXT,
      passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      requestTemplates: { "application/json": '{"statusCode": 200}' },
      integrationResponses: [
        { statusCode: "200", responseTemplates: { "application/json": body }, responseParameters: headers },
      ],
    });
    this.method = this.resource.addMethod("GET", integration, {
      authorizationType: apigw.AuthorizationType.NONE,
      methodResponses: [
        { statusCode: "200", responseParameters: Object.fromEntries(Object.keys(headers).map((h) => [h, true])) },
      ],
    });
    Validations.of(this.method).acknowledge(
      {
        id: "AwsSolutions-APIG4",
        reason:
          "The login page reads this before anyone is signed in; it holds only the user pool id, the app client id and the region, which every Cognito sign-in request carries in the clear. It is a MOCK integration: nothing behind it is reachable.",
      },
      {
        id: "AwsSolutions-COG4",
        reason:
          "Public by design (see AwsSolutions-APIG4): the sign-in configuration must be readable before sign-in. A MOCK integration reaches no backend.",
      },
    );
  }
}
