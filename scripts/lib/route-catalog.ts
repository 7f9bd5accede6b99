// The committed route catalog against the installed MLflow: introspect it, write the catalog file, compare the two.
import { RouteCatalog } from "../../authorizer/core/catalog";
import { runVenvPython } from "../../project/mlflow-venv";
import { buildRouteCatalog, Introspection } from "./route-classification";

/** The catalog as the installed MLflow in .venv would have it, with today's classification rules. */
export function introspectRouteCatalog(): RouteCatalog {
  const introspection = JSON.parse(runVenvPython("introspect-mlflow-routes.py")) as Introspection;
  return buildRouteCatalog(introspection);
}

export function formatRouteCatalog(catalog: RouteCatalog): string {
  const lines = catalog.routes.map((r) => `    ${JSON.stringify(r)}`);
  return `{\n  "mlflowVersion": ${JSON.stringify(catalog.mlflowVersion)},\n  "routes": [\n${lines.join(",\n")}\n  ]\n}\n`;
}

export interface RouteCatalogDiff {
  readonly missing: string[];
  readonly extra: string[];
  readonly changed: string[];
}

/** What the committed catalog lacks, has in excess, or decides differently from the installed MLflow. */
export function diffRouteCatalogs(committed: RouteCatalog, installed: RouteCatalog): RouteCatalogDiff {
  const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
  const have = new Map(committed.routes.map((r) => [key(r), r]));
  const want = new Map(installed.routes.map((r) => [key(r), r]));
  const missing = [...want.keys()].filter((k) => !have.has(k));
  const extra = [...have.keys()].filter((k) => !want.has(k));
  const changed: string[] = [];
  for (const [k, w] of want) {
    const h = have.get(k);
    if (h && (h.action !== w.action || h.class !== w.class || h.auth !== w.auth || h.source !== w.source)) {
      changed.push(
        `${k}: committed ${h.action}/${h.class}/${h.auth}/${h.source}, installed ${w.action}/${w.class}/${w.auth}/${w.source}`,
      );
    }
  }
  const order = (c: RouteCatalog) =>
    c.routes
      .filter((r) => r.source === "fastapi")
      .map(key)
      .join("|");
  if (missing.length === 0 && extra.length === 0 && order(committed) !== order(installed)) {
    changed.push("FastAPI route order differs (it decides which route serves a path)");
  }
  if (committed.mlflowVersion !== installed.mlflowVersion) {
    changed.push(`mlflowVersion: committed ${committed.mlflowVersion}, installed ${installed.mlflowVersion}`);
  }
  return { missing, extra, changed };
}
