import { TEST_STAGE } from "./support/test-gateway";
import { ANSWERS, deniedAnswer, iamPolicyDenied } from "../../gateway/api-responses";

describe("iamPolicyDenied: an AWS_IAM method's refusal in IAM's words", () => {
  const methodArn = { ...TEST_STAGE, account: "123456789012", method: "POST", path: "/api/2.0/mlflow/runs/delete" };
  const caller = "arn:aws:sts::123456789012:assumed-role/mlflow-reader/nightly";

  test("names the caller, the action and the method ARN with the account masked, under `Message`", () => {
    expect(iamPolicyDenied(caller, methodArn, false)).toEqual({
      status: 403,
      errorType: "AccessDeniedException",
      messageKey: "Message",
      message: `User: ${caller} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:${TEST_STAGE.region}:********9012:${TEST_STAGE.apiId}/${TEST_STAGE.stage}/POST/api/2.0/mlflow/runs/delete`,
    });
  });

  test("says so when a Deny statement matched", () => {
    expect(iamPolicyDenied(caller, methodArn, true).message).toMatch(/ with an explicit deny$/);
  });
});

test("the authorizer's denials keep API Gateway's own `message`", () => {
  expect(deniedAnswer({ decision: "deny", reason: "no-allow" } as never)).toBe(ANSWERS.accessDenied);
  expect(ANSWERS.accessDenied).not.toHaveProperty("messageKey");
});
