import fc from "fast-check";
import { createServer, Server } from "http";
import { loadPolicySet } from "../../authorizer/load-policies";
import { parsePrincipals, principalStore } from "../../local/principals";
import { AccessLogEntry } from "../../gateway/answer";
import { readTarget } from "../../gateway/passes/target";
import { createGatewayServer } from "../../gateway/server";
import { closeServer } from "../../common/http-server";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { createSigningKey, signJwt, accessClaims, seededAuthorizer } from "../authorizer/support/tokens";
import { sendRaw } from "../security/support/attack";
import { target } from "../support/request-targets";
import { listenOnLoopback } from "../support/loopback";
import { TEST_GATEWAY, testApi } from "./support/test-gateway";

// The whole emulator under random requests, and its reading of targets. How the guard reads a target
// against MLflow's own reading: test/guard/request-target.property.test.ts.

describe("readTarget (the emulator's reading of a request target)", () => {
  test("never throws, whatever the string", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), target), (t) => {
        expect(() => readTarget(t)).not.toThrow();
      }),
      { numRuns: 2000, seed: 13 },
    );
  });
});

describe("the whole gateway under random requests without valid credentials", () => {
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const key = createSigningKey();
  const stranger = createSigningKey("stranger");
  const { principals } = parsePrincipals(
    { principals: [{ name: "mlflow-admin", group: "admins" }] },
    new Set(policySet.groups.keys()),
    "principals.json",
  );
  let upstream: Server;
  let gateway: Server;
  let base = "";
  const seen: string[] = [];
  const logs: AccessLogEntry[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => res.end("{}"));
    });
    gateway = createGatewayServer({
      ...TEST_GATEWAY,
      policySet,
      authorizer: seededAuthorizer(policySet, [key]),
      credentials: principalStore(principals),
      api: testApi(policySet, await listenOnLoopback(upstream)),
      log: (e) => void logs.push(e),
    });
    base = (await listenOnLoopback(gateway)).origin;
  });
  afterAll(async () => {
    await closeServer(gateway);
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const adminClaims = accessClaims({ "cognito:groups": ["admins"] });
  const credential = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      "Bearer a.b.c",
      `Bearer ${signJwt({ alg: "RS256", kid: stranger.kid }, adminClaims, stranger.privateKey)}`,
      `Bearer ${signJwt({ alg: "none", kid: key.kid }, adminClaims, undefined)}`,
      `Bearer ${signJwt({ alg: "RS256", kid: key.kid }, { ...adminClaims, exp: 1 }, key.privateKey)}`,
      `AWS4-HMAC-SHA256 Credential=${principals[0]!.accessKeyId}/20250115/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
      "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20250115/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=zz",
      "Basic YWRtaW46YWRtaW4=",
    ),
    fc.string({ maxLength: 40 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
  );
  const extraHeader = fc.tuple(
    fc.constantFrom(
      "X-HTTP-Method-Override",
      "X-Forwarded-For",
      "X-Original-URL",
      "X-Amz-Date",
      "X-Amz-Security-Token",
      "X-Mlflow-Gate-Groups",
      "Content-Type",
      "Transfer-Encoding",
      "Expect",
    ),
    fc.constantFrom(
      "DELETE",
      "admins",
      "/api/2.0/mlflow/experiments/delete",
      "20250115T120000Z",
      "chunked",
      "100-continue",
      "application/json",
      "",
    ),
  );
  const request = fc.record({
    method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "post", "PROPFIND"),
    target: fc.oneof(
      target,
      fc.constantFrom(
        "/api/2.0/mlflow/experiments/delete",
        "/ajax-api/2.0/mlflow/experiments/delete",
        "/graphql",
        "/health",
        "/version",
        "/static-files/x.js",
        "/mlflow-gate-ui.json",
        "*",
        "http://127.0.0.1/api/2.0/mlflow/runs/create",
      ),
    ),
    authorization: credential,
    headers: fc.array(extraHeader, { maxLength: 3 }),
    body: fc.oneof(fc.constant(""), fc.json({ maxDepth: 2 })),
  });

  test("never a 5xx, and nothing reaches MLflow (the API's one public method is a MOCK)", async () => {
    let publicTotal = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Prepare
        seen.length = 0;
        logs.length = 0;
        const headers: [string, string][] = [
          ...(r.authorization === undefined ? [] : [["Authorization", r.authorization] as [string, string]]),
          ...r.headers.filter(([n]) => n !== "Transfer-Encoding" && n !== "Expect"),
        ];
        // Act
        const response = await sendRaw(base, {
          method: r.method,
          target: r.target,
          headers,
          body: r.method === "GET" || r.method === "HEAD" ? "" : r.body,
        });
        // Assess
        expect(response.status).toBeGreaterThanOrEqual(200);
        expect(response.status).toBeLessThan(500);
        expect(logs.map((l) => l.decision)).not.toContain("allow");
        expect(seen).toEqual([]);
        publicTotal += logs.filter((l) => l.decision === "public").length;
      }),
      { numRuns: 300, seed: 99 },
    );
    // The public method was reached too: the runs were not all refused at the door
    expect(publicTotal).toBeGreaterThan(0);
  }, 60_000);
});
