import { CatalogError } from "./errors";

/** What a route does, as far as access control cares. */
export const ROUTE_CLASSES = [
  "read",
  "write",
  "registry-write",
  "registry-promote",
  "admin",
  "llm-gateway",
  "static",
] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/**
 * Who checks a route: `iam` (SigV4, API Gateway's AWS_IAM: the SDK routes), `cognito` (the Lambda
 * authorizer on a Cognito access token: the UI routes) or `none` (public: the UI shell and health).
 */
export const AUTH_TYPES = ["iam", "cognito", "none"] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** The surface a path belongs to: SDK prefixes use IAM, static routes are public, the rest is the UI's. */
export function authTypeOf(path: string, cls: RouteClass): AuthType {
  if (cls === "static") return "none";
  return /^\/(api|v1|gateway)\//.test(path) ? "iam" : "cognito";
}

/**
 * Who checks a request: its catalog route's surface, or for a path the catalog does not list, the
 * surface its prefix gives a read route (an unknown route is authorized, never public).
 */
export function authTypeOfRequest(route: CatalogRoute | undefined, path: string): AuthType {
  return route ? route.auth : authTypeOf(path, "read");
}

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One HTTP route of the pinned MLflow server. */
export interface CatalogRoute {
  readonly method: HttpMethod;
  /** API Gateway style template: `{name}` is one path segment, `{name+}` any rest (may hold `/`). */
  readonly path: string;
  readonly action: string;
  readonly class: RouteClass;
  readonly auth: AuthType;
  /** Which router serves it: FastAPI routes are matched first, in catalog order, then Flask's. */
  readonly source: "fastapi" | "flask";
  /** Why a route got a class its name does not suggest. */
  readonly note?: string;
}

export interface RouteCatalog {
  readonly mlflowVersion: string;
  readonly routes: readonly CatalogRoute[];
}

export type TemplatePart =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "segment"; readonly name: string }
  | { readonly kind: "greedy"; readonly name: string };

const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g;

/** Splits a path template into literal text and parameters. */
export function parsePathTemplate(path: string): TemplatePart[] {
  if (!path.startsWith("/")) throw new CatalogError(`path template must start with "/": ${path}`);
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of path.matchAll(PARAM)) {
    if (m.index > last) parts.push({ kind: "literal", text: path.slice(last, m.index) });
    parts.push({ kind: m[2] === "+" ? "greedy" : "segment", name: m[1] as string });
    last = m.index + m[0].length;
  }
  if (last < path.length) parts.push({ kind: "literal", text: path.slice(last) });
  const leftover = parts.some((p) => p.kind === "literal" && /[{}]/.test(p.text));
  if (leftover) throw new CatalogError(`malformed parameter in path template: ${path}`);
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A RegExp that matches exactly the concrete paths of a template as its router reads them: a greedy
 * parameter is werkzeug's `path` converter (`[^/].*`, never empty) for Flask, Starlette's `.*` for
 * FastAPI.
 */
export function templateToRegExp(path: string, source: CatalogRoute["source"] = "fastapi"): RegExp {
  const greedy = source === "flask" ? "[^/].*" : ".*";
  const body = parsePathTemplate(path)
    .map((p) => (p.kind === "literal" ? escapeRegExp(p.text) : p.kind === "segment" ? "[^/]+" : greedy))
    .join("");
  return new RegExp(`^${body}$`, "s");
}

/** The values of a template's parameters in a decoded path that matches it (`{name}`, `{name+}`). */
export function readPathParameters(template: string, path: string): Record<string, string> {
  const names: string[] = [];
  const pattern = parsePathTemplate(template)
    .map((p) => {
      if (p.kind === "literal") return escapeRegExp(p.text);
      names.push(p.name);
      return p.kind === "segment" ? "([^/]+)" : "(.*)";
    })
    .join("");
  const m = new RegExp(`^${pattern}$`, "s").exec(path);
  if (!m) return {};
  return Object.fromEntries(names.map((n, i) => [n, m[i + 1] as string]));
}

/**
 * A concrete request path for a route template: `{name}` becomes `sample-name`, `{name+}` becomes
 * `sample-name/sub` (a slash, so the check also covers globs where `*` spans "/").
 */
export function samplePath(template: string): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g, (_m, name: string, greedy: string) =>
    greedy ? `sample-${name}/sub` : `sample-${name}`,
  );
}

function isHttpMethod(value: unknown): value is HttpMethod {
  return typeof value === "string" && (HTTP_METHODS as readonly string[]).includes(value);
}

function isRouteClass(value: unknown): value is RouteClass {
  return typeof value === "string" && (ROUTE_CLASSES as readonly string[]).includes(value);
}

/** Validates a catalog read from JSON; lists every problem at once. */
export function parseRouteCatalog(input: unknown): RouteCatalog {
  if (typeof input !== "object" || input === null) throw new CatalogError("catalog must be an object");
  const { mlflowVersion, routes } = input as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof mlflowVersion !== "string" || mlflowVersion === "") problems.push("mlflowVersion must be a string");
  if (!Array.isArray(routes)) throw new CatalogError([...problems, "routes must be an array"].join("; "));
  const seen = new Set<string>();
  const actionClass = new Map<string, RouteClass>();
  const parsed: CatalogRoute[] = [];
  routes.forEach((raw: unknown, i) => {
    const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = `routes[${i}]`;
    if (!isHttpMethod(r.method)) problems.push(`${where}: method must be one of ${HTTP_METHODS.join(", ")}`);
    if (typeof r.path !== "string") problems.push(`${where}: path must be a string`);
    else {
      try {
        parsePathTemplate(r.path);
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message}`);
      }
    }
    if (typeof r.action !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(r.action)) {
      problems.push(`${where}: action must be a PascalCase name`);
    }
    if (!isRouteClass(r.class)) problems.push(`${where}: class must be one of ${ROUTE_CLASSES.join(", ")}`);
    if (isRouteClass(r.class) && typeof r.path === "string" && r.auth !== authTypeOf(r.path, r.class)) {
      problems.push(`${where}: auth must be ${authTypeOf(r.path, r.class)} for this path and class`);
    }
    if (r.source !== "fastapi" && r.source !== "flask") problems.push(`${where}: source must be fastapi or flask`);
    if (r.note !== undefined && typeof r.note !== "string") problems.push(`${where}: note must be a string`);
    const id = `${String(r.method)} ${String(r.path)}`;
    if (seen.has(id)) problems.push(`${where}: duplicate route ${id}`);
    seen.add(id);
    if (typeof r.action === "string" && isRouteClass(r.class)) {
      const known = actionClass.get(r.action);
      if (known !== undefined && known !== r.class) {
        problems.push(`${where}: action ${r.action} is ${r.class} here but ${known} elsewhere`);
      }
      actionClass.set(r.action, r.class);
    }
    parsed.push(r as unknown as CatalogRoute);
  });
  if (problems.length > 0) throw new CatalogError(`invalid route catalog:\n  ${problems.join("\n  ")}`);
  return { mlflowVersion: mlflowVersion as string, routes: parsed };
}

export function routeId(route: Pick<CatalogRoute, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** Rank of a Flask rule for a path it matches: static text beats a parameter, a segment beats a greedy one. */
function flaskSpecificity(path: string): number[] {
  return parsePathTemplate(path).flatMap((p) =>
    p.kind === "literal" ? [...p.text].map(() => 2) : p.kind === "segment" ? [1] : [0],
  );
}

function compareSpecificity(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (b[i] as number) - (a[i] as number);
  }
  return b.length - a.length;
}

/**
 * Finds the catalog route MLflow would dispatch a request to, or undefined for an unknown route.
 * FastAPI routes come first in registration order: the first whose path and method both match wins
 * (Starlette); a path match with another method is only partial, so the request falls through to the
 * Flask app mounted at "/". There, among the rules that match both path and method, the most specific
 * wins (werkzeug prefers static text to parameters, and passes over a static rule of another method:
 * `GET /traces/search` is `GET /traces/{trace_id}`). `path` is the decoded request path without a query.
 */
export class RouteMatcher {
  /** By method: FastAPI routes in order, Flask's static paths, and its rules with parameters. */
  private readonly byMethod = new Map<string, MethodRoutes>();

  constructor(readonly catalog: RouteCatalog) {
    for (const route of catalog.routes) {
      let m = this.byMethod.get(route.method);
      if (!m) {
        m = { fastapi: [], flaskStatic: new Map(), flaskRules: [] };
        this.byMethod.set(route.method, m);
      }
      const rank = flaskSpecificity(route.path);
      if (route.source === "fastapi") m.fastapi.push({ route, re: templateToRegExp(route.path, "fastapi"), rank });
      else if (rank.every((r) => r === 2)) {
        if (!m.flaskStatic.has(route.path)) m.flaskStatic.set(route.path, route);
      } else m.flaskRules.push({ route, re: templateToRegExp(route.path, "flask"), rank });
    }
  }

  match(method: string, path: string): CatalogRoute | undefined {
    const m = this.byMethod.get(method);
    if (!m) return undefined;
    const fastapi = m.fastapi.find((c) => c.re.test(path));
    if (fastapi) return fastapi.route;
    // A static rule that is the path beats any rule with a parameter (static text ranks first).
    const exact = m.flaskStatic.get(path);
    if (exact) return exact;
    let best: CompiledRoute | undefined;
    for (const c of m.flaskRules) {
      if (c.re.test(path) && (best === undefined || compareSpecificity(c.rank, best.rank) < 0)) best = c;
    }
    return best?.route;
  }
}

interface CompiledRoute {
  readonly route: CatalogRoute;
  readonly re: RegExp;
  readonly rank: number[];
}

interface MethodRoutes {
  readonly fastapi: CompiledRoute[];
  readonly flaskStatic: Map<string, CatalogRoute>;
  readonly flaskRules: CompiledRoute[];
}
