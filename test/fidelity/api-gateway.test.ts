import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, randomUUID } from "crypto";
import { readFileSync } from "fs";
import { createServer, IncomingMessage, request, Server, ServerResponse } from "http";
import { connect, createServer as createNetServer, Socket } from "net";
import { join } from "path";
import { ApiDefinition, SECURITY_SCHEMES } from "../../authorizer/core/api-definition";
import { PolicySet } from "../../authorizer/core/policy-set";
import { loadPolicySet } from "../../authorizer/load-policies";
import { closeServer } from "../../common/http-server";
import { AccessLogEntry } from "../../gateway/answer";
import { ApiDefinitionError } from "../../gateway/api-model";
import { createGatewayServer } from "../../gateway/server";
import { principalStore } from "../../local/principals";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { accessToken, createSigningKey, seededAuthorizer } from "../authorizer/support/tokens";
import { TEST_GATEWAY, testApi } from "../gateway/support/test-gateway";
import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { RawResponse, refusedByGuard, sendRaw, signHeaders } from "../security/support/attack";
import { listenOnLoopback } from "../support/loopback";

// One test (at least) per row of docs/api-gateway-fidelity.md, each `describe` named by its row's label.
// Two places: the real local stack (the emulator over real MLflow, with the guard between them), and an
// in-process emulator over a scripted backend that stands for the integration, for what real MLflow cannot be
// made to do on cue (answer slowly, reset a connection, answer 11 MB from a buffered route).

const FIDELITY_DOC = join(REPO_ROOT, "docs", "api-gateway-fidelity.md");
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// The real stack

let t: TestStack;
let adminToken: string;
let readerToken: string;
const gatewayUrl = () => t.stack.summary.gatewayUrl;
const principal = (name: string) => t.stack.principals.find((p) => p.name === name)!;

beforeAll(async () => {
  t = await startTestStack();
  adminToken = await demoAccessToken(t, "admin");
  readerToken = await demoAccessToken(t, "reader");
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const bearerOf = (token: string): [string, string] => ["Authorization", `Bearer ${token}`];
const json = (r: RawResponse) => JSON.parse(r.body) as Record<string, unknown>;

/** A request signed as one of the stack's principals (SigV4 in the Authorization header). */
async function signedAs(name: string, method: string, path: string, body = ""): Promise<RawResponse> {
  const p = principal(name);
  const [wirePath, query = ""] = path.split("?") as [string, string?];
  const headers = await signHeaders(t, method, wirePath, query, body, p);
  return sendRaw(gatewayUrl(), { method, target: path, headers, body });
}

// ---------------------------------------------------------------------------------------------------
// The scripted backend and its emulator

type Script = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

const key = createSigningKey();
let script: Script = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}");
let seen: Seen[] = [];
let backend: Server;
let backendUrl: URL;
const servers: Server[] = [];
let authorizerEvents: Record<string, unknown>[] = [];
let logs: AccessLogEntry[] = [];

beforeAll(async () => {
  backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? "", url: req.url ?? "", rawHeaders: req.rawHeaders, body });
      script(req, res, body);
    });
  });
  backendUrl = await listenOnLoopback(backend);
});
afterAll(async () => {
  for (const s of servers) await closeServer(s);
  await closeServer(backend);
});
beforeEach(() => {
  script = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}");
  seen = [];
  authorizerEvents = [];
  logs = [];
});

/** An emulator running `api` (the catalog's local rendering by default), its integrations to the scripted backend. */
async function emulator(
  options: {
    api?: ApiDefinition;
    upstream?: URL;
    integrationTimeoutMs?: number;
    maxHeldBodyBytes?: number;
    policies?: PolicySet;
  } = {},
): Promise<string> {
  const policies = options.policies ?? policySet;
  const authorize = seededAuthorizer(policies, [key]);
  const server = createGatewayServer({
    ...TEST_GATEWAY,
    api:
      options.api ??
      testApi(policies, options.upstream ?? backendUrl, {
        ...(options.integrationTimeoutMs !== undefined ? { integrationTimeoutMs: options.integrationTimeoutMs } : {}),
      }),
    policySet: policies,
    authorizer: (event) => {
      authorizerEvents.push(event as unknown as Record<string, unknown>);
      return authorize(event);
    },
    credentials: principalStore([]),
    log: (e) => void logs.push(e),
    ...(options.maxHeldBodyBytes !== undefined ? { maxHeldBodyBytes: options.maxHeldBodyBytes } : {}),
  });
  servers.push(server);
  return (await listenOnLoopback(server)).origin;
}

let scripted: string;
beforeAll(async () => {
  scripted = await emulator();
});

const token = (claims: Record<string, unknown> = {}) => accessToken(key, { "cognito:groups": ["admins"], ...claims });
const bearer = (claims: Record<string, unknown> = {}): [string, string] => ["Authorization", `Bearer ${token(claims)}`];
/** The headers the scripted backend saw on its one request, by exact name. */
function seenHeaders(): [string, string][] {
  expect(seen).toHaveLength(1);
  const raw = seen[0]!.rawHeaders;
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
const headerOf = (name: string) => seenHeaders().find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

/** A copy of the catalog's local definition. */
const localDefinition = (): ApiDefinition =>
  JSON.parse(JSON.stringify(testApi(policySet, backendUrl))) as ApiDefinition;

/** A cognito method in a definition of our own, its integration to the scripted backend at `uriPath`. */
function cognitoMethod(uriPath: string, params: readonly string[] = []) {
  const base = localDefinition().paths["/ajax-api/2.0/mlflow/runs/{proxy+}"]!.get!;
  const integration = base["x-amazon-apigateway-integration"] as Record<string, unknown>;
  const requestParameters = Object.fromEntries(
    Object.entries(integration.requestParameters as Record<string, string>).filter(
      ([k]) => !k.startsWith("integration.request.path."),
    ),
  );
  for (const p of params) requestParameters[`integration.request.path.${p}`] = `method.request.path.${p}`;
  return {
    ...base,
    parameters: params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    "x-amazon-apigateway-integration": { ...integration, uri: `${backendUrl.origin}${uriPath}`, requestParameters },
  };
}

/** The catalog's local definition with the authorizer's identitySource (and its scheme's name) changed. */
function withIdentitySource(identitySource: string, name = "Unused"): ApiDefinition {
  const api = localDefinition();
  const scheme = api.components.securitySchemes[SECURITY_SCHEMES.cognito] as {
    name: string;
    "x-amazon-apigateway-authorizer": Record<string, unknown>;
  };
  scheme.name = name;
  scheme["x-amazon-apigateway-authorizer"].identitySource = identitySource;
  return api;
}

// ---------------------------------------------------------------------------------------------------

test("every row of docs/api-gateway-fidelity.md has its describe here, and every describe its row", () => {
  const rows = readFileSync(FIDELITY_DOC, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("| **"))
    .map((l) => /^\| \*\*(.+?)\.\*\*/.exec(l)?.[1]);
  const described = [...readFileSync(__filename, "utf8").matchAll(/^describe\("([^"]+)"/gm)].map((m) => m[1]);
  expect(rows.length).toBeGreaterThan(20);
  expect([...described].sort()).toEqual([...rows].sort());
});

describe("IAM denials", () => {
  test("an SDK route the role's policies do not allow: 403 with IAM's words under a capital Message", async () => {
    const r = await signedAs("mlflow-reader", "POST", "/api/2.0/mlflow/experiments/delete", '{"experiment_id":"0"}');
    expect([r.status, r.headers["x-amzn-errortype"]]).toEqual([403, "AccessDeniedException"]);
    expect(Object.keys(json(r))).toEqual(["Message"]);
    expect(json(r).Message).toMatch(
      /^User: arn:aws:iam::\d{12}:user\/mlflow-reader is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:[a-z0-9-]+:\*{8}\d{4}:[^/]+\/[^/]+\/POST\/api\/2\.0\/mlflow\/experiments\/delete$/,
    );
  });
});

describe("No resend", () => {
  test("a kept-alive connection the backend resets is a 502, and the request went out once", async () => {
    // Prepare: a backend whose first connection answers once, then resets on its next request
    let connections = 0;
    const requests: number[] = [];
    const racy = createNetServer((socket) => {
      const n = ++connections;
      let count = 0;
      socket.on("data", () => {
        count += 1;
        requests.push(n);
        if (n === 1 && count === 2) return void socket.resetAndDestroy();
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
      });
    });
    const racyUrl = await listenOnLoopback(racy as unknown as Server);
    try {
      const base = await emulator({ upstream: racyUrl });
      // Act
      const first = await sendRaw(base, {
        method: "GET",
        target: "/ajax-api/2.0/mlflow/runs/get",
        headers: [bearer()],
      });
      const second = await sendRaw(base, {
        method: "GET",
        target: "/ajax-api/2.0/mlflow/runs/get",
        headers: [bearer()],
      });
      // Assess
      expect([first.status, second.status]).toEqual([200, 502]);
      expect(requests).toEqual([1, 1]);
    } finally {
      await new Promise<void>((resolve) => racy.close(() => resolve()));
    }
  });
});

describe("Method ARN length", () => {
  test("an authorized method whose ARN passes 1,600 bytes: 414, before the authorizer", async () => {
    const r = await sendRaw(gatewayUrl(), {
      method: "GET",
      target: `/ajax-api/2.0/mlflow/runs/${"a".repeat(1600)}`,
      headers: [bearerOf(adminToken)],
    });
    expect([r.status, json(r)]).toEqual([414, { message: "Request URI too long" }]);
  });
});

describe("MOCK content handling", () => {
  test("the deployed MOCK (CONVERT_TO_TEXT) answers the shell's config; without it, 500 as on AWS", async () => {
    // Prepare: the same definition with the content handling the first deployed version had (none)
    const old = localDefinition();
    delete (old.paths["/mlflow-gate-ui.json"]!.get!["x-amazon-apigateway-integration"] as Record<string, unknown>)
      .contentHandling;
    const oldBase = await emulator({ api: old });
    // Act
    const deployed = await sendRaw(gatewayUrl(), { method: "GET", target: "/mlflow-gate-ui.json" });
    const failing = await sendRaw(oldBase, { method: "GET", target: "/mlflow-gate-ui.json" });
    // Assess: the real stack's MOCK answers its pool; the old handling fails
    expect([deployed.status, deployed.headers["content-type"]]).toEqual([200, "application/json"]);
    expect(json(deployed)).toMatchObject({
      userPoolId: t.stack.summary.cognito.userPoolId,
      userPoolClientId: t.stack.summary.cognito.clientId,
      authFlow: "USER_PASSWORD_AUTH",
    });
    expect([failing.status, json(failing), failing.headers["x-amzn-errortype"]]).toEqual([
      500,
      { message: "Internal server error" },
      "InternalServerErrorException",
    ]);
  });
});

describe("Request payload limit", () => {
  test("a body over 10 MB: 413 Request Too Long, and MLflow never sees it", async () => {
    const r = await sendRaw(gatewayUrl(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/runs/log-batch",
      headers: [bearerOf(adminToken), ["Content-Type", "application/json"]],
      body: Buffer.alloc(10 * MB + 1, 32),
    });
    expect([r.status, json(r)]).toEqual([413, { message: "Request Too Long" }]);
  });
});

describe("Identity sources", () => {
  test("the deployed three (token, verb, resource) run; a header, a query parameter and context.path run too", async () => {
    // Prepare
    const base = await emulator({
      api: withIdentitySource("method.request.header.Authorization, method.request.querystring.token, context.path"),
    });
    // Act
    const ok = await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [bearer()] });
    const withQuery = await sendRaw(base, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get?token=1",
      headers: [bearer()],
    });
    // Assess
    expect([ok.status, withQuery.status]).toEqual([200, 200]);
    expect(authorizerEvents).toHaveLength(2);
  });

  test.each([
    ["a context variable the emulator does not fill", "method.request.header.Authorization, context.requestId"],
    ["an expression of no documented type", "method.request.path.proxy"],
  ])("%s stops the emulator when it starts, naming it", async (_name, identitySource) => {
    expect(() =>
      createGatewayServer({
        ...TEST_GATEWAY,
        api: withIdentitySource(identitySource),
        policySet,
        authorizer: seededAuthorizer(policySet, [key]),
        credentials: principalStore([]),
        log: () => undefined,
      }),
    ).toThrow(ApiDefinitionError);
  });

  test('several sources under a scheme named otherwise than "Unused" stop the emulator when it starts', () => {
    expect(() =>
      createGatewayServer({
        ...TEST_GATEWAY,
        api: withIdentitySource("method.request.header.Authorization, context.httpMethod", "Authorization"),
        policySet,
        authorizer: seededAuthorizer(policySet, [key]),
        credentials: principalStore([]),
        log: () => undefined,
      }),
    ).toThrow(/must be "Unused"/);
  });

  test("context.httpMethod is the request's own verb under an ANY method: each verb is asked for", async () => {
    // Prepare
    const api = localDefinition();
    const own = {
      ...api,
      paths: { "/any/{proxy+}": { "x-amazon-apigateway-any-method": cognitoMethod("/any") } },
    } as unknown as ApiDefinition;
    const base = await emulator({ api: own });
    const good = bearer();
    // Act
    for (const method of ["GET", "DELETE", "GET"]) await sendRaw(base, { method, target: "/any/x", headers: [good] });
    // Assess
    expect(authorizerEvents.map((e) => [e.httpMethod, e.resource])).toEqual([
      ["GET", "/any/{proxy+}"],
      ["DELETE", "/any/{proxy+}"],
    ]);
  });
});

describe("Missing identity source", () => {
  test.each([
    ["no Authorization", []],
    ["an empty one", [["Authorization", ""]]],
  ] as [string, [string, string][]][])("a UI route with %s: 401 Unauthorized", async (_name, headers) => {
    const r = await sendRaw(gatewayUrl(), { method: "POST", target: "/ajax-api/2.0/mlflow/runs/search", headers });
    expect([r.status, json(r), r.headers["x-amzn-errortype"]]).toEqual([
      401,
      { message: "Unauthorized" },
      "UnauthorizedException",
    ]);
  });

  test.each([
    ["absent", "/ajax-api/2.0/mlflow/runs/get"],
    ["empty", "/ajax-api/2.0/mlflow/runs/get?token="],
  ])("a query-parameter source %s: 401 Unauthorized, the authorizer never called", async (_name, target) => {
    // Prepare
    const base = await emulator({
      api: withIdentitySource("method.request.header.Authorization, method.request.querystring.token"),
    });
    // Act
    const r = await sendRaw(base, { method: "GET", target, headers: [bearer()] });
    // Assess
    expect([r.status, json(r)]).toEqual([401, { message: "Unauthorized" }]);
    expect(authorizerEvents).toEqual([]);
    expect(seen).toEqual([]);
  });
});

/** Sends the head of a request declaring a body it never sends; resolves with the first bytes of the answer. */
function headOnly(base: string, head: string, waitMs = 5000): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(url.port), url.hostname);
    let got = "";
    const timer = setTimeout(() => (socket.destroy(), resolve(got)), waitMs);
    socket.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      if (got.includes("\r\n\r\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("error", () => undefined);
    socket.write(head);
  });
}

describe("Authorizer before the body", () => {
  test("a refused token gets its answer without the body being sent at all", async () => {
    const answer = await headOnly(
      gatewayUrl(),
      `POST /ajax-api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b.c\r\nContent-Length: ${9 * MB}\r\n\r\n`,
    );
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
  });
});

describe("Missing signature", () => {
  test("an SDK route without a signature: 403 Missing Authentication Token, before the body", async () => {
    const r = await sendRaw(gatewayUrl(), { method: "POST", target: "/api/2.0/mlflow/runs/search", body: "{}" });
    expect([r.status, json(r), r.headers["x-amzn-errortype"]]).toEqual([
      403,
      { message: "Missing Authentication Token" },
      "MissingAuthenticationTokenException",
    ]);
    const early = await headOnly(
      gatewayUrl(),
      `POST /api/2.0/mlflow/runs/search HTTP/1.1\r\nHost: x\r\nContent-Length: ${9 * MB}\r\n\r\n`,
    );
    expect(early.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
  });
});

describe("Body budget", () => {
  test("a body past what the emulator may hold at once: 429 Too Many Requests (this host's limit, not AWS's)", async () => {
    const base = await emulator({ maxHeldBodyBytes: 1024 });
    const fits = await sendRaw(base, {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/runs/search",
      headers: [bearer()],
      body: "x".repeat(1024),
    });
    const over = await sendRaw(base, {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/runs/search",
      headers: [bearer()],
      body: "x".repeat(1025),
    });
    expect([fits.status, over.status, json(over)]).toEqual([200, 429, { message: "Too Many Requests" }]);
  });
});

describe("Integration timeout", () => {
  test("covers a buffered answer until its last byte, a streamed one until its first", async () => {
    // Prepare: a backend that sends its head at once and its body after 600 ms; a 300 ms timeout
    script = (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write("first");
      setTimeout(() => res.end("-last"), 600);
    };
    const base = await emulator({ integrationTimeoutMs: 300 });
    // Act
    const buffered = await sendRaw(base, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer()],
    });
    const streamed = await sendRaw(base, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow-artifacts/artifacts/0/a/model.bin",
      headers: [bearer()],
    });
    // Assess
    expect([buffered.status, json(buffered)]).toEqual([504, { message: "Endpoint request timed out" }]);
    expect([streamed.status, streamed.body]).toEqual([200, "first-last"]);
  });
});

describe("Missing method", () => {
  test.each([
    ["MLflow's health, no method of the API", "GET", "/health"],
    ["MLflow's version", "GET", "/version"],
    ["a path under no resource", "DELETE", "/ajax-api/9.0/anything"],
    ["a resource without that method", "PUT", "/ajax-api/2.0/mlflow/runs/search"],
  ])("%s: 403 Missing Authentication Token, whoever asks", async (_name, method, target) => {
    const r = await sendRaw(gatewayUrl(), { method, target, headers: [bearerOf(adminToken)] });
    expect([r.status, json(r), r.headers["x-amzn-errortype"]]).toEqual([
      403,
      { message: "Missing Authentication Token" },
      "MissingAuthenticationTokenException",
    ]);
  });
});

describe("SigV4 forms", () => {
  test("a signed header and a presigned query both pass the emulator (the guard refuses the presigned one)", async () => {
    // Act: a header signature, then a presigned URL of the same read
    const path = "/api/2.0/mlflow/experiments/get";
    const header = await signedAs("mlflow-reader", "GET", `${path}?experiment_id=0`);
    const p = principal("mlflow-reader");
    const url = new URL(gatewayUrl());
    const presigned = await new SignatureV4({
      credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey },
      region: t.stack.summary.region,
      service: "execute-api",
      sha256: Sha256,
    }).presign(
      new HttpRequest({
        method: "GET",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path,
        query: { experiment_id: "0" },
        headers: { host: url.host },
      }),
      { expiresIn: 300 },
    );
    const query = Object.entries(presigned.query as Record<string, string>)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");
    const viaQuery = await sendRaw(gatewayUrl(), { method: "GET", target: `${path}?${query}` });
    // Assess
    expect(header.status).toBe(200);
    expect([viaQuery.status, refusedByGuard(viaQuery)]).toEqual([400, true]);
  });
});

describe("Authorizer denials", () => {
  test("the authorizer's 403 and 401 in its own words, under a lower-case message", async () => {
    const denied = await sendRaw(gatewayUrl(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/delete",
      headers: [bearerOf(readerToken), ["Content-Type", "application/json"]],
      body: '{"experiment_id":"0"}',
    });
    const unknown = await sendRaw(gatewayUrl(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/delete",
      headers: [["Authorization", "Bearer a.b.c"]],
      body: "{}",
    });
    expect([denied.status, json(denied)]).toEqual([403, { message: "User is not authorized to access this resource" }]);
    expect([unknown.status, json(unknown)]).toEqual([401, { message: "Unauthorized" }]);
  });
});

describe("Authorizer cache", () => {
  test("one call per token within the TTL; a 401 is asked again", async () => {
    const good = bearer();
    for (let i = 0; i < 3; i++)
      await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [good] });
    const calls = authorizerEvents.length;
    for (let i = 0; i < 2; i++)
      await sendRaw(scripted, {
        method: "GET",
        target: "/ajax-api/2.0/mlflow/runs/get",
        headers: [["Authorization", "Bearer x.y.z"]],
      });
    expect([calls, authorizerEvents.length]).toEqual([1, 3]);
  });

  test("keyed by the token, the verb and the resource: another path under the same {proxy+} resource and verb is a hit", async () => {
    // Prepare
    const good = bearer();
    const send = (method: string, target: string) => sendRaw(scripted, { method, target, headers: [good], body: "{}" });
    // Act
    await send("POST", "/ajax-api/2.0/mlflow/runs/search");
    await send("POST", "/ajax-api/2.0/mlflow/runs/update");
    const sameResource = authorizerEvents.length;
    await send("GET", "/ajax-api/2.0/mlflow/runs/get");
    const otherVerb = authorizerEvents.length;
    await send("POST", "/ajax-api/2.0/mlflow/experiments/search");
    const otherResource = authorizerEvents.length;
    // Assess
    expect([sameResource, otherVerb, otherResource]).toEqual([1, 2, 3]);
    expect(authorizerEvents.map((e) => [e.httpMethod, e.resource])).toEqual([
      ["POST", "/ajax-api/2.0/mlflow/runs/{proxy+}"],
      ["GET", "/ajax-api/2.0/mlflow/runs/{proxy+}"],
      ["POST", "/ajax-api/2.0/mlflow/experiments/{proxy+}"],
    ]);
  });
});

describe("Authorizer in the access log", () => {
  test("a call is logged with its status, latency and request id, a cache hit as cached, both with the resource", async () => {
    const good = bearer();
    for (let i = 0; i < 2; i++)
      await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [good] });
    await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get" });
    expect(logs.map((e) => [e.resourcePath, e.authorizer])).toEqual([
      [
        "/ajax-api/2.0/mlflow/runs/{proxy+}",
        { cached: false, status: 200, latencyMs: expect.any(Number), requestId: expect.any(String) },
      ],
      ["/ajax-api/2.0/mlflow/runs/{proxy+}", { cached: true, status: 200, latencyMs: 0 }],
      ["/ajax-api/2.0/mlflow/runs/{proxy+}", undefined],
    ]);
  });
});

describe("Authorization spelling", () => {
  test("a client's `AUTHORIZATION` is API Gateway's `Authorization`, so the definition's '-' replaces it", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [["AUTHORIZATION", `Bearer ${token()}`]],
    });
    expect(seenHeaders().filter(([n]) => n.toLowerCase() === "authorization")).toEqual([["Authorization", "-"]]);
  });
});

describe("Two Authorization headers", () => {
  test("the authorizer gets both and refuses them on a miss", async () => {
    const r = await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer(), bearer({ "cognito:groups": ["readers"] })],
    });
    expect(r.status).toBe(401);
    expect(seen).toEqual([]);
  });
});

describe("Case-sensitive mappings", () => {
  test("a client's X-Mlflow-Gate-Groups passes the emulator beside the mapped one, and the guard refuses it", async () => {
    // The emulator: both copies reach the integration
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer({ "cognito:groups": ["readers"] }), ["X-Mlflow-Gate-Groups", "admins"]],
    });
    expect(seenHeaders().filter(([n]) => n.toLowerCase() === "x-mlflow-gate-groups")).toEqual([
      ["X-Mlflow-Gate-Groups", "admins"],
      ["x-mlflow-gate-groups", "readers"],
    ]);
    // The real stack: the emulator allows the reader's read, the guard refuses the forged copy
    const r = await sendRaw(gatewayUrl(), {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0",
      headers: [bearerOf(readerToken), ["X-Mlflow-Gate-Groups", "admins"]],
    });
    expect([r.status, refusedByGuard(r)]).toEqual([400, true]);
    expect(t.accessLog.find((e) => e.requestId === r.headers["x-amzn-requestid"])?.decision).toBe("allow");
  });
});

describe("Mapping without a value", () => {
  test("a context variable without a value maps no header; one with a value does", async () => {
    // Prepare: the method maps a context variable no request has, beside one every authorized request has
    const method = cognitoMethod("/mapped");
    const integration = method["x-amazon-apigateway-integration"] as { requestParameters: Record<string, string> };
    integration.requestParameters["integration.request.header.X-Absent"] = "context.authorizer.nothing";
    integration.requestParameters["integration.request.header.X-Present"] = "context.authorizer.principalId";
    const base = await emulator({
      api: { ...localDefinition(), paths: { "/mapped": { get: method } } } as ApiDefinition,
    });
    // Act
    await sendRaw(base, { method: "GET", target: "/mapped", headers: [bearer()] });
    // Assess
    expect(headerOf("X-Absent")).toBeUndefined();
    expect(headerOf("X-Present")).toBe("8f3c1a2e-0000-4000-8000-000000000001");
  });
});

describe("Decoded path parameters", () => {
  test("a path parameter reaches the integration decoded (`%2F` as `/`), encoded again only where a path must", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/a%2Fb%20c",
      headers: [bearer()],
    });
    expect(seen[0]?.url).toBe("/ajax-api/2.0/mlflow/runs/a/b%20c");
    expect(headerOf("x-mlflow-gate-path")).toBe("/ajax-api/2.0/mlflow/runs/a%2Fb%20c");
  });
});

describe("Path parameters onto headers", () => {
  test("a header mapped from method.request.path.<name> carries the parameter's decoded value", async () => {
    // Prepare: the API with teams, MLflow's routes under /ws/{workspace}/
    const teams = loadPolicySet(CATALOG_FILE, GROUPS_DIR, REPO_ROOT, EXAMPLE_TEAMS_DIR);
    const origin = await emulator({ policies: teams });
    // Act
    const plain = await sendRaw(origin, {
      method: "GET",
      target: "/ws/team-a/ajax-api/2.0/mlflow/experiments/get?experiment_id=1",
      headers: [bearer({ "cognito:groups": ["team-a-readers"] })],
    });
    expect(plain.status).toBe(200);
    const plainSeen = seenHeaders();
    seen = [];
    const encoded = await sendRaw(origin, {
      method: "GET",
      target: "/ws/team%2Da/ajax-api/2.0/mlflow/experiments/get?experiment_id=1",
      headers: [bearer()],
    });
    // Assess
    expect(encoded.status).toBe(200);
    expect(plainSeen.filter(([n]) => n === "x-mlflow-gate-workspace")).toEqual([["x-mlflow-gate-workspace", "team-a"]]);
    expect(seen[0]?.url).toBe("/ws/team-a/ajax-api/2.0/mlflow/experiments/get?experiment_id=1");
    expect(headerOf("x-mlflow-gate-workspace")).toBe("team-a");
    expect(headerOf("x-mlflow-gate-path")).toBe("/ws/team%2Da/ajax-api/2.0/mlflow/experiments/get");
  });
});

describe("Odd paths", () => {
  test.each([
    [
      "`//` matches as `/`; a greedy value keeps what it spans",
      "//ajax-api/2.0/mlflow/runs/a//b",
      "/ajax-api/2.0/mlflow/runs/a//b",
    ],
    [
      "`..` is a part like any other, forwarded",
      "/ajax-api/2.0/mlflow/runs/../runs/delete",
      "/ajax-api/2.0/mlflow/runs/../runs/delete",
    ],
    ["a backslash and NUL go on", "/ajax-api/2.0/mlflow/runs/a%5Cb%00", "/ajax-api/2.0/mlflow/runs/a%5Cb%00"],
  ])("%s", async (_name, target, forwarded) => {
    const r = await sendRaw(scripted, { method: "POST", target, headers: [bearer()], body: "{}" });
    expect(r.status).toBe(200);
    expect(seen[0]?.url).toBe(forwarded);
  });
});

describe("GET with a body", () => {
  test("is forwarded with its body", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer()],
      body: '{"a":1}',
    });
    expect([seen[0]?.method, seen[0]?.body.toString()]).toEqual(["GET", '{"a":1}']);
  });
});

describe("Request ids", () => {
  test("x-amzn-RequestId and x-amz-apigw-id on the answer; the extended id mapped for the integration", async () => {
    const r = await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [bearer()] });
    expect(r.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers["x-amz-apigw-id"]).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(headerOf("x-mlflow-gate-request-id")).toBe(r.headers["x-amz-apigw-id"]);
  });
});

describe("Source IP", () => {
  test("context.identity.sourceIp is the connection's address", async () => {
    await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [bearer()] });
    expect(headerOf("x-mlflow-gate-source-ip")).toBe("127.0.0.1");
  });
});

describe("X-Forwarded-For", () => {
  test("a client's value goes on with the connection's address appended", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer(), ["X-Forwarded-For", "198.51.100.1"]],
    });
    expect(headerOf("x-forwarded-for")).toBe("198.51.100.1, 127.0.0.1");
  });
});

describe("X-Forwarded-Proto and Port", () => {
  test("a client's copies go on as sent; without them, the emulator's own", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer(), ["X-Forwarded-Proto", "https"]],
    });
    expect([headerOf("x-forwarded-proto"), headerOf("x-forwarded-port")]).toEqual(["https", new URL(scripted).port]);
  });
});

describe("Hop-by-hop headers", () => {
  test("connection-scoped headers stay here; Host is the integration's", async () => {
    await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer(), ["X-Drop", "1"], ["TE", "trailers"], ["Connection", "X-Drop"]],
    });
    expect([headerOf("x-drop"), headerOf("te"), headerOf("host")]).toEqual([undefined, undefined, backendUrl.host]);
  });
});

describe("Resource matching", () => {
  test("a literal part before a {param} before a greedy {param+}, a failing branch giving way; the URI the method's", async () => {
    // Prepare: a definition of four resources, each integration naming itself in its URI
    const api = localDefinition();
    const own = {
      ...api,
      paths: {
        "/a/b": { get: cognitoMethod("/literal") },
        "/a/{id}": { get: cognitoMethod("/variable/{id}", ["id"]) },
        "/a/{id}/c": { get: cognitoMethod("/variable-c/{id}", ["id"]) },
        "/a/{rest+}": { get: cognitoMethod("/greedy/{rest}", ["rest"]) },
      },
    } as unknown as ApiDefinition;
    const base = await emulator({ api: own });
    // Act
    const urls: string[] = [];
    for (const target of ["/a/b", "/a/z", "/a/b/c", "/a/b/d/e", "/a"]) {
      seen = [];
      const r = await sendRaw(base, { method: "GET", target, headers: [bearer()] });
      urls.push(r.status === 200 ? (seen[0]?.url ?? "") : String(r.status));
    }
    // Assess
    expect(urls).toEqual(["/literal", "/variable/z", "/variable-c/b", "/greedy/b/d/e", "403"]);
  });
});

describe("Buffered and streamed answers", () => {
  test("a buffered answer over 10 MB fails with 502 and nothing of it sent; at 10 MB it passes", async () => {
    let size = 10 * MB + 1;
    script = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(Buffer.alloc(size, 97));
    const over = await sendRaw(scripted, {
      method: "GET",
      target: "/ajax-api/2.0/mlflow/runs/get",
      headers: [bearer()],
    });
    size = 10 * MB;
    const at = await sendRaw(scripted, { method: "GET", target: "/ajax-api/2.0/mlflow/runs/get", headers: [bearer()] });
    expect([over.status, json(over), over.headers["x-amzn-errortype"]]).toEqual([
      502,
      { message: "Internal server error" },
      "InternalServerErrorException",
    ]);
    expect([at.status, at.body.length]).toEqual([200, 10 * MB]);
  });

  test("a STREAM download of a 30 MB artifact from real MLflow arrives whole", async () => {
    // Prepare: 30 MB of artifact, put on the private MLflow (the API takes 10 MB per request)
    const bytes = Buffer.alloc(30 * MB);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
    const path = `fidelity/${randomUUID()}/model.bin`;
    const put = await fetch(`${t.stack.summary.mlflowPrivateUrl}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
      method: "PUT",
      body: bytes,
    });
    expect(put.status).toBe(200);
    // Act: through the gateway, signed as the admin
    const target = `/api/2.0/mlflow-artifacts/artifacts/${path}`;
    const headers = await signHeaders(t, "GET", target, "", "", principal("mlflow-admin"));
    const { status, body } = await download(target, headers);
    // Assess
    expect(status).toBe(200);
    expect(body.length).toBe(30 * MB);
    expect(createHash("sha256").update(body).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
  }, 60_000);
});

/** A GET through the gateway, its answer's bytes as they came. */
function download(target: string, headers: [string, string][]): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(target, gatewayUrl()), { headers: Object.fromEntries(headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Authorizer event", () => {
  test("the method ARN, the method's resource and path parameters, headers and query as sent; no body", async () => {
    await sendRaw(scripted, {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/get?experiment_id=1",
      headers: [bearer(), ["X-Extra", "1"]],
      body: '{"secret":"body"}',
    });
    expect(authorizerEvents).toHaveLength(1);
    const e = authorizerEvents[0]!;
    expect(e).toMatchObject({
      type: "REQUEST",
      resource: "/ajax-api/2.0/mlflow/experiments/{proxy+}",
      path: "/ajax-api/2.0/mlflow/experiments/get",
      pathParameters: { proxy: "get" },
      queryStringParameters: { experiment_id: "1" },
      headers: { "X-Extra": "1" },
    });
    expect(String(e.methodArn)).toMatch(/\/POST\/ajax-api\/2\.0\/mlflow\/experiments\/get$/);
    expect(JSON.stringify(e)).not.toContain("secret");
  });
});
