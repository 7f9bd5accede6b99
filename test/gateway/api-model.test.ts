import { ApiDefinition } from "../../authorizer/core/api-definition";
import { loadPolicySet } from "../../authorizer/load-policies";
import {
  ApiDefinitionError,
  compileApiModel,
  HttpProxyIntegration,
  integrationRequestPath,
  isBinaryMediaType,
  MockIntegration,
} from "../../gateway/api-model";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { testApi } from "./support/test-gateway";

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const definition = testApi(policySet, new URL("http://127.0.0.1:5000"), { integrationTimeoutMs: 1234 });
const api = compileApiModel(definition);

/** A definition with one operation changed, to see what the model makes of it. */
function withOperation(path: string, verb: string, change: (op: Record<string, unknown>) => Record<string, unknown>) {
  const copy = JSON.parse(JSON.stringify(definition)) as { paths: Record<string, Record<string, unknown>> };
  copy.paths[path]![verb] = change(copy.paths[path]![verb] as Record<string, unknown>);
  return copy as unknown as ApiDefinition;
}

describe("compileApiModel over the catalog's definition", () => {
  test("every operation is a method; security and integration as the document declares them", () => {
    // Assess
    const count = Object.values(definition.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(api.methodCount).toBe(count);
    const sdk = api.resolve("POST", "/api/2.0/mlflow/runs/log-batch");
    expect(sdk?.method.surface).toBe("iam");
    const integration = sdk?.method.integration as HttpProxyIntegration;
    expect(integration).toMatchObject({
      kind: "http_proxy",
      origin: "http://127.0.0.1:5000",
      pathTemplate: "/api/2.0/mlflow/runs/{proxy}",
      timeoutMs: 1234,
      stream: false,
    });
    // The mappings as written: names case and all, the credentials overwritten
    expect(integration.headers).toContainEqual(["x-mlflow-gate-auth", "'iam'"]);
    expect(integration.headers).toContainEqual(["Authorization", "'-'"]);
    expect(api.resolve("GET", "/ajax-api/2.0/mlflow/runs/get")?.method.surface).toBe("cognito");
  });

  test("artifact downloads stream; the UI config is a MOCK converting to text; the authorizer's TTL is the scheme's", () => {
    expect(
      (
        api.resolve("GET", "/api/2.0/mlflow-artifacts/artifacts/1/a/model.pkl")?.method
          .integration as HttpProxyIntegration
      ).stream,
    ).toBe(true);
    const mock = api.resolve("GET", "/mlflow-gate-ui.json")?.method;
    expect(mock?.surface).toBe("none");
    expect(mock?.integration).toMatchObject({ kind: "mock", convertsToText: true, status: 200 });
    expect((mock?.integration as MockIntegration).headers).toContainEqual(["Content-Type", "application/json"]);
    expect(api.authorizer).toEqual({ identityHeader: "Authorization", ttlSeconds: 300 });
    expect(api.binaryMediaTypes).toEqual(["*/*"]);
  });

  test.each([
    [
      "an integration type it does not run",
      (op: Record<string, unknown>) => ({ ...op, "x-amazon-apigateway-integration": { type: "aws" } }),
    ],
    [
      "a mapping of a variable it cannot fill",
      (op: Record<string, unknown>) => ({
        ...op,
        "x-amazon-apigateway-integration": {
          ...(op["x-amazon-apigateway-integration"] as object),
          requestParameters: { "integration.request.header.X": "method.request.querystring.q" },
        },
      }),
    ],
    ["an unknown security scheme", (op: Record<string, unknown>) => ({ ...op, security: [{ other: [] }] })],
  ])("refuses %s when it starts, never per request", (_name, change) => {
    expect(() => compileApiModel(withOperation("/api/2.0/mlflow/runs/{proxy+}", "post", change))).toThrow(
      ApiDefinitionError,
    );
  });

  test("methods that name an authorizer the definition lacks are refused", () => {
    const copy = JSON.parse(JSON.stringify(definition)) as { components: { securitySchemes: Record<string, unknown> } };
    delete copy.components.securitySchemes.mlflowGateAuthorizer;
    expect(() => compileApiModel(copy as unknown as ApiDefinition)).toThrow(
      /the authorizer, which the definition does not define/,
    );
  });

  test("API Gateway's ANY is a method; a path item's other keys are not", () => {
    const copy = JSON.parse(JSON.stringify(definition)) as { paths: Record<string, Record<string, unknown>> };
    const get = copy.paths["/ajax-api/2.0/mlflow/runs/{proxy+}"]!.get;
    copy.paths["/any/{proxy+}"] = { "x-amazon-apigateway-any-method": get, parameters: [] };
    const model = compileApiModel(copy as unknown as ApiDefinition);
    expect(model.resolve("DELETE", "/any/x")?.method.httpMethod).toBe("ANY");
    expect(model.methodCount).toBe(api.methodCount + 1);
  });

  test("a MOCK whose template holds VTL is refused: the emulator renders none", () => {
    const vtl = withOperation("/mlflow-gate-ui.json", "get", (op) => {
      const integration = op["x-amazon-apigateway-integration"] as { responses: { default: Record<string, unknown> } };
      integration.responses.default.responseTemplates = { "application/json": '{"id": "$context.requestId"}' };
      return op;
    });
    expect(() => compileApiModel(vtl)).toThrow(/no VTL/);
  });
});

describe("integrationRequestPath", () => {
  test("puts each mapped parameter's decoded value in, encoded again only where a path cannot hold it", () => {
    const integration = { pathTemplate: "/x/{p}", pathParameters: new Map([["p", "proxy"]]) };
    expect(integrationRequestPath(integration, { proxy: "a/b c/%/?/#/é" })).toBe("/x/a/b%20c/%25/%3F/%23/%C3%A9");
    expect(integrationRequestPath(integration, { proxy: "a/b.." })).toBe("/x/a/b..");
  });
});

describe("isBinaryMediaType", () => {
  test("*/* is every type, a missing one too; type/* a family; otherwise the exact type", () => {
    expect(isBinaryMediaType(undefined, ["*/*"])).toBe(true);
    expect(isBinaryMediaType("application/json", ["*/*"])).toBe(true);
    expect(isBinaryMediaType("image/png; q=1", ["image/*"])).toBe(true);
    expect(isBinaryMediaType("application/json", ["image/*", "application/octet-stream"])).toBe(false);
    expect(isBinaryMediaType(undefined, ["application/octet-stream"])).toBe(false);
  });
});
