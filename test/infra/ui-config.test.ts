import { buildDeployedUiConfig } from "../../infra/ui-config";
import { parseUiConfig } from "../../ui-patch/shell/config";

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
