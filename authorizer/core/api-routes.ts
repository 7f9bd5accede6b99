// The REST API's resources and methods as API Gateway holds them, derived from the route catalog: one tree for
// the API definition that CDK deploys and the emulator runs. Pure.
import { CatalogRoute, HttpMethod } from "./catalog";
import {
  CREDENTIAL_HEADERS,
  CREDENTIAL_OVERWRITE,
  IDENTITY_HEADERS,
  IDENTITY_MAPPINGS,
  MappedIdentityField,
  WORKSPACE_MAPPING,
  WORKSPACE_PATH_PARAMETER,
  WORKSPACE_PATH_PART,
} from "./contract";
import { CatalogError } from "./errors";
import { Surface } from "./policy-set";

/** API Gateway's default "Resources per API" quota (the root counts); raised per API only, after it exists. */
export const DEFAULT_MAX_API_RESOURCES = 300;

/** One method of the API: a catalog route, or several folded onto one resource. */
export interface ApiMethodSpec {
  readonly httpMethod: HttpMethod;
  readonly auth: Surface;
  /**
   * The path MLflow receives, as an integration URI path: `{name}` is replaced by the value of the
   * resource's path parameter of that name (a greedy one's value holds `/`).
   */
  readonly integrationPath: string;
  /** The catalog routes it serves, in catalog order. */
  readonly routes: readonly CatalogRoute[];
}

/** One API Gateway resource below the root. */
export interface ApiResourceSpec {
  /** Its full path, as API Gateway shows it: `/api/2.0/mlflow/runs/{proxy+}`. */
  readonly path: string;
  readonly pathPart: string;
  /** The parent's path (`/` for the root). */
  readonly parentPath: string;
  /** Names of the path parameters of `path`, outermost first. */
  readonly pathParams: readonly string[];
  readonly methods: readonly ApiMethodSpec[];
}

/** The resource tree of a REST API that serves the catalog's authenticated routes. */
export interface ApiRouteTree {
  /** Resources below the root, every parent before its children, siblings sorted. */
  readonly resources: readonly ApiResourceSpec[];
  /** Methods on the root resource (a catalog route `/` that needs auth); usually none. */
  readonly rootMethods: readonly ApiMethodSpec[];
  /**
   * How many path parts are kept as they are before everything deeper folds into one greedy
   * `{proxy+}` resource; undefined when the whole catalog fits.
   */
  readonly maxDepth: number | undefined;
  /** Resources counted against API Gateway's quota, the root included. */
  readonly resourceCount: number;
  readonly methodCount: number;
}

export interface ApiRouteTreeOptions {
  /**
   * The API's "Resources per API" quota. When the catalog needs more resources, path parts below a
   * depth fold into greedy `{proxy+}` resources, at the deepest depth that fits.
   * @default DEFAULT_MAX_API_RESOURCES (300)
   */
  readonly maxResources?: number;
  /**
   * Teams: every route under `/ws/{workspace}/` (the team in the path, which API Gateway and IAM can see), the
   * parameter mapped onto the workspace identity header. @default false
   */
  readonly workspaces?: boolean;
}

type Segment =
  { readonly kind: "literal"; readonly text: string } | { readonly kind: "segment" | "greedy"; readonly name: string };

interface Entry {
  readonly route: CatalogRoute;
  readonly segments: readonly Segment[];
  /** `/ajax-api/3.0/jobs/`: API Gateway has no empty path part, so the slash lives in the integration path. */
  readonly trailingSlash: boolean;
}

interface Node {
  readonly pathPart: string;
  readonly path: string;
  readonly depth: number;
  /** Path parameter names from the root down to this node. */
  readonly params: readonly string[];
  readonly literals: Map<string, Node>;
  variable?: Node;
  readonly methods: Map<HttpMethod, { auth: Surface; routes: CatalogRoute[]; trailingSlash: boolean }>;
}

const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g;
/** What API Gateway (and CDK) accept as a literal path part. */
const LITERAL_PART = /^[a-zA-Z0-9:._$-]+$/;
const FOLDED_NAME = "proxy";

function splitRoute(route: CatalogRoute): Entry {
  const trailingSlash = route.path.length > 1 && route.path.endsWith("/");
  const parts = route.path.split("/").slice(1);
  if (trailingSlash || route.path === "/") parts.pop();
  const segments = parts.map((part): Segment => {
    const params = [...part.matchAll(PARAM)];
    if (params.length === 0) {
      if (!LITERAL_PART.test(part))
        throw new CatalogError(`${route.method} ${route.path}: API Gateway cannot hold the path part "${part}"`);
      return { kind: "literal", text: part };
    }
    // A part with text around its parameter (`{endpoint_name}:generateContent`) is one variable part:
    // API Gateway has no partial parameters, and the value it captures is the whole part.
    return { kind: params.some((m) => m[2] === "+") ? "greedy" : "segment", name: params[0]?.[1] as string };
  });
  return { route, segments, trailingSlash };
}

function newNode(parent: Node | undefined, pathPart: string, param?: string): Node {
  const path = parent === undefined ? "/" : `${parent.path === "/" ? "" : parent.path}/${pathPart}`;
  return {
    pathPart,
    path,
    depth: parent === undefined ? 0 : parent.depth + 1,
    params: [...(parent?.params ?? []), ...(param === undefined ? [] : [param])],
    literals: new Map(),
    methods: new Map(),
  };
}

/** A parameter name not yet used on the path: API Gateway requires them unique within one path. */
function uniqueName(name: string, taken: readonly string[]): string {
  let candidate = name;
  for (let i = 2; taken.includes(candidate); i++) candidate = `${name}_${i}`;
  return candidate;
}

function addMethod(node: Node, entry: Entry): void {
  const { route } = entry;
  const auth = route.auth as Surface;
  // Only a route that ends exactly here keeps its trailing slash; a greedy value carries its own.
  const trailingSlash = entry.trailingSlash && entry.segments.length === node.depth && !node.pathPart.endsWith("+}");
  const existing = node.methods.get(route.method);
  if (existing === undefined) {
    node.methods.set(route.method, { auth, routes: [route], trailingSlash });
    return;
  }
  if (existing.auth !== auth) {
    throw new CatalogError(
      `${route.method} ${node.path} would serve both ${existing.auth} and ${auth} routes (${existing.routes[0]?.path}, ${route.path})`,
    );
  }
  if (existing.trailingSlash !== trailingSlash) {
    throw new CatalogError(
      `${route.method} ${route.path}: API Gateway cannot tell it from the same path with or without a trailing slash`,
    );
  }
  existing.routes.push(route);
}

/**
 * Places routes below `node`. All variable parts under one parent share one resource (API Gateway
 * allows a single variable sibling) named after the first name in sort order; a greedy part anywhere
 * (or the depth limit) ends the path: that resource serves every method of every route below it.
 */
function place(node: Node, entries: readonly Entry[], maxDepth: number): void {
  const deeper: Entry[] = [];
  for (const e of entries) {
    if (e.segments.length === node.depth) addMethod(node, e);
    else deeper.push(e);
  }
  if (deeper.length === 0) return;

  if (node.depth >= maxDepth) {
    const name = uniqueName(FOLDED_NAME, node.params);
    const folded = newNode(node, `{${name}+}`, name);
    node.variable = folded;
    for (const e of deeper) addMethod(folded, e);
    return;
  }

  const literals = new Map<string, Entry[]>();
  const variables: Entry[] = [];
  for (const e of deeper) {
    const s = e.segments[node.depth] as Segment;
    if (s.kind === "literal") literals.set(s.text, [...(literals.get(s.text) ?? []), e]);
    else variables.push(e);
  }
  for (const [text, group] of [...literals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const child = newNode(node, text);
    node.literals.set(text, child);
    place(child, group, maxDepth);
  }
  if (variables.length === 0) return;
  const vars = variables.map((e) => e.segments[node.depth] as Extract<Segment, { name: string }>);
  const greedyNames = [...new Set(vars.filter((v) => v.kind === "greedy").map((v) => v.name))].sort();
  const segmentNames = [...new Set(vars.map((v) => v.name))].sort();
  const greedy = greedyNames.length > 0;
  const name = uniqueName((greedy ? greedyNames[0] : segmentNames[0]) as string, node.params);
  const child = newNode(node, greedy ? `{${name}+}` : `{${name}}`, name);
  node.variable = child;
  if (greedy) for (const e of variables) addMethod(child, e);
  else place(child, variables, maxDepth);
}

function integrationPathOf(node: Node, trailingSlash: boolean): string {
  const path = node.path.replace(/\{([A-Za-z0-9_]+)\+\}/g, "{$1}");
  return trailingSlash && path !== "/" ? `${path}/` : path;
}

function methodsOf(node: Node): ApiMethodSpec[] {
  return [...node.methods]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([httpMethod, m]) => ({
      httpMethod,
      auth: m.auth,
      integrationPath: integrationPathOf(node, m.trailingSlash),
      routes: m.routes,
    }));
}

function flatten(root: Node): { resources: ApiResourceSpec[]; rootMethods: ApiMethodSpec[] } {
  const resources: ApiResourceSpec[] = [];
  const visit = (node: Node, parentPath: string) => {
    resources.push({
      path: node.path,
      pathPart: node.pathPart,
      parentPath,
      pathParams: node.params,
      methods: methodsOf(node),
    });
    for (const child of childrenOf(node)) visit(child, node.path);
  };
  for (const child of childrenOf(root)) visit(child, "/");
  return { resources, rootMethods: methodsOf(root) };
}

function childrenOf(node: Node): Node[] {
  return [...node.literals.values(), ...(node.variable ? [node.variable] : [])];
}

function buildAtDepth(entries: readonly Entry[], maxDepth: number): Omit<ApiRouteTree, "maxDepth"> {
  const root = newNode(undefined, "");
  place(root, entries, maxDepth);
  const { resources, rootMethods } = flatten(root);
  const methodCount = rootMethods.length + resources.reduce((n, r) => n + r.methods.length, 0);
  return { resources, rootMethods, resourceCount: resources.length + 1, methodCount };
}

/**
 * Maps the catalog's authenticated routes (`iam`, `cognito`) to API Gateway resources and methods.
 * Public routes (`none`: the UI shell) are Amplify's and get nothing. Where API Gateway's rules
 * differ from MLflow's templates:
 * - sibling variable parts with different names share one resource (API Gateway allows one per
 *   parent): `{run_id}` and `{experiment_id}` under one parent become the first name in sort order;
 * - a greedy parameter ends the path (API Gateway allows `{x+}` only last): the routes below
 *   `/mcp-servers/{name+}/versions/{version+}` are served by `/mcp-servers/{name+}`, one method per
 *   HTTP method, whose value carries the rest of the path to MLflow unchanged;
 * - past `maxResources`, deeper parts fold into `{proxy+}` the same way.
 * Folding never widens access: API Gateway authorizes the request's own path (the methodArn), which
 * the compiled IAM and authorizer policies check route by route; it only moves the 403 for a path
 * MLflow does not serve from API Gateway to the policies.
 */
export function buildApiRouteTree(routes: readonly CatalogRoute[], options: ApiRouteTreeOptions = {}): ApiRouteTree {
  const maxResources = options.maxResources ?? DEFAULT_MAX_API_RESOURCES;
  const prefix: Segment[] = options.workspaces
    ? [
        { kind: "literal", text: WORKSPACE_PATH_PART },
        { kind: "segment", name: WORKSPACE_PATH_PARAMETER },
      ]
    : [];
  const entries = routes
    .filter((r) => r.auth !== "none")
    .map(splitRoute)
    .map((e) => ({ ...e, segments: [...prefix, ...e.segments] }));
  const fullDepth = Math.max(0, ...entries.map((e) => e.segments.length));
  const full = buildAtDepth(entries, fullDepth);
  if (full.resourceCount <= maxResources) return { ...full, maxDepth: undefined };
  for (let depth = fullDepth - 1; depth >= 0; depth--) {
    const tree = buildAtDepth(entries, depth);
    if (tree.resourceCount <= maxResources) return { ...tree, maxDepth: depth };
  }
  throw new CatalogError(`the catalog cannot be served with ${maxResources} API Gateway resources`);
}

/**
 * The identity headers of the contract (authorizer/core/contract.ts), mapped as the emulator maps them (on a
 * team resource, the workspace too, from the path parameter):
 * a mapped header replaces what a client sent under that name. The credentials (the bearer token, the
 * SigV4 session token) are overwritten too: MLflow needs neither, and they stay out of its logs.
 */
export function identityHeaders(auth: Surface, workspace = false): Record<string, string> {
  const mapped = Object.entries(IDENTITY_MAPPINGS[auth]).map(([field, expression]) => [
    `integration.request.header.${IDENTITY_HEADERS[field as MappedIdentityField]}`,
    expression,
  ]);
  return {
    ...Object.fromEntries(mapped),
    [`integration.request.header.${CREDENTIAL_HEADERS.authorization}`]: `'${CREDENTIAL_OVERWRITE}'`,
    [`integration.request.header.${CREDENTIAL_HEADERS.securityToken}`]: `'${CREDENTIAL_OVERWRITE}'`,
    ...(workspace ? { [`integration.request.header.${IDENTITY_HEADERS.workspace}`]: WORKSPACE_MAPPING } : {}),
  };
}
