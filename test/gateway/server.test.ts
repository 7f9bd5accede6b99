import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createServer, IncomingHttpHeaders, request, Server } from "http";
import { AddressInfo, connect, createServer as createNetServer } from "net";
import { loadPolicySet } from "../../authorizer/load-policies";
import { parsePrincipals, principalStore } from "../../local/principals";
import { AccessLogEntry } from "../../gateway/answer";
import { createGatewayServer } from "../../gateway/server";
import { closeServer } from "../../common/http-server";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { accessToken, createSigningKey, seededAuthorizer } from "../authorizer/support/tokens";
import { listenOnLoopback } from "../support/loopback";
import { SeenRequest, startRecordingUpstream } from "../support/recording-upstream";
import { TEST_GATEWAY, testApi } from "./support/test-gateway";

// The gateway against a recording upstream on port 0 (it stands for the network hop to MLflow; the
// integration suite runs real MLflow). The authorizer is the real module with a seeded JWKS.

type Seen = SeenRequest;

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const key = createSigningKey();
const { principals } = parsePrincipals(
  {
    principals: [
      { name: "mlflow-reader", group: "readers" },
      { name: "mlflow-admin", group: "admins" },
    ],
  },
  new Set(policySet.groups.keys()),
  "principals.json",
);
const reader = principals[0]!;

let upstream: Server;
let upstreamUrl: URL;
let seen: Seen[] = [];
let upstreamDelayMs = 0;

let gateway: Server;
let base: string;
let logs: AccessLogEntry[] = [];
let authorizerCalls = 0;
let clock = Date.now();

async function startGateway(
  options: {
    upstream?: URL;
    integrationTimeoutMs?: number;
    maxHeldBytes?: number;
    upstreamIdleMs?: number;
    maxHeldBodyBytes?: number;
  } = {},
): Promise<void> {
  const authorize = seededAuthorizer(policySet, [key]);
  gateway = createGatewayServer({
    ...TEST_GATEWAY,
    policySet,
    authorizer: (event) => {
      authorizerCalls++;
      return authorize(event);
    },
    credentials: principalStore(principals),
    api: testApi(policySet, options.upstream ?? upstreamUrl, { integrationTimeoutMs: options.integrationTimeoutMs }),
    log: (e) => void logs.push(e),
    now: () => new Date(clock),
    ...(options.maxHeldBytes !== undefined ? { maxHeldBytes: options.maxHeldBytes } : {}),
    ...(options.upstreamIdleMs !== undefined ? { upstreamIdleMs: options.upstreamIdleMs } : {}),
    ...(options.maxHeldBodyBytes !== undefined ? { maxHeldBodyBytes: options.maxHeldBodyBytes } : {}),
  });
  base = (await listenOnLoopback(gateway)).origin;
}

const stopGateway = () => closeServer(gateway);

beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startRecordingUpstream(
    (r) => seen.push(r),
    () => ({
      status: 200,
      headers: { "content-type": "application/json", connection: "keep-alive" },
      body: JSON.stringify({ ok: true }),
      delayMs: upstreamDelayMs,
    }),
  ));
  await startGateway();
});

afterAll(async () => {
  await stopGateway();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  logs = [];
  authorizerCalls = 0;
  upstreamDelayMs = 0;
  clock = Date.now();
});

/** A raw HTTP request (fetch would normalise paths and drop some headers). */
function send(
  method: string,
  path: string,
  headers: Record<string, string | string[]> = {},
  body?: Buffer | string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

const bearer = (groups: unknown = ["readers"]) => ({
  authorization: `Bearer ${accessToken(key, { "cognito:groups": groups })}`,
});

/** A reader's read of a UI route: what the tests of the integration itself send. */
const READ_PATH = "/ajax-api/2.0/mlflow/experiments/get";
const read = () => send("GET", `${READ_PATH}?experiment_id=0`, bearer());
/** The same read on a raw connection. */
const rawRead = () =>
  `GET ${READ_PATH}?experiment_id=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${bearer().authorization}\r\n\r\n`;

async function signed(
  method: string,
  path: string,
  body = "",
  credentials = reader,
  extraHeaders: Record<string, string> = {},
): Promise<Record<string, string>> {
  const url = new URL(base);
  const [pathname, query] = path.split("?") as [string, string | undefined];
  const signer = new SignatureV4({
    service: "execute-api",
    region: "us-east-1",
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: Sha256,
  });
  const req = await signer.sign(
    new HttpRequest({
      method,
      hostname: url.hostname,
      port: Number(url.port),
      path: pathname,
      query: Object.fromEntries(new URLSearchParams(query ?? "")),
      headers: { host: url.host, "content-type": "application/json", ...extraHeaders },
      body,
    }),
    { signingDate: new Date(clock) },
  );
  return req.headers;
}

describe("the API's one method without authorization", () => {
  test("the login shell's config: the MOCK answers it without credentials, and nothing reaches MLflow", async () => {
    const r = await send("GET", "/mlflow-gate-ui.json");
    expect([r.status, r.headers["content-type"], r.headers["cache-control"]]).toEqual([
      200,
      "application/json",
      "no-cache",
    ]);
    expect(JSON.parse(r.body)).toMatchObject({ userPoolClientId: "testclient", authFlow: "USER_PASSWORD_AUTH" });
    expect(r.headers["x-amzn-requestid"]).toBeDefined();
    expect(seen).toHaveLength(0);
    expect(logs[0]).toMatchObject({ decision: "public", status: 200, path: "/mlflow-gate-ui.json" });
  });

  test("MLflow's own public routes are not the API's: 403 Missing Authentication Token", async () => {
    for (const path of ["/health", "/version", "/", "/static-files/app.js"]) {
      const r = await send("GET", path);
      expect([path, r.status, JSON.parse(r.body)]).toEqual([path, 403, { message: "Missing Authentication Token" }]);
    }
    expect(seen).toHaveLength(0);
  });
});

describe("UI routes: the Lambda authorizer's policy", () => {
  test("no Authorization header: 401 Unauthorized without calling the authorizer or MLflow", async () => {
    const r = await send("POST", "/ajax-api/2.0/mlflow/runs/search", {}, "{}");
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ message: "Unauthorized" });
    expect(r.headers["x-amzn-errortype"]).toBe("UnauthorizedException");
    expect(authorizerCalls).toBe(0);
    expect(seen).toHaveLength(0);
  });

  test("an invalid token: 401, and the 401 is not cached", async () => {
    const headers = { authorization: "Bearer a.b.c" };
    expect((await send("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", headers)).status).toBe(401);
    expect((await send("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", headers)).status).toBe(401);
    expect(authorizerCalls).toBe(2);
  });

  test("a reader's search is forwarded with the identity headers, the token overwritten by the API's '-'", async () => {
    const r = await send(
      "POST",
      "/ajax-api/2.0/mlflow/runs/search",
      { ...bearer(), "content-type": "application/json" },
      '{"experiment_ids":["0"]}',
    );
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(h.authorization).toBe("-");
    expect(h["x-mlflow-gate-auth"]).toBe("cognito");
    expect(h["x-mlflow-gate-principal"]).toBe("8f3c1a2e-0000-4000-8000-000000000001");
    expect(h["x-mlflow-gate-username"]).toBe("alice");
    expect(h["x-mlflow-gate-groups"]).toBe("readers");
    // API Gateway's own id (context.extendedRequestId, x-amz-apigw-id), not context.requestId, which a client can override.
    expect(h["x-mlflow-gate-request-id"]).toBe(r.headers["x-amz-apigw-id"]);
    expect(h["x-mlflow-gate-request-id"]).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(logs.at(-1)).toMatchObject({
      requestId: r.headers["x-amzn-requestid"],
      extendedRequestId: r.headers["x-amz-apigw-id"],
    });
    expect(h["x-mlflow-gate-source-ip"]).toBe("127.0.0.1");
    // The method and path API Gateway authorized (context.httpMethod, context.path), for the guard to compare.
    expect(h["x-mlflow-gate-method"]).toBe("POST");
    expect(h["x-mlflow-gate-path"]).toBe("/ajax-api/2.0/mlflow/runs/search");
    expect(h.host).toBe(upstreamUrl.host);
    expect(seen[0]!.body.toString()).toBe('{"experiment_ids":["0"]}');
  });

  test("a reader's delete: 403 and MLflow never sees it", async () => {
    const r = await send("POST", "/ajax-api/2.0/mlflow/runs/delete", bearer(), '{"run_id":"x"}');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ message: "User is not authorized to access this resource" });
    expect(seen).toHaveLength(0);
    expect(logs[0]).toMatchObject({ decision: "deny", status: 403, action: "DeleteRun", groups: ["readers"] });
  });

  test("a user without a known group: 403 with an explicit deny", async () => {
    const r = await send("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", bearer(["ghosts"]));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({
      message: "User is not authorized to access this resource with an explicit deny",
    });
    expect(seen).toHaveLength(0);
  });

  test("the authorizer's answer is cached per token, verb and resource for the TTL, and evaluated for every path", async () => {
    const headers = bearer();
    expect((await send("POST", "/ajax-api/2.0/mlflow/runs/search", headers, "{}")).status).toBe(200);
    // The same resource (runs/{proxy+}) and verb: the cached answer, evaluated for this path
    expect((await send("POST", "/ajax-api/2.0/mlflow/runs/delete", headers, "{}")).status).toBe(403);
    expect(authorizerCalls).toBe(1);
    // Another resource: asked again
    expect((await send("POST", "/graphql", headers, "{}")).status).toBe(200);
    expect(authorizerCalls).toBe(2);
    clock += 301_000;
    expect((await send("POST", "/graphql", headers, "{}")).status).toBe(200);
    expect(authorizerCalls).toBe(3);
  });

  test("the access log says which requests invoked the authorizer and which were answered from its cache", async () => {
    // Prepare
    const headers = bearer();
    // Act
    await send("POST", "/ajax-api/2.0/mlflow/runs/search", headers, "{}");
    await send("POST", "/ajax-api/2.0/mlflow/runs/delete", headers, "{}");
    await send("POST", "/ajax-api/2.0/mlflow/runs/search", { authorization: "Bearer a.b.c" }, "{}");
    await send("POST", "/ajax-api/2.0/mlflow/runs/search", {}, "{}");
    // Assess
    expect(logs.map((e) => [e.status, e.authorizer?.cached, e.authorizer?.status])).toEqual([
      [200, false, 200],
      [403, true, 200],
      [401, false, 401],
      [401, undefined, undefined],
    ]);
    expect(logs[0]!.authorizer).toEqual({
      cached: false,
      status: 200,
      latencyMs: expect.any(Number),
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(logs[1]!.authorizer).toEqual({ cached: true, status: 200, latencyMs: 0 });
    expect(logs[0]!.resourcePath).toBe(logs[1]!.resourcePath);
    expect(logs[0]!.resourcePath).toMatch(/^\/ajax-api\/2\.0\/mlflow\//);
  });

  test("a route the catalog does not list: denied to a reader, forwarded for an admin", async () => {
    expect((await send("GET", "/ajax-api/2.0/mlflow/experiments/brand-new", bearer())).status).toBe(403);
    expect(seen).toHaveLength(0);
    expect((await send("GET", "/ajax-api/2.0/mlflow/experiments/brand-new", bearer(["admins"]))).status).toBe(200);
    expect(seen).toHaveLength(1);
  });
});

describe("SDK routes: SigV4 and the principal's IAM policy", () => {
  test("a signed reader search is forwarded with the caller's ARN as identity and (iam) as groups, as the deployed API maps them", async () => {
    const body = '{"experiment_ids":["0"]}';
    const r = await send(
      "POST",
      "/api/2.0/mlflow/runs/search",
      await signed("POST", "/api/2.0/mlflow/runs/search", body),
      body,
    );
    expect(r.status).toBe(200);
    expect(seen[0]!.headers["x-mlflow-gate-principal"]).toBe("arn:aws:iam::000000000000:user/mlflow-reader");
    expect(seen[0]!.headers["x-mlflow-gate-username"]).toBe("arn:aws:iam::000000000000:user/mlflow-reader");
    expect(seen[0]!.headers["x-mlflow-gate-groups"]).toBe("(iam)");
    expect(seen[0]!.headers["x-mlflow-gate-auth"]).toBe("iam");
    // Overwritten by the API's '-' mappings; the guard drops them, and x-amz-date, before MLflow.
    expect(seen[0]!.headers.authorization).toBe("-");
    expect(seen[0]!.headers["x-amz-security-token"]).toBe("-");
  });

  test("a signed reader write: 403 and MLflow never sees it", async () => {
    const body = '{"run_id":"x"}';
    const r = await send(
      "POST",
      "/api/2.0/mlflow/runs/delete",
      await signed("POST", "/api/2.0/mlflow/runs/delete", body),
      body,
    );
    expect(r.status).toBe(403);
    // IAM's own words, under `Message`: the caller, the action, the request's method ARN (account masked).
    expect(JSON.parse(r.body)).toEqual({
      Message:
        "User: arn:aws:iam::000000000000:user/mlflow-reader is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:mlflowgate/local/POST/api/2.0/mlflow/runs/delete",
    });
    expect(r.headers["x-amzn-errortype"]).toBe("AccessDeniedException");
    expect(seen).toHaveLength(0);
  });

  test("no signature: 403 Missing Authentication Token", async () => {
    const r = await send("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0");
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ message: "Missing Authentication Token" });
  });

  test("a body changed after signing is refused", async () => {
    const headers = await signed("POST", "/api/2.0/mlflow/runs/search", '{"experiment_ids":["0"]}');
    const r = await send("POST", "/api/2.0/mlflow/runs/search", headers, '{"experiment_ids":["1"]}');
    expect(r.status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  test("a bearer token does not open an SDK route", async () => {
    const r = await send("POST", "/api/2.0/mlflow/runs/search", bearer(["admins"]), "{}");
    expect(r.status).toBe(403);
    expect(seen).toHaveLength(0);
  });
});

describe("what the gateway itself answers", () => {
  // API Gateway matches header names case-sensitively: a mapping replaces a client header of exactly its
  // name, and a client's header in another spelling reaches the integration beside it. The emulator does
  // the same; the guard refuses such requests (test/security/guard.test.ts).
  test("a client's identity header of exactly a mapped name is replaced; other spellings and headers go on as sent", async () => {
    const r = await send(
      "POST",
      "/ajax-api/2.0/mlflow/runs/search",
      {
        ...bearer(),
        "x-forwarded-for": "6.6.6.6",
        "x-forwarded-host": "evil.example",
        "x-mlflow-gate-groups": "admins",
        "X-Mlflow-Gate-Principal": "root",
        connection: "keep-alive, x-secret",
        "x-secret": "1",
      },
      "{}",
    );
    expect(r.status).toBe(200);
    const raw = seen[0]!.rawHeaders;
    const copies = (name: string) => raw.flatMap((n, i) => (i % 2 === 0 && n === name ? [raw[i + 1]] : []));
    expect(copies("x-mlflow-gate-groups")).toEqual(["readers"]);
    expect(copies("X-Mlflow-Gate-Principal")).toEqual(["root"]);
    expect(copies("x-mlflow-gate-principal")).toEqual(["8f3c1a2e-0000-4000-8000-000000000001"]);
    // API Gateway keeps a client's X-Forwarded-For and appends the client's address; the guard drops it.
    expect(copies("x-forwarded-for")).toEqual(["6.6.6.6, 127.0.0.1"]);
    expect(copies("x-forwarded-host")).toEqual(["evil.example"]);
    expect(copies("x-secret")).toEqual([]);
  });

  test("a payload over 10 MB: 413 Request Too Long, MLflow never sees it", async () => {
    const r = await send("POST", "/ajax-api/2.0/mlflow/runs/search", bearer(), Buffer.alloc(10 * 1024 * 1024 + 1, 120));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({ message: "Request Too Long" });
    expect(seen).toHaveLength(0);
  });

  test.each([
    ["a UI route without a token: 401", "/ajax-api/2.0/mlflow/runs/log-batch", 401, "Unauthorized"],
    ["an SDK route without a signature: 403", "/api/2.0/mlflow/runs/log-batch", 403, "Missing Authentication Token"],
  ])(
    "%s, before the body is read; the connection closes after it (regression: unauthenticated bodies were held)",
    async (_name, path, status, message) => {
      // Act: a raw connection that declares 10 MB and sends none of it
      const client = connect((gateway.address() as AddressInfo).port, "127.0.0.1");
      let received = "";
      client.on("data", (c: Buffer) => (received += c.toString("latin1")));
      client.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        client.on("close", () => (clearTimeout(timer), resolve(true)));
      });
      client.destroy();
      // Assess
      expect(closed).toBe(true);
      expect(received.split("\r\n")[0]).toBe(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Forbidden"}`);
      expect(received.toLowerCase()).toContain("connection: close");
      expect(received.endsWith(JSON.stringify({ message }))).toBe(true);
      expect(seen).toHaveLength(0);
    },
  );

  test.each([
    ["bad percent-encoding", "/ajax-api/2.0/mlflow/runs/%zz"],
    ["absolute-form", "http://127.0.0.1/ajax-api/2.0/mlflow/runs/delete"],
  ])("a target it cannot read at all (%s): 400, not forwarded", async (_name, path) => {
    const r = await send("POST", path, bearer(["admins"]), "{}");
    expect(r.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  // API Gateway forwards path parameters decoded: the integration sees an encoded "/" as "/", while the
  // API maps the path as sent. The guard compares the two and refuses the odd ones (test/guard).
  test.each([
    // Routed as `/`; the integration's URI is the resource's, so MLflow gets the clean path.
    ["double slash", "//ajax-api/2.0/mlflow/runs/search", "/ajax-api/2.0/mlflow/runs/search"],
    // A greedy parameter's value is the rest of the path as sent.
    ["double slash in a greedy value", "/ajax-api/2.0/mlflow/runs/a//search", "/ajax-api/2.0/mlflow/runs/a//search"],
    ["dot-dot", "/ajax-api/2.0/mlflow/runs/../runs/delete", "/ajax-api/2.0/mlflow/runs/../runs/delete"],
    ["encoded slash", "/ajax-api/2.0/mlflow/runs%2Fdelete", "/ajax-api/2.0/mlflow/runs/delete"],
    ["encoded space", "/ajax-api/2.0/mlflow/runs/a%20b", "/ajax-api/2.0/mlflow/runs/a%20b"],
  ])("an admin's path with %s is forwarded as API Gateway forwards it", async (_name, path, forwarded) => {
    const r = await send("POST", path, bearer(["admins"]), "{}");
    expect(r.status).toBe(200);
    expect(seen[0]?.url).toBe(forwarded);
    expect(seen[0]?.headers["x-mlflow-gate-path"]).toBe(path);
  });

  test.each(["HEAD", "OPTIONS", "TRACE"])(
    "method %s has no API method: 403 Missing Authentication Token",
    async (method) => {
      const r = await send(method, "/ajax-api/2.0/mlflow/experiments/search", bearer(["admins"]));
      expect(r.status).toBe(403);
      expect(seen).toHaveLength(0);
    },
  );

  test("the access log has one JSON line per request with the decision, never the token", async () => {
    const headers = bearer();
    await send("POST", "/ajax-api/2.0/mlflow/runs/delete", headers, "{}");
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      method: "POST",
      path: "/ajax-api/2.0/mlflow/runs/delete",
      resourcePath: expect.stringMatching(/^\/ajax-api\/2\.0\/mlflow\//),
      status: 403,
      decision: "deny",
      surface: "cognito",
      username: "alice",
      authorizer: { cached: false, status: 200, latencyMs: expect.any(Number), requestId: expect.any(String) },
    });
    expect(typeof logs[0]!.requestId).toBe("string");
    expect(JSON.stringify(logs)).not.toContain(headers.authorization.slice(7));
  });
});

describe("a failing access log", () => {
  afterEach(async () => {
    await stopGateway();
    await startGateway();
  });

  test("does not take the gateway down: requests keep being answered", async () => {
    await stopGateway();
    await startGateway();
    const original = logs;
    logs = {
      push: () => {
        throw new Error("stdout closed");
      },
    } as unknown as AccessLogEntry[];
    try {
      expect((await read()).status).toBe(200);
      expect((await send("POST", "/ajax-api/2.0/mlflow/runs/delete", bearer(), "{}")).status).toBe(403);
    } finally {
      logs = original;
    }
  });
});

describe("integration failures", () => {
  afterEach(async () => {
    await stopGateway();
    await startGateway();
  });

  test("MLflow not answering in time: 504 Endpoint request timed out", async () => {
    await stopGateway();
    await startGateway({ integrationTimeoutMs: 200 });
    upstreamDelayMs = 1000;
    const r = await read();
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body)).toEqual({ message: "Endpoint request timed out" });
  });

  test("MLflow down: 502 with a clear message", async () => {
    await stopGateway();
    await startGateway({ upstream: new URL("http://127.0.0.1:9") });
    const r = await read();
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).message).toMatch(/MLflow is not answering/);
  });

  test("MLflow dying mid-answer (headers sent, body cut): 502 response cut off, not a broken connection (regression)", async () => {
    // Prepare: an upstream that sends its headers and half its body, then drops the connection.
    const dying = createNetServer((socket) => {
      socket.once("data", () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"run": {"info"');
        setTimeout(() => socket.destroy(), 50);
      });
    });
    await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", () => resolve()));
    await stopGateway();
    await startGateway({ upstream: new URL(`http://127.0.0.1:${(dying.address() as AddressInfo).port}`) });

    // Act
    const r = await read();
    await new Promise<void>((resolve) => dying.close(() => resolve()));

    // Assess
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toEqual({ message: "Bad gateway: MLflow's response was cut off" });
    expect(logs.at(-1)).toMatchObject({ status: 502, decision: "error", reason: "upstream-cut-off" });
  });
});

test("past the gateway-wide budget for held answers, an answer streams (regression: parallel large answers could hold unbounded memory)", async () => {
  // Prepare: the same dying upstream as above, and a budget smaller than its first chunk.
  const dying = createNetServer((socket) => {
    socket.once("data", () => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n${"x".repeat(4096)}`,
      );
      setTimeout(() => socket.destroy(), 50);
    });
  });
  await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", () => resolve()));
  await stopGateway();
  await startGateway({
    upstream: new URL(`http://127.0.0.1:${(dying.address() as AddressInfo).port}`),
    maxHeldBytes: 1024,
  });
  try {
    // Act: a raw connection, read until it closes.
    const client = connect((gateway.address() as AddressInfo).port, "127.0.0.1");
    let received = "";
    client.on("data", (c: Buffer) => (received += c.toString("latin1")));
    client.write(rawRead());
    await new Promise<void>((resolve) => client.on("close", () => resolve()));

    // Assess: not held for a 502 but streamed: MLflow's 200 and its first bytes went out, then the cut ended it.
    expect(received.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(received.length).toBeLessThan(100_000);
    expect(received).toContain("x".repeat(1024));
  } finally {
    await new Promise<void>((resolve) => dying.close(() => resolve()));
    await stopGateway();
    await startGateway();
  }
});

test("past the gateway-wide budget, a buffered method's answer over 10 MB is still cut off (it cannot be a 502 once sent)", async () => {
  // Prepare: a budget smaller than one chunk, and an upstream answering 11 MB on a buffered route
  const big = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.writeHead(200, { "content-type": "application/json" }).end(Buffer.alloc(11 * 1024 * 1024, 97)),
    );
  });
  await new Promise<void>((resolve) => big.listen(0, "127.0.0.1", () => resolve()));
  await stopGateway();
  await startGateway({
    upstream: new URL(`http://127.0.0.1:${(big.address() as AddressInfo).port}`),
    maxHeldBytes: 1024,
  });
  try {
    // Act: a raw connection, read until it closes
    const client = connect((gateway.address() as AddressInfo).port, "127.0.0.1");
    let received = 0;
    let head = "";
    client.on("data", (c: Buffer) => {
      if (head === "") head = c.toString("latin1").split("\r\n")[0] ?? "";
      received += c.length;
    });
    client.write(rawRead());
    await new Promise<void>((resolve) => client.on("close", () => resolve()));
    // Assess: MLflow's 200 went out, the answer stopped short of its 11 MB
    expect(head).toBe("HTTP/1.1 200 OK");
    expect(received).toBeLessThan(11 * 1024 * 1024);
    expect(received).toBeGreaterThan(1024);
  } finally {
    await new Promise<void>((resolve) => big.close(() => resolve()));
    await stopGateway();
    await startGateway();
  }
});

test("past the gateway-wide budget for request bodies, 429 Too Many Requests (a limit of this host: API Gateway scales instead)", async () => {
  // Prepare: room for one 1 KB body
  await stopGateway();
  await startGateway({ maxHeldBodyBytes: 1024 });
  try {
    // Act
    const fits = await send("POST", "/ajax-api/2.0/mlflow/runs/search", bearer(), "x".repeat(1024));
    const over = await send("POST", "/ajax-api/2.0/mlflow/runs/search", bearer(), "x".repeat(1025));

    // Assess
    expect(fits.status).toBe(200);
    expect([over.status, JSON.parse(over.body)]).toEqual([429, { message: "Too Many Requests" }]);
    expect(over.headers["x-amzn-errortype"]).toBe("TooManyRequestsException");
    expect(logs.at(-1)).toMatchObject({ status: 429, decision: "deny", reason: "body-budget" });
    expect(seen).toHaveLength(1);
  } finally {
    await stopGateway();
    await startGateway();
  }
});

test("a client that leaves while MLflow's answer is held closes MLflow's connection too (regression: a paused upstream held an MLflow worker)", async () => {
  // Prepare: an upstream that starts a 50 MB answer and never finishes it, noting when its socket closes.
  let upstreamClosed: Promise<void> = Promise.resolve();
  const endless = createNetServer((socket) => {
    upstreamClosed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.once("data", () =>
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n${"x".repeat(64 * 1024)}`,
      ),
    );
  });
  await new Promise<void>((resolve) => endless.listen(0, "127.0.0.1", () => resolve()));
  await stopGateway();
  await startGateway({ upstream: new URL(`http://127.0.0.1:${(endless.address() as AddressInfo).port}`) });
  try {
    // Act: ask, wait until MLflow's side has answered a little, then hang up.
    const client = connect((gateway.address() as AddressInfo).port, "127.0.0.1");
    client.write(rawRead());
    await new Promise((r) => setTimeout(r, 300));
    client.destroy();

    // Assess
    await expect(
      Promise.race([upstreamClosed.then(() => "closed"), new Promise((r) => setTimeout(() => r("still open"), 5000))]),
    ).resolves.toBe("closed");
    await new Promise((r) => setTimeout(r, 50));
    expect(logs.at(-1)).toMatchObject({ path: READ_PATH, status: 499, reason: "client-closed" });
  } finally {
    await new Promise<void>((resolve) => endless.close(() => resolve()));
    await stopGateway();
    await startGateway();
  }
});

// These used to be the emulator's own rules; API Gateway has neither, so the guard holds them in both places.
describe("what API Gateway passes on, and the guard refuses", () => {
  test("a GET with a body is forwarded with its body (the guard refuses it: MLflow would read it as the parameters)", async () => {
    const body = JSON.stringify({ experiment_name: "someone-elses" });
    const r = await send(
      "GET",
      "/ajax-api/2.0/mlflow/experiments/get-by-name",
      { ...bearer(), "content-type": "application/json", "content-length": String(body.length) },
      body,
    );
    expect(r.status).toBe(200);
    expect(seen.map((x) => [x.method, x.body.toString()])).toEqual([["GET", body]]);
  });

  test("two Authorization headers: the authorizer refuses them on a miss; on a cached first value, the API's '-' replaces both", async () => {
    // Act: a miss, then the first value cached by a plain request, then the pair again
    const admin = bearer(["admins"]);
    const pair = { authorization: [admin.authorization, bearer().authorization] };
    const miss = await send("POST", "/ajax-api/2.0/mlflow/experiments/delete", pair, '{"experiment_id":"1"}');
    await send("POST", "/ajax-api/2.0/mlflow/experiments/delete", admin, '{"experiment_id":"1"}');
    seen = [];
    const hit = await send("POST", "/ajax-api/2.0/mlflow/experiments/delete", pair, '{"experiment_id":"1"}');
    // Assess: API Gateway spells Authorization canonically, so its mapping replaces every copy
    expect([miss.status, hit.status]).toEqual([401, 200]);
    const raw = seen[0]!.rawHeaders;
    expect(raw.flatMap((n, i) => (i % 2 === 0 && n.toLowerCase() === "authorization" ? [raw[i + 1]] : []))).toEqual([
      "-",
    ]);
  });
});

test("a request after MLflow's keep-alive timeout never meets a connection MLflow is closing (regression: sporadic 502 ECONNRESET)", async () => {
  // Prepare: an upstream that closes idle connections after 300 ms (uvicorn: 5 s); the gateway drops its own after 100 ms.
  const strict = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  strict.keepAliveTimeout = 300;
  await new Promise<void>((resolve) => strict.listen(0, "127.0.0.1", () => resolve()));
  await stopGateway();
  await startGateway({
    upstream: new URL(`http://127.0.0.1:${(strict.address() as AddressInfo).port}`),
    upstreamIdleMs: 100,
  });
  try {
    // Act: requests spaced right around the upstream's timeout, where a reused connection would race its close.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await read()).status);
      await new Promise((r) => setTimeout(r, 290 + (i % 4) * 5));
    }

    // Assess
    expect(statuses).toEqual(Array(12).fill(200));
  } finally {
    await new Promise<void>((resolve) => strict.close(() => resolve()));
    await stopGateway();
    await startGateway();
  }
}, 30_000);

test("a kept-alive connection MLflow resets as the request goes out is a 502: API Gateway sends no request twice", async () => {
  // Prepare: an upstream whose first connection answers once, then resets on its next request (the close race).
  let connections = 0;
  const racy = createNetServer((socket) => {
    const n = ++connections;
    let requests = 0;
    socket.on("data", () => {
      requests += 1;
      if (n === 1 && requests === 2) return void socket.resetAndDestroy();
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}",
      );
    });
  });
  await new Promise<void>((resolve) => racy.listen(0, "127.0.0.1", () => resolve()));
  await stopGateway();
  await startGateway({ upstream: new URL(`http://127.0.0.1:${(racy.address() as AddressInfo).port}`) });
  try {
    // Act
    const first = await read();
    const second = await read();

    // Assess: the second went out on the kept-alive connection and met the reset; nothing was sent again.
    expect([first.status, second.status]).toEqual([200, 502]);
    expect(connections).toBe(1);
  } finally {
    await new Promise<void>((resolve) => racy.close(() => resolve()));
    await stopGateway();
    await startGateway();
  }
});
