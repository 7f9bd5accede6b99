// Regenerates policies/mlflow-routes.json from the MLflow pinned in MLFLOW_VERSION (installed into .venv).
import { writeFileSync } from "fs";
import { CATALOG_FILE } from "../project/paths";
import { ensureMlflowVenv } from "../project/mlflow-venv";
import { formatRouteCatalog, introspectRouteCatalog } from "./lib/route-catalog";

ensureMlflowVenv();
const catalog = introspectRouteCatalog();
writeFileSync(CATALOG_FILE, formatRouteCatalog(catalog));
const byClass = new Map<string, number>();
for (const r of catalog.routes) byClass.set(r.class, (byClass.get(r.class) ?? 0) + 1);
console.log(`wrote ${CATALOG_FILE}: ${catalog.routes.length} routes of MLflow ${catalog.mlflowVersion}`);
console.log([...byClass].map(([c, n]) => `${c} ${n}`).join(", "));
