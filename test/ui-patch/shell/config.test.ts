import { parseUiConfig } from "../../../ui-patch/shell/config";

test("a local config keeps its endpoint", () => {
  const config = {
    userPoolId: "local_1",
    userPoolClientId: "c",
    region: "us-east-1",
    authFlow: "USER_PASSWORD_AUTH",
    userPoolEndpoint: "http://127.0.0.1:9229",
  };
  expect(parseUiConfig(config)).toEqual(config);
});

test("every problem is listed at once", () => {
  expect(() => parseUiConfig({ authFlow: "CUSTOM_AUTH", userPoolEndpoint: "ftp://x" })).toThrow(
    "invalid /mlflow-gate-ui.json: userPoolId is missing; userPoolClientId is missing; region is missing; authFlow must be USER_SRP_AUTH or USER_PASSWORD_AUTH; userPoolEndpoint must be an http(s) URL",
  );
});

test("anything but an object is refused", () => {
  expect(() => parseUiConfig("x")).toThrow(/userPoolId is missing/);
});
