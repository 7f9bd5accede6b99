import { ApiDefinition, SECURITY_SCHEMES } from "../../authorizer/core/api-definition";
import { loadPolicySet } from "../../authorizer/load-policies";
import {
  ApiDefinitionError,
  compileApiModel,
  HttpProxyIntegration,
  integrationRequestPath,
  isBinaryMediaType,
  MockIntegration,
  parseIdentitySources,
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
    expect(api.authorizer).toEqual({
      identitySources: [
        { kind: "header", name: "Authorization" },
        { kind: "context", variable: "httpMethod" },
        { kind: "context", variable: "resourcePath" },
      ],
      ttlSeconds: 300,
    });
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

/** The definition with the authorizer's scheme changed. */
function withAuthorizerScheme(
  change: (scheme: { name: string; "x-amazon-apigateway-authorizer": Record<string, unknown> }) => void,
) {
  const copy = JSON.parse(JSON.stringify(definition)) as { components: { securitySchemes: Record<string, never> } };
  change(copy.components.securitySchemes[SECURITY_SCHEMES.cognito]!);
  return copy as unknown as ApiDefinition;
}

describe("the authorizer's identity sources", () => {
  test("a list of the four documented types, in its order, commas with or without spaces", () => {
    expect(
      parseIdentitySources(
        "method.request.header.X-Token,method.request.querystring.token , stageVariables.v1, context.httpMethod, context.resourcePath, context.path, context.identity.sourceIp",
      ),
    ).toEqual([
      { kind: "header", name: "X-Token" },
      { kind: "querystring", name: "token" },
      { kind: "stageVariable", name: "v1" },
      { kind: "context", variable: "httpMethod" },
      { kind: "context", variable: "resourcePath" },
      { kind: "context", variable: "path" },
      { kind: "context", variable: "identity.sourceIp" },
    ]);
  });

  test.each([
    ["a context variable the emulator does not fill", "context.requestId", /no context variable "requestId"/],
    ["an expression of no documented type", "method.request.path.proxy", /"method.request.path.proxy" is none of/],
    ["a header without a name", "method.request.header.", /"method.request.header." is none of/],
    ["an empty entry", "method.request.header.Authorization,, context.httpMethod", /has an empty entry/],
    ["an empty identitySource", "", /has an empty entry/],
  ])("refuses %s by name", (_name, identitySource, message) => {
    expect(() => parseIdentitySources(identitySource)).toThrow(ApiDefinitionError);
    expect(() => parseIdentitySources(identitySource)).toThrow(message);
  });

  test("several sources under a scheme not named Unused are refused when the gateway starts, as AWS says it must be", () => {
    // Prepare
    const named = withAuthorizerScheme((scheme) => (scheme.name = "Authorization"));
    const contextOnly = withAuthorizerScheme((scheme) => {
      scheme.name = "Authorization";
      scheme["x-amazon-apigateway-authorizer"].identitySource = "context.httpMethod";
    });
    const oneHeader = withAuthorizerScheme((scheme) => {
      scheme.name = "Authorization";
      scheme["x-amazon-apigateway-authorizer"].identitySource = "method.request.header.Authorization";
    });
    // Act, Assess
    expect(() => compileApiModel(named)).toThrow(/its name must be "Unused"/);
    expect(() => compileApiModel(contextOnly)).toThrow(/its name must be "Unused"/);
    expect(compileApiModel(oneHeader).authorizer?.identitySources).toEqual([{ kind: "header", name: "Authorization" }]);
  });

  test("an identity source the emulator cannot read stops it when it starts", () => {
    const bad = withAuthorizerScheme((scheme) => {
      scheme["x-amazon-apigateway-authorizer"].identitySource = "method.request.header.Authorization, context.stage";
    });
    expect(() => compileApiModel(bad)).toThrow(/no context variable "stage"/);
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
