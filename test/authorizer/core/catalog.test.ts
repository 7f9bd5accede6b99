import {
  readPathParameters,
  authTypeOfRequest,
  CatalogRoute,
  parsePathTemplate,
  parseRouteCatalog,
  routeId,
  RouteMatcher,
  samplePath,
  templateToRegExp,
} from "../../../authorizer/core/catalog";
import { CatalogError } from "../../../authorizer/core/errors";
import { loadRouteCatalog } from "../../../authorizer/load-policies";
import { CATALOG_FILE } from "../../../project/paths";
import { thrownBy } from "../../support/errors";

const route = (over: Record<string, unknown>) => ({
  method: "GET",
  path: "/a",
  action: "GetA",
  class: "read",
  auth: "cognito",
  source: "flask",
  ...over,
});

describe("parsePathTemplate", () => {
  test("splits literals, one-segment and greedy parameters", () => {
    expect(parsePathTemplate("/t/{id}/x/{rest+}")).toEqual([
      { kind: "literal", text: "/t/" },
      { kind: "segment", name: "id" },
      { kind: "literal", text: "/x/" },
      { kind: "greedy", name: "rest" },
    ]);
  });
  test("rejects malformed templates", () => {
    expect(() => parsePathTemplate("t")).toThrow(CatalogError);
    expect(() => parsePathTemplate("/t/{id")).toThrow(CatalogError);
  });
  test("greedy parameters read as each router reads them", () => {
    expect(templateToRegExp("/s/{p+}", "flask").test("/s/")).toBe(false);
    expect(templateToRegExp("/s/{p+}", "fastapi").test("/s/")).toBe(true);
    expect(templateToRegExp("/s/{p}", "flask").test("/s/a/b")).toBe(false);
  });
});

describe("parseRouteCatalog", () => {
  test("accepts a well-formed catalog", () => {
    expect(parseRouteCatalog({ mlflowVersion: "3.0.0", routes: [route({})] }).routes).toHaveLength(1);
  });
  test("lists every problem: duplicates, bad fields, one action with two classes, wrong surface", () => {
    const bad = () =>
      parseRouteCatalog({
        mlflowVersion: 3,
        routes: [
          route({}),
          route({}),
          route({ method: "TRACE", path: "/b" }),
          route({ path: "/c", class: "write" }),
          route({ path: "/api/2.0/x", action: "X" }),
        ],
      });
    const message = thrownBy(bad, CatalogError).message;
    expect(message).toMatch(/mlflowVersion must be a string/);
    expect(message).toMatch(/routes\[1\]: duplicate route GET \/a/);
    expect(message).toMatch(/routes\[2\]: method must be one of/);
    expect(message).toMatch(/routes\[3\]: action GetA is write here but read elsewhere/);
    expect(message).toMatch(/routes\[4\]: auth must be iam/);
  });
});

describe("RouteMatcher", () => {
  const catalog = parseRouteCatalog({
    mlflowVersion: "3.0.0",
    routes: [
      route({ source: "fastapi", method: "GET", path: "/art/{p+}", action: "Download" }),
      route({ method: "DELETE", path: "/art/{p+}", action: "DeleteArt", class: "write" }),
      route({ method: "GET", path: "/t/{id}", action: "GetT" }),
      route({ method: "POST", path: "/t/search", action: "SearchT" }),
      route({ method: "GET", path: "/t/get", action: "GetTByName" }),
    ],
  });
  const m = new RouteMatcher(catalog);
  test("FastAPI first; a FastAPI path match with another verb falls through to Flask", () => {
    expect(m.match("GET", "/art/a/b")?.action).toBe("Download");
    expect(m.match("DELETE", "/art/a/b")?.action).toBe("DeleteArt");
    expect(m.match("PUT", "/art/a/b")).toBeUndefined();
  });
  test("werkzeug: static text beats a parameter, but only among rules of the request's verb", () => {
    expect(m.match("GET", "/t/get")?.action).toBe("GetTByName");
    expect(m.match("GET", "/t/search")?.action).toBe("GetT");
    expect(m.match("POST", "/t/search")?.action).toBe("SearchT");
    expect(m.match("GET", "/t/a/b")).toBeUndefined();
  });
});

/**
 * The matcher's rule read literally, one route after the other: the first FastAPI route of the method whose
 * path matches, else the most specific matching Flask rule of the method (first in catalog order on a tie).
 */
function matchByScan(routes: readonly CatalogRoute[], method: string, path: string): CatalogRoute | undefined {
  const hits = (source: CatalogRoute["source"]) =>
    routes.filter((r) => r.source === source && r.method === method && templateToRegExp(r.path, source).test(path));
  const fastapi = hits("fastapi")[0];
  if (fastapi) return fastapi;
  const rank = (p: string) =>
    parsePathTemplate(p).flatMap((t) =>
      t.kind === "literal" ? [...t.text].map(() => 2) : [t.kind === "segment" ? 1 : 0],
    );
  const before = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      if (a[i] !== b[i]) return (a[i] as number) > (b[i] as number);
    return a.length > b.length;
  };
  return hits("flask").reduce<CatalogRoute | undefined>(
    (best, r) => (best === undefined || before(rank(r.path), rank(best.path)) ? r : best),
    undefined,
  );
}

test("RouteMatcher on the pinned catalog finds what a scan of every route finds, for every method and many paths", () => {
  // Prepare: each route's template and sample path, with a segment changed, added, or taken off.
  const catalog = loadRouteCatalog(CATALOG_FILE);
  const matcher = new RouteMatcher(catalog);
  const paths = new Set<string>();
  for (const r of catalog.routes) {
    const sample = samplePath(r.path);
    for (const p of [
      r.path,
      sample,
      `${sample}/x`,
      sample.replace(/\/[^/]*$/, ""),
      sample.replace(/[^/]+$/, "search"),
      `${sample}/`,
    ])
      paths.add(p);
  }
  // Act
  const differ: string[] = [];
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
    for (const path of paths) {
      if (matcher.match(method, path) !== matchByScan(catalog.routes, method, path)) differ.push(`${method} ${path}`);
    }
  }
  // Assess
  expect(paths.size).toBeGreaterThan(1000);
  expect(differ).toEqual([]);
});

test("readPathParameters reads segment and greedy parameters", () => {
  expect(readPathParameters("/x/{trace_id}/tags/{path+}", "/x/tr-1/tags/a/b")).toEqual({
    trace_id: "tr-1",
    path: "a/b",
  });
  expect(readPathParameters("/x/{id}", "/y/1")).toEqual({});
});

describe("samplePath", () => {
  test("fills a segment parameter with one segment and a greedy one with two", () => {
    // Act
    const path = samplePath("/ajax-api/2.0/mlflow/{id}/artifacts/{artifact_path+}");
    // Assess
    expect(path).toBe("/ajax-api/2.0/mlflow/sample-id/artifacts/sample-artifact_path/sub");
  });

  test("the sample path of every catalog route is served by that route, so a decision on it decides the route", () => {
    // Prepare
    const catalog = loadRouteCatalog(CATALOG_FILE);
    const matcher = new RouteMatcher(catalog);
    // Act
    const strays = catalog.routes.filter((r) => matcher.match(r.method, samplePath(r.path)) !== r).map(routeId);
    // Assess
    expect(strays).toEqual([]);
  });
});

describe("authTypeOfRequest", () => {
  test("a listed route keeps its own surface, public ones included", () => {
    // Prepare
    const health = { ...route({ path: "/health", class: "static", auth: "none" }) } as CatalogRoute;
    // Act, Assess
    expect(authTypeOfRequest(health, "/health")).toBe("none");
  });

  test("a path the catalog does not list is authorized by its prefix, never public", () => {
    expect(authTypeOfRequest(undefined, "/api/2.0/mlflow/brand-new")).toBe("iam");
    expect(authTypeOfRequest(undefined, "/ajax-api/2.0/mlflow/brand-new")).toBe("cognito");
    expect(authTypeOfRequest(undefined, "/static-files/brand-new.js")).toBe("cognito");
  });
});
