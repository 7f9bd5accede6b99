import { App, Stack } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import { Template } from "aws-cdk-lib/assertions";
import { buildDeployedUiConfig, UiConfigRoute } from "../../../infra/constructs/ui-config-route";
import { parseUiConfig } from "../../../ui-patch/shell/config";
import { CfnProperties } from "../support/template";

describe("buildDeployedUiConfig", () => {
  test("is a config the login shell accepts, with SRP and Cognito's own endpoint", () => {
    const config = buildDeployedUiConfig({
      userPoolId: "eu-west-1_AbC123",
      userPoolClientId: "client123",
      region: "eu-west-1",
    });
    expect(parseUiConfig(JSON.parse(JSON.stringify(config)))).toEqual({
      userPoolId: "eu-west-1_AbC123",
      userPoolClientId: "client123",
      region: "eu-west-1",
      authFlow: "USER_SRP_AUTH",
    });
    expect(config).not.toHaveProperty("userPoolEndpoint");
  });
});

describe("UiConfigRoute", () => {
  test("answers literal ids as JSON, never reaching an integration backend", () => {
    const stack = new Stack(new App(), "S", { env: { account: "123456789012", region: "eu-west-1" } });
    const api = new apigw.RestApi(stack, "Api");
    new UiConfigRoute(stack, "UiConfig", { api, userPoolId: "eu-west-1_AbC123", userPoolClientId: "client123" });
    const method = Object.values(Template.fromStack(stack).findResources("AWS::ApiGateway::Method"))[0] as {
      Properties: CfnProperties;
    };
    const response = method.Properties.Integration.IntegrationResponses[0];
    expect(JSON.parse(response.ResponseTemplates["application/json"])).toEqual({
      userPoolId: "eu-west-1_AbC123",
      userPoolClientId: "client123",
      region: "eu-west-1",
      authFlow: "USER_SRP_AUTH",
    });
    expect(method.Properties.Integration).not.toHaveProperty("Uri");
    // The API's binaryMediaTypes are */*: a MOCK without it answers 500 "Unable to transform request".
    expect(method.Properties.Integration.ContentHandling).toBe("CONVERT_TO_TEXT");
    expect(response.ResponseParameters).toMatchObject({
      "method.response.header.Content-Type": "'application/json'",
      "method.response.header.X-Content-Type-Options": "'nosniff'",
    });
  });
});
