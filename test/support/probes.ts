import { spawnSync } from "child_process";
import { join } from "path";
import { CatalogRoute, parsePathTemplate, RouteCatalog } from "../../authorizer/core/catalog";
import { REPO_ROOT, VENV_PYTHON } from "../../project/paths";
import { toPathTemplate } from "../../scripts/lib/route-classification";

export interface Probe {
  readonly method: string;
  readonly path: string;
  /** The route whose template produced this path. */
  readonly from: CatalogRoute;
}

/** Values for one-segment parameters: plain, and names of sibling routes (`traces/search`). */
const SEGMENT_VALUES = ["x", "search", "get", "1.0", "-", "tags"];
/** Values for greedy parameters: plain, nested, and a dot segment. */
const GREEDY_VALUES = ["x", "a/b", "x/y/z", "v1/chat/completions"];

export function fillTemplate(path: string, segment: string, greedy: string): string {
  return parsePathTemplate(path)
    .map((p) => (p.kind === "literal" ? p.text : p.kind === "segment" ? segment : greedy))
    .join("");
}

/**
 * Concrete requests for every route: its parameters filled with awkward values, and each greedy
 * parameter also filled with the path of every other route of the same verb, which is how a caller
 * would smuggle a denied request under an allowed glob (`…/mpu/create/x/api/2.0/mlflow/runs/search`).
 */
export function buildProbes(catalog: RouteCatalog): Probe[] {
  const probes = new Map<string, Probe>();
  const add = (from: CatalogRoute, path: string) => {
    const key = `${from.method} ${path}`;
    if (!probes.has(key)) probes.set(key, { method: from.method, path, from });
  };
  // Each route's plain request first, so that it is attributed to the route itself.
  for (const r of catalog.routes) add(r, fillTemplate(r.path, "x", "x"));
  for (const r of catalog.routes) {
    for (const s of SEGMENT_VALUES) for (const g of GREEDY_VALUES) add(r, fillTemplate(r.path, s, g));
    if (!r.path.includes("+}")) continue;
    for (const other of catalog.routes) {
      if (other.method !== r.method) continue;
      const tail = fillTemplate(other.path, "x", "x").slice(1);
      add(r, fillTemplate(r.path, "x", `x/${tail}`));
      add(r, fillTemplate(r.path, "x", tail));
    }
  }
  return [...probes.values()];
}

/**
 * Asks the installed MLflow which route serves each request (scripts/mlflow-route-oracle.py) and
 * returns, per probe, the catalog id (`METHOD template`) or undefined for 404/405/redirect.
 */
export function askMlflowRouting(probes: readonly Probe[]): (string | undefined)[] {
  const r = spawnSync(VENV_PYTHON, [join(REPO_ROOT, "scripts", "mlflow-route-oracle.py")], {
    input: JSON.stringify(probes.map((p) => [p.method, p.path])),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`route oracle failed: ${r.stderr}`);
  const answers = JSON.parse(r.stdout) as ([string, string] | null)[];
  return answers.map((a) => (a ? `${a[0]} ${toPathTemplate(a[1])}` : undefined));
}
