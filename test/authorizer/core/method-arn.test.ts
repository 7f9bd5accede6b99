import { MethodArnError } from "../../../authorizer/core/errors";
import {
  formatMethodArn,
  parseMethodArn,
  stageArnPrefix,
  stageRelativeResource,
} from "../../../authorizer/core/method-arn";

describe("parseMethodArn", () => {
  test("reads every part, keeping the path's leading slash", () => {
    const arn = parseMethodArn(
      "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/ajax-api/2.0/mlflow/runs/search",
    );
    expect(arn).toEqual({
      partition: "aws",
      region: "eu-west-1",
      account: "123456789012",
      apiId: "abcdef1234",
      stage: "prod",
      method: "POST",
      path: "/ajax-api/2.0/mlflow/runs/search",
    });
    expect(stageArnPrefix(arn)).toBe("arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/");
    expect(formatMethodArn(arn)).toBe(
      "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/ajax-api/2.0/mlflow/runs/search",
    );
  });

  test("the root path and other partitions", () => {
    expect(parseMethodArn("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/GET/").path).toBe("/");
    expect(parseMethodArn("arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:abc/dev/GET/x").partition).toBe(
      "aws-us-gov",
    );
  });

  test.each([
    ["not a string", 42],
    ["empty", ""],
    ["wrong service", "arn:aws:lambda:us-east-1:123456789012:abc/prod/GET/x"],
    ["short account", "arn:aws:execute-api:us-east-1:1234:abc/prod/GET/x"],
    ["no verb", "arn:aws:execute-api:us-east-1:123456789012:abc/prod"],
    ["lower-case verb", "arn:aws:execute-api:us-east-1:123456789012:abc/prod/get/x"],
    ["bad region", "arn:aws:execute-api:nowhere:123456789012:abc/prod/GET/x"],
    ["too long", `arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/${"x".repeat(5000)}`],
  ])("rejects %s", (_name, input) => {
    expect(() => parseMethodArn(input)).toThrow(MethodArnError);
  });
});

describe("formatMethodArn and stageArnPrefix", () => {
  test("write what parseMethodArn reads, placeholders and wildcards included", () => {
    // Prepare
    const placeholders = {
      partition: "aws",
      region: "${AWS::Region}",
      account: "${AWS::AccountId}",
      apiId: "${ApiId}",
      stage: "*",
    };
    const arn = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/DELETE/a/b:c";
    // Act, Assess
    expect(stageArnPrefix(placeholders)).toBe("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*/");
    expect(formatMethodArn(parseMethodArn(arn))).toBe(arn);
  });
});

describe("stageRelativeResource", () => {
  test("drops the stage prefix of an ARN or ARN pattern, and leaves anything else alone", () => {
    expect(stageRelativeResource("arn:aws:execute-api:*:*:mlflowgate0/*/POST/ajax-api/2.0/mlflow/runs/search")).toBe(
      "POST/ajax-api/2.0/mlflow/runs/search",
    );
    expect(stageRelativeResource("arn:aws:execute-api:us-east-1:123456789012:mlflowgate0/prod/*")).toBe("*");
    expect(stageRelativeResource("NotResource")).toBe("NotResource");
  });
});
