import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { RouteMatcher } from "../../authorizer/core/catalog";
import { loadRouteCatalog } from "../../authorizer/load-policies";
import { CATALOG_FILE } from "../../project/paths";
import { mlflowUiBuildDir } from "../../project/mlflow-venv";
import { buildUi } from "../../ui-patch/build-ui";
import { mlflowUiBuildOf } from "../support/mlflow-wheel";

// The patch must survive MLflow upgrades: the same injection applied to the UI of the pinned wheel and of
// another recent 3.x release (from PyPI), and what each release's UI calls is served by our catalog.
const OTHER_RELEASE = "3.16.1";

const out = mkdtempSync(join(tmpdir(), "mlflow-gate-other-ui-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** index.html with content hashes taken out: what is left is the page's structure. */
const withoutHashes = (html: string): string => html.replace(/\.[0-9a-f]{8,}\./g, ".#.");

/** The `ajax-api/...` paths MLflow's bundle names as whole string literals. */
function ajaxPathsOf(build: string): Set<string> {
  const dir = join(build, "static", "js");
  const paths = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    for (const m of readFileSync(join(dir, file), "utf8").matchAll(
      /["'`]\/?(ajax-api\/[0-9.]+\/mlflow\/[a-z0-9/_-]+)["'`]/g,
    ))
      paths.add(`/${m[1]}`);
  }
  return paths;
}

let otherBuild: string;
beforeAll(async () => {
  otherBuild = await mlflowUiBuildOf(OTHER_RELEASE);
}, 300_000);

test(`the injection builds MLflow ${OTHER_RELEASE}'s UI into the same page as the pinned release's`, async () => {
  // Act
  const pinned = await buildUi(join(out, "pinned"));
  const other = await buildUi(join(out, "other"), undefined, otherBuild);

  // Assess
  expect(other.mlflowMain).toMatch(/^static-files\/static\/js\/main\.[0-9a-f]+\.js$/);
  expect(other.shellBytes).toBe(pinned.shellBytes);
  expect(withoutHashes(readFileSync(join(out, "other", "index.html"), "utf8"))).toBe(
    withoutHashes(readFileSync(join(out, "pinned", "index.html"), "utf8")),
  );
}, 120_000);

/**
 * Paths the UI bundle names that the tracking server itself does not serve: the users and roles API of
 * MLflow's basic-auth app, the 4.0 trace search, and legacy names. Through the gateway they are unknown
 * routes (admins reach MLflow's 404, other groups get 403), as they would be without the gateway.
 */
const NOT_SERVED_BY_THE_TRACKING_SERVER =
  /^\/ajax-api\/(2\.0\/mlflow\/(users\/|registered-models\/list$|get-artifact$)|3\.0\/mlflow\/(users\/|roles\/)|4\.0\/mlflow\/traces\/)/;

test("every ajax-api path the UI of either release names is a UI route of the catalog, or the start of some, or one the tracking server lacks", () => {
  // Prepare
  const catalog = loadRouteCatalog(CATALOG_FILE);
  const matcher = new RouteMatcher(catalog);
  const route = (path: string) =>
    ["GET", "POST", "PATCH", "DELETE", "PUT"].some((m) => matcher.match(m, path)?.auth === "cognito");
  const prefix = (path: string) => catalog.routes.some((r) => r.auth === "cognito" && r.path.startsWith(`${path}/`));

  // Act
  const pinned = ajaxPathsOf(mlflowUiBuildDir());
  const other = ajaxPathsOf(otherBuild);
  const unexplained = [...new Set([...pinned, ...other])].filter(
    (p) => !route(p) && !prefix(p) && !NOT_SERVED_BY_THE_TRACKING_SERVER.test(p),
  );

  // Assess
  expect(pinned.size).toBeGreaterThan(100);
  expect(other.size).toBeGreaterThan(100);
  expect(unexplained).toEqual([]);
  // The lacking ones are unknown to the catalog, never a route some group was granted by mistake.
  for (const p of [...pinned].filter((x) => NOT_SERVED_BY_THE_TRACKING_SERVER.test(x))) expect(route(p)).toBe(false);
});
