import {
  executeApiPathPrefix,
  IDENTITY_HEADER_PREFIX,
  IDENTITY_HEADERS,
  IDENTITY_MAPPINGS,
  splitWorkspacePath,
  isLoopbackHost,
  parseCallerArn,
  PRINCIPAL_ARN,
  REGION,
  ROLE_ARN,
  USER_POOL_ID,
} from "../../../authorizer/core/contract";
import { checkAuthorizedRequest } from "../../../guard/authorized-request";

describe("the caller ARNs API Gateway reports for SigV4", () => {
  test("a user and an assumed-role session read into their parts, in any partition", () => {
    expect(parseCallerArn("arn:aws:iam::123456789012:user/mlflow-admin")).toEqual({
      kind: "user",
      account: "123456789012",
      name: "mlflow-admin",
    });
    expect(parseCallerArn("arn:aws-cn:iam::123456789012:user/team/alice")).toMatchObject({
      kind: "user",
      name: "alice",
    });
    expect(parseCallerArn("arn:aws:sts::123456789012:assumed-role/SageMakerRole/SageMaker")).toEqual({
      kind: "assumed-role",
      account: "123456789012",
      role: "SageMakerRole",
      session: "SageMaker",
    });
  });

  test("anything else is not a caller ARN", () => {
    for (const arn of [
      "",
      "mlflow-admin",
      "arn:aws:iam::123456789012:role/mlflow-admin",
      "arn:aws:sts::123456789012:assumed-role/only-role",
      "arn:aws:sts::12345:assumed-role/r/s",
      "arn:aws:iam::123456789012:user/",
      "arn:aws:sts::123456789012:assumed-role/r/s\n",
    ]) {
      expect(parseCallerArn(arn)).toBeUndefined();
    }
  });
});

describe("AWS name patterns", () => {
  test("accept AWS's forms and refuse near misses", () => {
    expect(REGION.test("ap-southeast-5")).toBe(true);
    expect(REGION.test("us-east-1 ")).toBe(false);
    expect(USER_POOL_ID.exec("eu-west-1_AbC123")?.[1]).toBe("eu-west-1");
    expect(USER_POOL_ID.test("eu-west-1-AbC123")).toBe(false);
    expect(ROLE_ARN.exec("arn:aws:iam::123456789012:role/path/to/reader")?.slice(1)).toEqual([
      "123456789012",
      "reader",
    ]);
    expect(PRINCIPAL_ARN.test("arn:aws:iam::123456789012:root")).toBe(true);
    expect(PRINCIPAL_ARN.test("arn:aws:iam::123456789012:group/x")).toBe(false);
  });

  test("loopback is 127.0.0.0/8, localhost and [::1], nothing else", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "LOCALHOST", "[::1]"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["10.0.0.1", "127.0.0.1.example.com", "localhost.example.com", "0.0.0.0"]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});

describe("the identity headers", () => {
  test("are lower case, share one prefix, and every surface maps every one of them but the team's", () => {
    for (const name of Object.values(IDENTITY_HEADERS)) {
      expect(name).toBe(name.toLowerCase());
      expect(name.startsWith(IDENTITY_HEADER_PREFIX)).toBe(true);
    }
    for (const mapping of Object.values(IDENTITY_MAPPINGS)) {
      expect(Object.keys(mapping).sort()).toEqual(
        Object.keys(IDENTITY_HEADERS)
          .filter((f) => f !== "workspace")
          .sort(),
      );
    }
  });

  test("a team path is read only with a team name as written; MLflow's path keeps its leading slash", () => {
    expect(splitWorkspacePath("/ws/team-a/api/2.0/mlflow/runs/get")).toEqual({
      workspace: "team-a",
      rest: "/api/2.0/mlflow/runs/get",
    });
    for (const path of ["/ws/team-a", "/ws//api", "/ws/Team-A/api", "/ws/team%2Da/api", "/wsx/a/b", "/api/ws/a/b"])
      expect(splitWorkspacePath(path)).toBeUndefined();
  });

  test("SigV4 callers are named by their ARN with (iam) for groups; Cognito users by the authorizer's answer", () => {
    expect(IDENTITY_MAPPINGS.iam).toMatchObject({
      principal: "context.identity.userArn",
      groups: "'(iam)'",
      auth: "'iam'",
    });
    expect(IDENTITY_MAPPINGS.cognito).toMatchObject({
      principal: "context.authorizer.principalId",
      username: "context.authorizer.username",
      groups: "context.authorizer.groups",
    });
  });

  // AWS: "Clients can override this request ID. Use $context.extendedRequestId for a unique request ID
  // that API Gateway generates." The source address is the connection's, which no header changes.
  test("the request id is the one API Gateway generates, and the source address is the connection's, on both surfaces", () => {
    for (const mapping of Object.values(IDENTITY_MAPPINGS)) {
      expect(mapping.requestId).toBe("context.extendedRequestId");
      expect(mapping.sourceIp).toBe("context.identity.sourceIp");
    }
  });
});

describe("the stage in context.path on the execute-api host", () => {
  test("is the prefix the guard strips before comparing with the path MLflow gets", () => {
    const prefix = executeApiPathPrefix("prod");
    expect(prefix).toBe("/prod");
    const received = { method: "GET", path: "/api/2.0/mlflow/experiments/get" };
    expect(checkAuthorizedRequest(received, { method: "GET", path: `${prefix}${received.path}` }, prefix)).toEqual({
      ok: true,
    });
    expect(checkAuthorizedRequest(received, { method: "GET", path: received.path }, prefix)).toEqual({
      ok: false,
      problem: "path-mismatch",
    });
  });
});
