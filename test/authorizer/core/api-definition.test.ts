import { buildApiRouteTree, DEFAULT_MAX_API_RESOURCES } from "../../../authorizer/core/api-routes";
import {
  lambdaInvocationUri,
  renderApiDefinition,
  SECURITY_SCHEMES,
  STREAMED_ACTIONS,
  UI_CONFIG_RESOURCE,
} from "../../../authorizer/core/api-definition";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";

const { catalog } = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const VALUES = {
  title: "mlflow-gate",
  version: catalog.mlflowVersion,
  upstreamHost: "mlflow-nlb.internal",
  vpcLinkId: "vpclink1",
  authorizerUri: lambdaInvocationUri("aws", "eu-west-1", "arn:aws:lambda:eu-west-1:123456789012:function:authorizer"),
  uiConfigJson: '{"userPoolId":"eu-west-1_AbC"}',
};
const { definition, tree } = renderApiDefinition(catalog.routes, VALUES);
const operations = Object.entries(definition.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({ path, method, op })),
);
const integrationOf = (op: (typeof operations)[number]["op"]) =>
  op["x-amazon-apigateway-integration"] as Record<string, unknown>;

test("every authenticated catalog route is served by exactly one operation, with its surface's security", () => {
  const served = new Map<string, string>();
  for (const { path, method, op } of operations) {
    if (path === UI_CONFIG_RESOURCE) continue;
    const scheme = Object.keys(op.security?.[0] ?? {})[0];
    served.set(`${method.toUpperCase()} ${path}`, scheme as string);
  }
  const authenticated = catalog.routes.filter((r) => r.auth !== "none");
  for (const resource of [{ path: "/", methods: tree.rootMethods }, ...tree.resources]) {
    for (const m of resource.methods) {
      const scheme = served.get(`${m.httpMethod} ${resource.path}`);
      expect([m.httpMethod, resource.path, scheme]).toEqual([
        m.httpMethod,
        resource.path,
        SECURITY_SCHEMES[m.auth as "iam" | "cognito"],
      ]);
    }
  }
  const inTree = [tree.rootMethods, ...tree.resources.map((x) => x.methods)].flat().flatMap((m) => m.routes);
  expect(new Set(inTree)).toEqual(new Set(authenticated));
  expect(inTree).toHaveLength(authenticated.length);
});

test("each operation proxies over the VPC link to MLflow, with the contract's identity mappings and credentials overwritten", () => {
  for (const { path, op } of operations) {
    if (path === UI_CONFIG_RESOURCE) continue;
    const integration = integrationOf(op);
    expect(integration).toMatchObject({
      type: "http_proxy",
      connectionType: "VPC_LINK",
      connectionId: "vpclink1",
      timeoutInMillis: 29_000,
      uri: expect.stringMatching(/^http:\/\/mlflow-nlb\.internal\//),
    });
    const mappings = integration.requestParameters as Record<string, string>;
    expect(mappings["integration.request.header.Authorization"]).toBe("'-'");
    expect(mappings["integration.request.header.x-mlflow-gate-request-id"]).toBe("context.extendedRequestId");
    for (const p of op.parameters ?? [])
      expect(mappings[`integration.request.path.${p.name}`]).toBe(`method.request.path.${p.name}`);
  }
});

test("artifact downloads, and only operations that serve one, stream their answers", () => {
  const streamed = operations.filter(({ op }) => integrationOf(op).responseTransferMode === "STREAM");
  for (const { op } of streamed) expect(op["x-mlflow-gate-actions"]?.some((a) => STREAMED_ACTIONS.has(a))).toBe(true);
  const downloads = catalog.routes.filter((r) => STREAMED_ACTIONS.has(r.action));
  expect(downloads.length).toBeGreaterThanOrEqual(6);
  for (const route of downloads)
    expect(streamed.some(({ op }) => op["x-mlflow-gate-actions"]?.includes(route.action))).toBe(true);
});

test("the login shell's config is a MOCK that converts to text (the API takes */* as binary)", () => {
  expect(definition["x-amazon-apigateway-binary-media-types"]).toEqual(["*/*"]);
  expect(definition.paths[UI_CONFIG_RESOURCE]?.get?.["x-amazon-apigateway-integration"]).toMatchObject({
    type: "mock",
    contentHandling: "CONVERT_TO_TEXT",
    responses: { default: { statusCode: "200", responseTemplates: { "application/json": VALUES.uiConfigJson } } },
  });
});

test("the authorizer: a REQUEST authorizer keyed by the token, the verb and the resource, cached for the contract's TTL", () => {
  expect(definition.components.securitySchemes[SECURITY_SCHEMES.cognito]).toMatchObject({
    // AWS's OpenAPI extension: "Must be "Unused" for multiple identity sources"
    name: "Unused",
    in: "header",
    "x-amazon-apigateway-authtype": "custom",
    "x-amazon-apigateway-authorizer": {
      type: "request",
      identitySource: "method.request.header.Authorization, context.httpMethod, context.resourcePath",
      authorizerUri: VALUES.authorizerUri,
      authorizerResultTtlInSeconds: 300,
    },
  });
});

test("the document is well within API Gateway's import limit (6 MB) and CloudFormation's template limit (1 MB)", () => {
  const bytes = Buffer.byteLength(JSON.stringify(definition));
  process.stderr.write(
    `api definition: ${bytes} bytes, ${operations.length} operations, ${tree.resourceCount} resources\n`,
  );
  expect(bytes).toBeLessThan(1024 * 1024);
});

test("the authorizer's URI is API Gateway's path to Lambda's Invoke, in the function's partition and region", () => {
  expect(lambdaInvocationUri("aws-cn", "cn-north-1", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f")).toBe(
    "arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/arn:aws-cn:lambda:cn-north-1:123456789012:function:f/invocations",
  );
});

test("the resource quota counts the UI config's resource, by default too", () => {
  // A catalog whose tree is exactly the quota (the root, /wide and its children): folded, to leave the UI config one.
  const wide = Array.from({ length: DEFAULT_MAX_API_RESOURCES - 2 }, (_, i) => ({
    ...(catalog.routes.find((r) => r.auth === "iam") as (typeof catalog.routes)[number]),
    method: "GET" as const,
    path: `/wide/${i}`,
  }));
  const rendered = renderApiDefinition(wide, VALUES);
  expect(buildApiRouteTree(wide).resourceCount).toBe(DEFAULT_MAX_API_RESOURCES);
  expect(rendered.tree.resourceCount + 1).toBeLessThanOrEqual(DEFAULT_MAX_API_RESOURCES);
  expect(rendered.tree).toEqual(buildApiRouteTree(wide, { maxResources: DEFAULT_MAX_API_RESOURCES - 1 }));
  expect(renderApiDefinition(wide, { ...VALUES, maxResources: 10 }).tree.resourceCount).toBeLessThanOrEqual(9);
});
