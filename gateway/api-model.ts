// The API definition (authorizer/core/api-definition.ts) read as the emulator runs it: its resources as a tree
// to match requests against, each method's security and integration. Pure; what it cannot interpret it
// refuses when the gateway starts, never per request.
import { ApiDefinition, ApiOperation, SECURITY_SCHEMES, UNUSED_SCHEME_NAME } from "../authorizer/core/api-definition";
import { AuthType, HTTP_METHODS } from "../authorizer/core/catalog";
import { ResourceTree } from "../authorizer/core/resource-tree";

/** A definition the emulator cannot interpret: it refuses to start rather than guess. */
export class ApiDefinitionError extends Error {
  override readonly name = "ApiDefinitionError";
}

/** An `http_proxy` integration: where it sends the request and what it maps onto it. */
export interface HttpProxyIntegration {
  readonly kind: "http_proxy";
  /** The request's method to the backend (a proxy sends the client's). */
  readonly httpMethod: string;
  /** `http://host:port` of the integration's URI. */
  readonly origin: string;
  /** The URI's path, `{name}` standing for the integration path parameter of that name. */
  readonly pathTemplate: string;
  /** `integration.request.path.<name>` ← `method.request.path.<name>`. */
  readonly pathParameters: ReadonlyMap<string, string>;
  /** `integration.request.header.<Name>` ← its expression (`'static'`, `context.*`, `method.request.path.*`), names as written. */
  readonly headers: readonly (readonly [string, string])[];
  readonly timeoutMs: number;
  /** `responseTransferMode: STREAM`: the answer is sent as it arrives; otherwise it is buffered. */
  readonly stream: boolean;
}

/** A `mock` integration whose answer is static text (the emulator renders no VTL). */
export interface MockIntegration {
  readonly kind: "mock";
  /** `contentHandling: CONVERT_TO_TEXT`: a binary request payload is converted for the request template. */
  readonly convertsToText: boolean;
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

export interface ApiMethod {
  /** The resource's path as API Gateway shows it (`/api/2.0/mlflow/runs/{proxy+}`). */
  readonly resourcePath: string;
  readonly httpMethod: string;
  /** Who authorizes it: `iam` (SigV4), `cognito` (the Lambda REQUEST authorizer) or `none`. */
  readonly surface: AuthType;
  readonly integration: HttpProxyIntegration | MockIntegration;
}

export interface ResolvedMethod {
  readonly method: ApiMethod;
  /** The request's path parameters by name, decoded (a greedy one's value holds its `/`). */
  readonly pathParameters: Readonly<Record<string, string>>;
}

/** The `context` variables an identity source may name that the emulator fills (AWS does not list which it allows). */
export const IDENTITY_CONTEXT_VARIABLES = ["httpMethod", "resourcePath", "path", "identity.sourceIp"] as const;
export type IdentityContextVariable = (typeof IDENTITY_CONTEXT_VARIABLES)[number];

/**
 * One identity source of a Lambda REQUEST authorizer, of the four documented types: a header, a query parameter,
 * a stage variable, a `context` variable.
 */
export type IdentitySource =
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "querystring"; readonly name: string }
  | { readonly kind: "stageVariable"; readonly name: string }
  | { readonly kind: "context"; readonly variable: IdentityContextVariable };

/** The Lambda REQUEST authorizer of the definition. */
export interface ApiAuthorizer {
  /** Its identity sources in the definition's order: all of them must have a value, and all key its cache. */
  readonly identitySources: readonly IdentitySource[];
  readonly ttlSeconds: number;
}

export interface ApiModel {
  /** The method a request is for (ResourceTree's matching), undefined when the API has none. */
  resolve(httpMethod: string, path: string): ResolvedMethod | undefined;
  readonly binaryMediaTypes: readonly string[];
  readonly authorizer: ApiAuthorizer | undefined;
  readonly methodCount: number;
}

/** A mapping expression the emulator can fill: a static value, a `$context` variable or a path parameter of the resource. */
function checkExpression(where: string, expression: string, params: ReadonlySet<string>): void {
  if (/^'.*'$/s.test(expression) || /^context\.[A-Za-z.]+$/.test(expression)) return;
  const param = /^method\.request\.path\.(.+)$/.exec(expression);
  if (param && params.has(param[1] as string)) return;
  throw new ApiDefinitionError(`${where}: the emulator cannot map "${expression}"`);
}

function surfaceOf(where: string, op: ApiOperation): AuthType {
  const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
  if (schemes.length === 0) return "none";
  if (schemes.length > 1) throw new ApiDefinitionError(`${where}: more than one security scheme`);
  if (schemes[0] === SECURITY_SCHEMES.iam) return "iam";
  if (schemes[0] === SECURITY_SCHEMES.cognito) return "cognito";
  throw new ApiDefinitionError(`${where}: unknown security scheme "${schemes[0]}"`);
}

function httpProxyOf(where: string, raw: Record<string, unknown>, params: ReadonlySet<string>): HttpProxyIntegration {
  const uri = /^(https?:\/\/[^/]+)(\/[^?#]*)$/.exec(String(raw.uri ?? ""));
  if (!uri) throw new ApiDefinitionError(`${where}: integration uri "${String(raw.uri)}" is not an absolute http URI`);
  const pathParameters = new Map<string, string>();
  const headers: [string, string][] = [];
  for (const [target, expression] of Object.entries((raw.requestParameters ?? {}) as Record<string, string>)) {
    const path = /^integration\.request\.path\.(.+)$/.exec(target);
    if (path) {
      const source = /^method\.request\.path\.(.+)$/.exec(expression);
      if (!source || !params.has(source[1] as string))
        throw new ApiDefinitionError(`${where}: ${target} maps "${expression}", not a path parameter of the resource`);
      pathParameters.set(path[1] as string, source[1] as string);
      continue;
    }
    const header = /^integration\.request\.header\.(.+)$/.exec(target);
    if (!header) throw new ApiDefinitionError(`${where}: the emulator cannot map onto "${target}"`);
    checkExpression(where, expression, params);
    headers.push([header[1] as string, expression]);
  }
  for (const [, name] of (uri[2] as string).matchAll(/\{([^}]+)\}/g))
    if (!pathParameters.has(name as string))
      throw new ApiDefinitionError(`${where}: the integration uri's {${name}} is not mapped`);
  const timeoutMs = raw.timeoutInMillis === undefined ? 29_000 : Number(raw.timeoutInMillis);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 50)
    throw new ApiDefinitionError(`${where}: timeoutInMillis ${String(raw.timeoutInMillis)} is not valid`);
  return {
    kind: "http_proxy",
    httpMethod: String(raw.httpMethod ?? ""),
    origin: uri[1] as string,
    pathTemplate: uri[2] as string,
    pathParameters,
    headers,
    timeoutMs,
    stream: raw.responseTransferMode === "STREAM",
  };
}

function mockOf(where: string, raw: Record<string, unknown>): MockIntegration {
  const responses = (raw.responses ?? {}) as Record<string, Record<string, unknown>>;
  const response = responses.default;
  if (!response) throw new ApiDefinitionError(`${where}: a mock needs a default response`);
  const body = ((response.responseTemplates ?? {}) as Record<string, string>)["application/json"] ?? "";
  // Static text only: a template with VTL would need a VTL engine the emulator does not have.
  if (/[$#]/.test(body)) throw new ApiDefinitionError(`${where}: the emulator renders no VTL in a mock's template`);
  const headers: [string, string][] = [];
  for (const [target, expression] of Object.entries((response.responseParameters ?? {}) as Record<string, string>)) {
    const header = /^method\.response\.header\.(.+)$/.exec(target);
    const literal = /^'(.*)'$/s.exec(expression);
    if (!header || !literal) throw new ApiDefinitionError(`${where}: the emulator cannot map "${target}"`);
    headers.push([header[1] as string, literal[1] as string]);
  }
  return {
    kind: "mock",
    convertsToText: raw.contentHandling === "CONVERT_TO_TEXT",
    status: Number(response.statusCode ?? 200),
    headers,
    body,
  };
}

const IDENTITY_SOURCE_FORMS: readonly [RegExp, (name: string) => IdentitySource][] = [
  [/^method\.request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/, (name) => ({ kind: "header", name })],
  [/^method\.request\.querystring\.([^\s,]+)$/, (name) => ({ kind: "querystring", name })],
  [/^stageVariables\.([A-Za-z0-9_]+)$/, (name) => ({ kind: "stageVariable", name })],
];

/**
 * An authorizer's `identitySource`: mapping expressions separated by commas, each a header, a query parameter, a
 * stage variable or one of the `context` variables the emulator fills. Anything else is refused, by name.
 */
export function parseIdentitySources(identitySource: string): IdentitySource[] {
  const expressions = identitySource.split(",").map((e) => e.trim());
  return expressions.map((expression): IdentitySource => {
    if (expression === "")
      throw new ApiDefinitionError(`the authorizer's identitySource "${identitySource}" has an empty entry`);
    for (const [form, source] of IDENTITY_SOURCE_FORMS) {
      const match = form.exec(expression);
      if (match) return source(match[1] as string);
    }
    if (expression.startsWith("context.")) {
      const variable = expression.slice("context.".length);
      if ((IDENTITY_CONTEXT_VARIABLES as readonly string[]).includes(variable))
        return { kind: "context", variable: variable as IdentityContextVariable };
      throw new ApiDefinitionError(
        `the authorizer's identity source "${expression}": the emulator fills no context variable "${variable}" ` +
          `(it fills ${IDENTITY_CONTEXT_VARIABLES.map((v) => `context.${v}`).join(", ")})`,
      );
    }
    throw new ApiDefinitionError(
      `the authorizer's identity source "${expression}" is none of method.request.header.<name>, ` +
        `method.request.querystring.<name>, stageVariables.<name>, context.<variable>`,
    );
  });
}

function authorizerOf(definition: ApiDefinition): ApiAuthorizer | undefined {
  const scheme = definition.components.securitySchemes[SECURITY_SCHEMES.cognito] as
    { name?: unknown; "x-amazon-apigateway-authorizer"?: Record<string, unknown> } | undefined;
  const raw = scheme?.["x-amazon-apigateway-authorizer"];
  if (!raw) return undefined;
  if (raw.type !== "request" || typeof raw.identitySource !== "string")
    throw new ApiDefinitionError(`the authorizer must be a REQUEST authorizer with an identitySource`);
  const identitySources = parseIdentitySources(raw.identitySource);
  // AWS documents the scheme's name as "Unused" then; whether it refuses another is not documented.
  const unused =
    identitySources.length > 1 || identitySources.some((s) => s.kind !== "header" && s.kind !== "querystring");
  if (unused && scheme?.name !== UNUSED_SCHEME_NAME)
    throw new ApiDefinitionError(
      `the authorizer's security scheme names "${String(scheme?.name)}": with several identity sources, or one ` +
        `that is no header or query parameter, its name must be "${UNUSED_SCHEME_NAME}"`,
    );
  const ttlSeconds = raw.authorizerResultTtlInSeconds === undefined ? 300 : Number(raw.authorizerResultTtlInSeconds);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 3600)
    throw new ApiDefinitionError(
      `authorizerResultTtlInSeconds ${String(raw.authorizerResultTtlInSeconds)} is not valid`,
    );
  return { identitySources, ttlSeconds };
}

/** Reads a definition into the emulator's model; its resources match as ResourceTree matches them. */
export function compileApiModel(definition: ApiDefinition): ApiModel {
  const tree = new ResourceTree<ApiMethod>();
  let methodCount = 0;
  let cognitoMethods = 0;
  for (const [resourcePath, operations] of Object.entries(definition.paths)) {
    const params = new Set([...resourcePath.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1] as string));
    for (const [verb, op] of Object.entries(operations)) {
      // OpenAPI's path item: the HTTP methods, API Gateway's ANY; anything else (`parameters`, ...) is no method.
      const httpMethod = verb === "x-amazon-apigateway-any-method" ? "ANY" : verb.toUpperCase();
      if (httpMethod !== "ANY" && !(HTTP_METHODS as readonly string[]).includes(httpMethod)) continue;
      const where = `${httpMethod} ${resourcePath}`;
      const raw = op["x-amazon-apigateway-integration"] as Record<string, unknown>;
      const type = String(raw?.type ?? "").toLowerCase();
      const integration =
        type === "http_proxy" ? httpProxyOf(where, raw, params) : type === "mock" ? mockOf(where, raw) : undefined;
      if (!integration) throw new ApiDefinitionError(`${where}: the emulator runs no "${type}" integration`);
      try {
        const surface = surfaceOf(where, op);
        if (surface === "cognito") cognitoMethods++;
        tree.add(resourcePath, httpMethod, { resourcePath, httpMethod, surface, integration });
      } catch (e) {
        throw new ApiDefinitionError((e as Error).message);
      }
      methodCount++;
    }
  }
  const authorizer = authorizerOf(definition);
  if (!authorizer && cognitoMethods > 0)
    throw new ApiDefinitionError(`${cognitoMethods} methods name the authorizer, which the definition does not define`);
  return {
    resolve(httpMethod, path) {
      const found = tree.resolve(httpMethod, path);
      return found && { method: found.value, pathParameters: found.pathParameters };
    },
    binaryMediaTypes: definition["x-amazon-apigateway-binary-media-types"],
    authorizer,
    methodCount,
  };
}

/** Whether a media type is one of the API's binary ones (`*` / `*` is all of them, a missing type included). */
export function isBinaryMediaType(contentType: string | undefined, binaryMediaTypes: readonly string[]): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return binaryMediaTypes.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p === "*/*") return true;
    if (p.endsWith("/*")) return type.startsWith(p.slice(0, -1));
    return type === p;
  });
}

/**
 * The integration request's path: the URI's template with each mapped path parameter's decoded value put in.
 * What a path cannot hold as itself (`?`, `#`, `%`, spaces, non-ASCII) is encoded again; a `/` stays a `/`.
 */
export function integrationRequestPath(
  integration: Pick<HttpProxyIntegration, "pathTemplate" | "pathParameters">,
  pathParameters: Readonly<Record<string, string>>,
): string {
  return integration.pathTemplate.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = pathParameters[integration.pathParameters.get(name) as string] ?? "";
    return encodeURI(value).replace(/\?/g, "%3F").replace(/#/g, "%23");
  });
}
