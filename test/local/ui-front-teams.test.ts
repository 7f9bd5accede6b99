import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer, IncomingHttpHeaders, request, Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import { closeServer } from "../../common/http-server";
import { createGateway, serveGateway } from "../../gateway/server";
import { principalStore } from "../../local/principals";
import { createUiFront } from "../../local/ui-front";
import { uiRouteOf } from "../../local/ui-files";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { createSigningKey, seededAuthorizer } from "../authorizer/support/tokens";
import { listenOnLoopback } from "../support/loopback";
import { TEST_GATEWAY, testApi } from "../gateway/support/test-gateway";

// The front of a local stack with teams: the UI's page and static files under each team's /ws/<team>/ too, the
// shell's page at /, and everything else to the real gateway (the API under /ws/{workspace}/).

const WORKSPACES = ["team-a", "team-b", "default"];

describe("uiRouteOf", () => {
  test("without teams only / and /static-files/* are the UI's", () => {
    expect(uiRouteOf("/")).toEqual({ file: "/" });
    expect(uiRouteOf("/static-files/static/js/main.js")).toEqual({ file: "/static-files/static/js/main.js" });
    expect(uiRouteOf("/ws/team-a/")).toBeUndefined();
    expect(uiRouteOf("/ws/team-a/static-files/x.js")).toBeUndefined();
  });

  test("with teams a team's page and static files are the UI's, /ws/<team> goes to /ws/<team>/", () => {
    expect(uiRouteOf("/", WORKSPACES)).toEqual({ file: "/" });
    expect(uiRouteOf("/ws/team-a/", WORKSPACES)).toEqual({ file: "/" });
    expect(uiRouteOf("/ws/default/", WORKSPACES)).toEqual({ file: "/" });
    expect(uiRouteOf("/ws/team-b/static-files/static/js/main.js", WORKSPACES)).toEqual({
      file: "/static-files/static/js/main.js",
    });
    expect(uiRouteOf("/ws/team-a", WORKSPACES)).toEqual({ redirect: "/ws/team-a/" });
  });

  test("another team, MLflow's routes in a team and odd team parts are not the UI's", () => {
    for (const path of [
      "/ws/team-c/",
      "/ws/team-c",
      "/ws/team-a/ajax-api/2.0/mlflow/experiments/search",
      "/ws/team-a/index.html",
      "/ws/team-a/graphql",
      "/ws/Team-A/",
      "/ws//",
      "/ws/",
      "/ws/team-a/ws/team-b/",
    ])
      expect([path, uiRouteOf(path, WORKSPACES)]).toEqual([path, undefined]);
  });
});

describe("the front with teams", () => {
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR, REPO_ROOT, EXAMPLE_TEAMS_DIR);
  const root = mkdtempSync(join(tmpdir(), "mlflow-gate-ui-teams-"));
  const ui = join(root, "ui");
  let upstream: Server;
  let front: Server;
  let base: URL;
  let seen: string[] = [];

  beforeAll(async () => {
    mkdirSync(join(ui, "static-files", "static", "js"), { recursive: true });
    writeFileSync(join(ui, "index.html"), "<html>patched</html>");
    writeFileSync(join(ui, "static-files", "static", "js", "main.js"), "console.log(1)");
    writeFileSync(join(root, "secret.txt"), "outside the UI");
    upstream = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    const gateway = createGateway({
      ...TEST_GATEWAY,
      policySet,
      authorizer: seededAuthorizer(policySet, [createSigningKey()]),
      credentials: principalStore([]),
      api: testApi(policySet, await listenOnLoopback(upstream)),
      log: () => undefined,
    });
    front = serveGateway(createUiFront({ gateway, uiDirectory: ui, log: () => undefined, workspaces: WORKSPACES }));
    base = await listenOnLoopback(front);
  });

  afterAll(async () => {
    await closeServer(front);
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen = [];
  });

  /** A raw HTTP request (fetch would normalise the paths these tests need as sent). */
  function send(path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: base.hostname, port: base.port, method: "GET", path }, (res) => {
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

  test("/, a team's page and its static files come from the UI's directory, not from MLflow", async () => {
    // Act
    const answers = await Promise.all(
      ["/", "/ws/team-a/", "/ws/team-b/?x=1", "/ws/team-a/static-files/static/js/main.js"].map(send),
    );

    // Assess
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, "<html>patched</html>"],
      [200, "<html>patched</html>"],
      [200, "<html>patched</html>"],
      [200, "console.log(1)"],
    ]);
    expect(seen).toEqual([]);
  });

  test("/ws/<team> is sent to /ws/<team>/, where MLflow's relative requests stay in the team", async () => {
    // Act
    const r = await send("/ws/team-a");
    // Assess
    expect([r.status, r.headers.location]).toEqual([301, "/ws/team-a/"]);
  });

  test("a team's missing file is a 404, traversal stays refused, another team is the gateway's", async () => {
    // Act
    const missing = await send("/ws/team-a/static-files/nope.js");
    const traversal = await send("/ws/team-a/static-files/%2e%2e/%2e%2e/secret.txt");
    const unknown = await send("/ws/team-c/");
    const api = await send("/ws/team-a/ajax-api/2.0/mlflow/experiments/search");

    // Assess
    expect(missing.status).toBe(404);
    expect(traversal.body).not.toContain("outside the UI");
    expect([400, 404]).toContain(traversal.status);
    // The gateway: no method of the API at /ws/team-c/ (403), the authorizer's 401 without a token
    expect([unknown.status, api.status]).toEqual([403, 401]);
    expect(seen).toEqual([]);
  });
});
