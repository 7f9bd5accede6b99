import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer, IncomingHttpHeaders, request, Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { closeServer } from "../../common/http-server";
import { AccessLogEntry } from "../../gateway/answer";
import { createGateway, serveGateway } from "../../gateway/server";
import { parsePrincipals, principalStore } from "../../local/principals";
import { createUiFront } from "../../local/ui-front";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { createSigningKey, seededAuthorizer } from "../authorizer/support/tokens";
import { listenOnLoopback } from "../support/loopback";
import { TEST_GATEWAY, TEST_UI_CONFIG, testApi } from "../gateway/support/test-gateway";

// The front of the local stack: a patched UI directory, and the real gateway (the authorizer module with a
// seeded JWKS) in front of a recording upstream on port 0 that stands for MLflow.

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const key = createSigningKey();
const { principals } = parsePrincipals(
  { principals: [{ name: "mlflow-reader", group: "readers" }] },
  new Set(policySet.groups.keys()),
  "principals.json",
);

const root = mkdtempSync(join(tmpdir(), "mlflow-gate-ui-"));
const ui = join(root, "ui");
let upstream: Server;
let front: Server;
let base: string;
let seen: string[] = [];
let logs: AccessLogEntry[] = [];

beforeAll(async () => {
  mkdirSync(join(ui, "static-files", "static", "js"), { recursive: true });
  writeFileSync(join(ui, "index.html"), "<html>patched</html>");
  writeFileSync(join(ui, "static-files", "static", "js", "main.js"), "console.log(1)");
  writeFileSync(join(root, "secret.txt"), "outside the UI");

  upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  const log = (e: AccessLogEntry) => void logs.push(e);
  const gateway = createGateway({
    ...TEST_GATEWAY,
    policySet,
    authorizer: seededAuthorizer(policySet, [key]),
    credentials: principalStore(principals),
    api: testApi(policySet, await listenOnLoopback(upstream)),
    log,
  });
  front = serveGateway(
    createUiFront({
      gateway,
      uiDirectory: ui,
      log,
    }),
  );
  base = (await listenOnLoopback(front)).origin;
});

afterAll(async () => {
  await closeServer(front);
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  logs = [];
});

/** A raw HTTP request (fetch would normalise the paths these tests need as sent). */
function send(method: string, path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

test("/ and /static-files/* come from the directory, /mlflow-gate-ui.json from the API's MOCK, without credentials, not from MLflow", async () => {
  // Act
  const index = await send("GET", "/");
  const script = await send("GET", "/static-files/static/js/main.js");
  const config = await send("GET", "/mlflow-gate-ui.json");

  // Assess
  expect([index.status, index.body, index.headers["content-type"]]).toEqual([
    200,
    "<html>patched</html>",
    "text/html; charset=utf-8",
  ]);
  expect([script.status, script.body, script.headers["content-type"]]).toEqual([
    200,
    "console.log(1)",
    "text/javascript; charset=utf-8",
  ]);
  expect([config.status, config.headers["cache-control"]]).toEqual([200, "no-cache"]);
  expect(JSON.parse(config.body)).toEqual(TEST_UI_CONFIG);
  expect(seen).toHaveLength(0);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the log line follows the response
  // One line each; a file's line is written when its stream closes, so the lines may come in another order.
  expect(logs.map((l) => [l.decision, l.surface, l.status, l.path]).sort()).toEqual([
    ["public", "none", 200, "/"],
    ["public", "none", 200, "/mlflow-gate-ui.json"],
    ["public", "none", 200, "/static-files/static/js/main.js"],
  ]);
  expect(logs.find((l) => l.path === "/")?.requestId).toBe(index.headers["x-amzn-requestid"]);
});

test("a missing UI file is a 404 in API Gateway's shape, not a request to MLflow", async () => {
  // Act
  const r = await send("GET", "/static-files/nope.js");
  // Assess
  expect(r.status).toBe(404);
  expect(JSON.parse(r.body)).toEqual({ message: "Not Found" });
  expect(r.headers["x-amzn-errortype"]).toBe("NotFoundException");
  expect(seen).toHaveLength(0);
  expect(logs).toMatchObject([{ decision: "public", status: 404, path: "/static-files/nope.js" }]);
});

test("path traversal out of the UI directory is refused (regression: encoded and plain ..)", async () => {
  for (const path of [
    "/static-files/../../secret.txt",
    "/static-files/%2e%2e/%2e%2e/secret.txt",
    "/static-files/..%2f..%2fsecret.txt",
    "/static-files/%2E%2E%5C..%5Csecret.txt",
  ]) {
    // Act
    const r = await send("GET", path);
    // Assess
    expect(r.body).not.toContain("outside the UI");
    expect([400, 404]).toContain(r.status);
  }
  expect(seen).toHaveLength(0);
});

test("other routes, and other methods on UI paths, go to the gateway, which answers as the API would", async () => {
  // Act
  const search = await send("GET", "/ajax-api/2.0/mlflow/experiments/search");
  const health = await send("GET", "/health");
  const post = await send("POST", "/");
  // Assess: the authorizer's 401; MLflow's health and a POST to / are no methods of the API
  expect([search.status, health.status, post.status]).toEqual([401, 403, 403]);
  expect([health.headers["x-amzn-errortype"], post.headers["x-amzn-errortype"]]).toEqual([
    "MissingAuthenticationTokenException",
    "MissingAuthenticationTokenException",
  ]);
  expect(seen).toEqual([]);
});
