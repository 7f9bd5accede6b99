import { mappedIdentityHeaders, RequestContext, resolveMapping } from "../../gateway/integration-request";

const CONTEXT: RequestContext = {
  requestId: "req-1",
  httpMethod: "POST",
  path: "/api/2.0/mlflow/runs/create",
  identity: { userArn: "arn:aws:iam::000000000000:user/mlflow-admin" },
  authorizer: { principalId: "sub-1", username: "alice", groups: "admins,readers" },
};

describe("resolveMapping", () => {
  test("reads static values and context variables, and nothing else", () => {
    expect(resolveMapping("'(iam)'", CONTEXT)).toBe("(iam)");
    expect(resolveMapping("''", CONTEXT)).toBe("");
    expect(resolveMapping("context.identity.userArn", CONTEXT)).toBe(CONTEXT.identity?.userArn);
    expect(resolveMapping("context.authorizer.groups", CONTEXT)).toBe("admins,readers");
    expect(resolveMapping("context.authorizer.nothing", CONTEXT)).toBeUndefined();
    expect(resolveMapping("context.identity", CONTEXT)).toBeUndefined();
    expect(resolveMapping("method.request.header.x", CONTEXT)).toBeUndefined();
  });
});

describe("mappedIdentityHeaders", () => {
  test("an IAM request carries the caller's ARN, (iam), the method and the path it authorized", () => {
    expect(Object.fromEntries(mappedIdentityHeaders("iam", CONTEXT))).toEqual({
      "x-mlflow-gate-request-id": "req-1",
      "x-mlflow-gate-auth": "iam",
      "x-mlflow-gate-principal": CONTEXT.identity?.userArn,
      "x-mlflow-gate-username": CONTEXT.identity?.userArn,
      "x-mlflow-gate-groups": "(iam)",
      "x-mlflow-gate-method": "POST",
      "x-mlflow-gate-path": "/api/2.0/mlflow/runs/create",
    });
  });

  test("a variable without a value maps no header, as API Gateway skips it", () => {
    const headers = mappedIdentityHeaders("cognito", { ...CONTEXT, authorizer: { principalId: "sub-1" } });
    const names = headers.map(([n]) => n);
    expect(names).toContain("x-mlflow-gate-principal");
    expect(names).not.toContain("x-mlflow-gate-username");
    expect(names).not.toContain("x-mlflow-gate-groups");
  });
});
