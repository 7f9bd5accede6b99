import { loadPolicySet } from "../../authorizer/load-policies";
import { compileApiModel, HttpProxyIntegration } from "../../gateway/api-model";
import { newExtendedRequestId, RequestContext, resolveMapping, sourceIpOf } from "../../gateway/integration-request";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { testApi } from "./support/test-gateway";

const api = compileApiModel(testApi(loadPolicySet(CATALOG_FILE, GROUPS_DIR), new URL("http://127.0.0.1:5000")));

const CONTEXT: RequestContext = {
  requestId: "req-1",
  extendedRequestId: "AbCdEfGhIjKlMnO=",
  httpMethod: "POST",
  path: "/api/2.0/mlflow/runs/create",
  identity: { userArn: "arn:aws:iam::000000000000:user/mlflow-admin", sourceIp: "203.0.113.9" },
  authorizer: { principalId: "sub-1", username: "alice", groups: "admins,readers" },
};

describe("resolveMapping", () => {
  test("reads static values and context variables, and nothing else", () => {
    expect(resolveMapping("'(iam)'", CONTEXT)).toBe("(iam)");
    expect(resolveMapping("''", CONTEXT)).toBe("");
    expect(resolveMapping("context.identity.userArn", CONTEXT)).toBe(CONTEXT.identity?.userArn);
    expect(resolveMapping("context.authorizer.groups", CONTEXT)).toBe("admins,readers");
    expect(resolveMapping("context.extendedRequestId", CONTEXT)).toBe("AbCdEfGhIjKlMnO=");
    expect(resolveMapping("context.identity.sourceIp", CONTEXT)).toBe("203.0.113.9");
    expect(resolveMapping("context.authorizer.nothing", CONTEXT)).toBeUndefined();
    expect(resolveMapping("context.identity", CONTEXT)).toBeUndefined();
    expect(resolveMapping("method.request.header.x", CONTEXT)).toBeUndefined();
  });

  test("reads a path parameter of the method request, and none it does not have", () => {
    const params = { workspace: "team-a", proxy: "a/b" };
    expect(resolveMapping("method.request.path.workspace", CONTEXT, params)).toBe("team-a");
    expect(resolveMapping("method.request.path.proxy", CONTEXT, params)).toBe("a/b");
    expect(resolveMapping("method.request.path.other", CONTEXT, params)).toBeUndefined();
    expect(resolveMapping("method.request.path.toString", CONTEXT, params)).toBeUndefined();
    expect(resolveMapping("method.request.path.workspace", CONTEXT)).toBeUndefined();
  });
});

/** The identity headers the API definition maps for a method of a surface, with their values for CONTEXT. */
function mappedIdentityHeaders(surface: "iam" | "cognito", context: RequestContext): [string, string][] {
  const path = surface === "iam" ? "/api/2.0/mlflow/runs/create" : "/ajax-api/2.0/mlflow/runs/create";
  const integration = api.resolve("POST", path)?.method.integration as HttpProxyIntegration;
  return integration.headers
    .filter(([name]) => name.startsWith("x-mlflow-gate-"))
    .flatMap(([name, expression]): [string, string][] => {
      const value = resolveMapping(expression, context);
      return value === undefined ? [] : [[name, value]];
    });
}

describe("the definition's identity mappings", () => {
  test("an IAM request carries API Gateway's own request id, the caller's ARN, (iam), the method and path it authorized, and the source address", () => {
    expect(Object.fromEntries(mappedIdentityHeaders("iam", CONTEXT))).toEqual({
      "x-mlflow-gate-request-id": "AbCdEfGhIjKlMnO=",
      "x-mlflow-gate-auth": "iam",
      "x-mlflow-gate-principal": CONTEXT.identity?.userArn,
      "x-mlflow-gate-username": CONTEXT.identity?.userArn,
      "x-mlflow-gate-groups": "(iam)",
      "x-mlflow-gate-method": "POST",
      "x-mlflow-gate-path": "/api/2.0/mlflow/runs/create",
      "x-mlflow-gate-source-ip": "203.0.113.9",
    });
  });

  // AWS: "Clients can override this request ID. Use $context.extendedRequestId for a unique request ID
  // that API Gateway generates." The audit trail's correlation id is the one no client sets.
  test("the request id header is the extended request id on both surfaces, never context.requestId", () => {
    for (const surface of ["iam", "cognito"] as const) {
      const headers = Object.fromEntries(mappedIdentityHeaders(surface, CONTEXT));
      expect(headers["x-mlflow-gate-request-id"]).toBe(CONTEXT.extendedRequestId);
      expect(headers["x-mlflow-gate-source-ip"]).toBe("203.0.113.9");
    }
  });

  test("a variable without a value maps no header, as API Gateway skips it", () => {
    const headers = mappedIdentityHeaders("cognito", { ...CONTEXT, authorizer: { principalId: "sub-1" } });
    const names = headers.map(([n]) => n);
    expect(names).toContain("x-mlflow-gate-principal");
    expect(names).not.toContain("x-mlflow-gate-username");
    expect(names).not.toContain("x-mlflow-gate-groups");
  });
});

describe("newExtendedRequestId", () => {
  test("looks like API Gateway's (16 characters of base64 ending in '=') and is new each time", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newExtendedRequestId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9+/]{15}=$/);
  });
});

describe("sourceIpOf", () => {
  test("is the socket's address, an IPv4 one without the dual-stack ::ffff: form", () => {
    expect(sourceIpOf({ remoteAddress: "203.0.113.9" })).toBe("203.0.113.9");
    expect(sourceIpOf({ remoteAddress: "::ffff:127.0.0.1" })).toBe("127.0.0.1");
    expect(sourceIpOf({ remoteAddress: "2001:db8::1" })).toBe("2001:db8::1");
    expect(sourceIpOf({ remoteAddress: undefined })).toBeUndefined();
  });
});
