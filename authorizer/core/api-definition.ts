// The REST API as one OpenAPI 3.0 document with API Gateway's extensions: what CDK deploys as the API's
// definition (RestApiGatewayStack) and what the emulator is to interpret (issue 14). Built from the route
// catalog's tree (api-routes.ts) and the deployment's values. Pure.
import {
  ApiMethodSpec,
  ApiRouteTree,
  buildApiRouteTree,
  DEFAULT_MAX_API_RESOURCES,
  identityHeaders,
} from "./api-routes";
import { CatalogRoute } from "./catalog";
import {
  API_GATEWAY,
  AUTHORIZER_IDENTITY_SOURCES,
  TEAM_AUTHORIZER_IDENTITY_SOURCES,
  WORKSPACE_PATH_PARAMETER,
} from "./contract";
import { Surface } from "./policy-set";

/** The actions whose answers are artifacts, of any size: streamed, since a buffered answer stops at 10 MB. */
export const STREAMED_ACTIONS: ReadonlySet<string> = new Set([
  "DownloadArtifact",
  "GetArtifact",
  "GetModelVersionArtifact",
  "GetTraceArtifact",
  "GetLoggedModelArtifact",
]);

/** The names of the security schemes: SigV4 for SDK routes, the Lambda REQUEST authorizer for UI routes. */
export const SECURITY_SCHEMES = { iam: "sigv4", cognito: "mlflowGateAuthorizer" } as const;

/**
 * A security scheme's `name` when its authorizer has several identity sources, or one that is no header or query
 * parameter: `x-amazon-apigateway-authorizer` says it "Must be "Unused"" then.
 */
export const UNUSED_SCHEME_NAME = "Unused";

/** Where the login shell's config is answered by the API itself (a MOCK integration). */
export const UI_CONFIG_RESOURCE = "/mlflow-gate-ui.json";

export interface ApiDefinitionValues {
  readonly title: string;
  /** The document's version: the pinned MLflow's. */
  readonly version: string;
  /** Where MLflow's NLB answers behind the VPC link (port 80): integrations go to `http://<upstreamHost><path>`. */
  readonly upstreamHost: string;
  /** The VPC link's id. */
  readonly vpcLinkId: string;
  /** The authorizer Lambda's invocation URI (`lambdaInvocationUri`). */
  readonly authorizerUri: string;
  /** The login shell's config, as the MOCK answers it (JSON text). */
  readonly uiConfigJson: string;
  /**
   * The MOCK's Cache-Control: short, so that a new pool or client reaches open browsers within minutes.
   * @default "max-age=300"
   */
  readonly uiConfigCacheControl?: string;
  /** @default API_GATEWAY.maxIntegrationTimeoutMs */
  readonly integrationTimeoutMs?: number;
  /** The authorizer's result cache TTL; 0 turns the cache off. @default API_GATEWAY.authorizerCacheTtlSeconds */
  readonly authorizerTtlSeconds?: number;
  /** The API's "Resources per API" quota, its own resource for the UI config counted. @default DEFAULT_MAX_API_RESOURCES */
  readonly maxResources?: number;
  /** Teams exist: MLflow's routes under `/ws/{workspace}/` (api-routes.ts). @default false */
  readonly workspaces?: boolean;
}

/** The parts of an OpenAPI 3.0 document this definition uses (API Gateway's extensions included). */
export interface ApiDefinition {
  readonly openapi: "3.0.1";
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, ApiOperation>>>>;
  readonly components: { readonly securitySchemes: Readonly<Record<string, unknown>> };
  readonly "x-amazon-apigateway-binary-media-types": readonly string[];
}

export interface ApiOperation {
  readonly parameters?: readonly { name: string; in: "path"; required: true; schema: { type: "string" } }[];
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly responses: Readonly<Record<string, unknown>>;
  readonly "x-amazon-apigateway-integration": Readonly<Record<string, unknown>>;
  /** Which catalog actions the operation serves (read by people and by the emulator's log). */
  readonly "x-mlflow-gate-actions"?: readonly string[];
}

/**
 * The URI API Gateway invokes a Lambda function by (an authorizer's `authorizerUri`): the API Gateway service
 * ARN of Lambda's Invoke action, `arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
 */
export function lambdaInvocationUri(partition: string, region: string, functionArn: string): string {
  return `arn:${partition}:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;
}

const DEFAULT_RESPONSES = { default: { description: "MLflow's answer, passed through" } } as const;

function operationOf(spec: ApiMethodSpec, params: readonly string[], v: ApiDefinitionValues): ApiOperation {
  const streamed = spec.routes.some((r) => STREAMED_ACTIONS.has(r.action));
  return {
    ...(params.length > 0
      ? {
          parameters: params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }) as const),
        }
      : {}),
    security: [{ [SECURITY_SCHEMES[spec.auth as Exclude<Surface, "none">]]: [] }],
    responses: DEFAULT_RESPONSES,
    "x-amazon-apigateway-integration": {
      type: "http_proxy",
      httpMethod: spec.httpMethod,
      uri: `http://${v.upstreamHost}${spec.integrationPath}`,
      connectionType: "VPC_LINK",
      connectionId: v.vpcLinkId,
      passthroughBehavior: "when_no_match",
      timeoutInMillis: v.integrationTimeoutMs ?? API_GATEWAY.maxIntegrationTimeoutMs,
      requestParameters: {
        ...Object.fromEntries(params.map((p) => [`integration.request.path.${p}`, `method.request.path.${p}`])),
        ...identityHeaders(spec.auth, params.includes(WORKSPACE_PATH_PARAMETER) && v.workspaces === true),
      },
      ...(streamed ? { responseTransferMode: "STREAM" } : {}),
    },
    "x-mlflow-gate-actions": [...new Set(spec.routes.map((r) => r.action))],
  };
}

/** `GET /mlflow-gate-ui.json`: a MOCK, text in and out, since the API takes every payload as binary. */
function uiConfigOperation(v: ApiDefinitionValues): ApiOperation {
  const headers = {
    "method.response.header.Content-Type": "'application/json'",
    "method.response.header.Cache-Control": `'${v.uiConfigCacheControl ?? "max-age=300"}'`,
    "method.response.header.X-Content-Type-Options": "'nosniff'",
  };
  return {
    responses: {
      "200": {
        description: "The login shell's config",
        headers: Object.fromEntries(
          Object.keys(headers).map((h) => [h.slice("method.response.header.".length), { schema: { type: "string" } }]),
        ),
      },
    },
    "x-amazon-apigateway-integration": {
      type: "mock",
      contentHandling: "CONVERT_TO_TEXT",
      passthroughBehavior: "never",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
      responses: {
        default: {
          statusCode: "200",
          responseParameters: headers,
          responseTemplates: { "application/json": v.uiConfigJson },
        },
      },
    },
  };
}

function securitySchemes(v: ApiDefinitionValues): Record<string, unknown> {
  return {
    [SECURITY_SCHEMES.iam]: {
      type: "apiKey",
      name: "Authorization",
      in: "header",
      "x-amazon-apigateway-authtype": "awsSigv4",
    },
    [SECURITY_SCHEMES.cognito]: {
      type: "apiKey",
      name: UNUSED_SCHEME_NAME,
      in: "header",
      "x-amazon-apigateway-authtype": "custom",
      "x-amazon-apigateway-authorizer": {
        type: "request",
        identitySource: (v.workspaces ? TEAM_AUTHORIZER_IDENTITY_SOURCES : AUTHORIZER_IDENTITY_SOURCES).join(", "),
        authorizerUri: v.authorizerUri,
        authorizerResultTtlInSeconds: v.authorizerTtlSeconds ?? API_GATEWAY.authorizerCacheTtlSeconds,
      },
    },
  };
}

/** The catalog's resources in an API of `maxResources` (the quota), one of them left for the UI config's MOCK. */
export function apiRouteTreeOf(
  routes: readonly CatalogRoute[],
  maxResources: number = DEFAULT_MAX_API_RESOURCES,
  workspaces = false,
): ApiRouteTree {
  return buildApiRouteTree(routes, { maxResources: maxResources - 1, workspaces });
}

/**
 * The API definition: every authenticated catalog route as API Gateway holds it (the tree of api-routes.ts:
 * shared variable parts, greedy parameters last, `{proxy+}` folding past the resource quota), each an HTTP
 * proxy over the VPC link with the contract's identity mappings, SigV4 or the Lambda authorizer as the
 * route's surface says, artifact downloads streamed; the login shell's config as a MOCK; binary media types
 * `*` / `*` (a pure proxy re-encodes nothing).
 */
export function renderApiDefinition(
  routes: readonly CatalogRoute[],
  v: ApiDefinitionValues,
): { readonly definition: ApiDefinition; readonly tree: ApiRouteTree } {
  // One resource of the quota is the UI config's.
  const tree = apiRouteTreeOf(routes, v.maxResources, v.workspaces ?? false);
  const paths: Record<string, Record<string, ApiOperation>> = {};
  const add = (path: string, specs: readonly ApiMethodSpec[], params: readonly string[]) => {
    if (specs.length === 0) return;
    paths[path] = Object.fromEntries(specs.map((s) => [s.httpMethod.toLowerCase(), operationOf(s, params, v)]));
  };
  add("/", tree.rootMethods, []);
  for (const r of tree.resources) add(r.path, r.methods, r.pathParams);
  paths[UI_CONFIG_RESOURCE] = { get: uiConfigOperation(v) };
  return {
    tree,
    definition: {
      openapi: "3.0.1",
      info: { title: v.title, version: v.version },
      paths,
      components: { securitySchemes: securitySchemes(v) },
      "x-amazon-apigateway-binary-media-types": ["*/*"],
    },
  };
}

/**
 * The deployment's values as placeholders, for the committed rendering reviewers diff
 * (`policies/api-definition.json`) and `mlflow-gate api render`: CDK puts the real ones in at synth.
 */
export const DEPLOYED_PLACEHOLDERS: Omit<ApiDefinitionValues, "version"> = {
  title: "mlflow-gate",
  upstreamHost: "${MlflowNlbDnsName}",
  vpcLinkId: "${VpcLinkId}",
  authorizerUri: "${AuthorizerInvokeUri}",
  uiConfigJson: "${UiConfigJson}",
};

/** The definition as text: two-space JSON with a final newline, so that a change is a readable diff. */
export function formatApiDefinition(definition: ApiDefinition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
