import { Server } from "http";
import { connect, Socket } from "net";
import { setFlagsFromString } from "v8";
import { runInNewContext } from "vm";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { loadPolicySet } from "../../authorizer/load-policies";
import { closeServer } from "../../common/http-server";
import { AccessLogEntry } from "../../gateway/answer";
import { MAX_HELD_BODY_BYTES } from "../../gateway/passes/body";
import { createGateway, EmulatorGateway, serveGateway } from "../../gateway/server";
import { parsePrincipals, principalStore } from "../../local/principals";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { accessToken, createSigningKey, seededAuthorizer } from "../authorizer/support/tokens";
import { signWithSmithy } from "../gateway/support/signers";
import { TEST_GATEWAY, testApi } from "../gateway/support/test-gateway";
import { listenOnLoopback } from "../support/loopback";
import { SeenRequest, startRecordingUpstream } from "../support/recording-upstream";

// Regression (issue 13, red team): the emulator read every request body whole, up to 10 MB, before any
// authorization and with no bound on their total; a slow client held its share for up to the 120 s request
// timeout, and eight sockets raised the gateway from 130 to 184 MB. Now a request without the credentials
// its route needs is answered before its body is read, and the bodies held at once share a budget.
//
// An in-process gateway against a recording upstream (MLflow's place), on loopback only. Every client
// is bounded in count and in time (answers are awaited at most ANSWER_WAIT_MS, a trickle stops with its
// connection or after TRICKLE_MAX_MS) and every socket is destroyed after each test.

const MB = 1024 * 1024;
const DECLARED = API_GATEWAY.maxPayloadBytes;
/** An answer later than this is no answer: the gateway would be waiting for the body. */
const ANSWER_WAIT_MS = 5_000;
/** "Promptly": an answer that needs no body comes within this, on loopback. */
const PROMPT_MS = 2_000;
const TRICKLE_EVERY_MS = 200;
const TRICKLE_MAX_MS = 20_000;
/** What the unauthenticated uploads may add to the heap and buffers; before the fix, they held 4 MB each. */
const HEAP_BOUND_BYTES = 100 * MB;

// The heap is measured after full collections (gc exposed for this file only).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
async function settledMemory(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    // ArrayBuffers (Buffers' memory) are given back after the collection, on a later turn.
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const key = createSigningKey();
const { principals } = parsePrincipals(
  { principals: [{ name: "mlflow-admin", group: "admins" }] },
  new Set(policySet.groups.keys()),
  "principals.json",
);
const admin = principals[0]!;

let upstream: Server;
let upstreamUrl: URL;
let seen: SeenRequest[] = [];
let gateway: EmulatorGateway;
let server: Server;
let port: number;
let logs: AccessLogEntry[] = [];
let authorizerCalls = 0;
const sockets: Socket[] = [];

async function startGateway(maxHeldBodyBytes?: number): Promise<void> {
  const authorize = seededAuthorizer(policySet, [key]);
  gateway = createGateway({
    ...TEST_GATEWAY,
    policySet,
    authorizer: (event) => {
      authorizerCalls++;
      return authorize(event);
    },
    credentials: principalStore(principals),
    api: testApi(policySet, upstreamUrl),
    log: (e) => void logs.push(e),
    ...(maxHeldBodyBytes !== undefined ? { maxHeldBodyBytes } : {}),
  });
  server = serveGateway(gateway);
  port = Number((await listenOnLoopback(server)).port);
}

beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startRecordingUpstream(
    (r) => seen.push(r),
    () => ({ status: 200, headers: { "content-type": "application/json" }, body: "{}" }),
  ));
});

afterAll(async () => {
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

beforeEach(async () => {
  seen = [];
  logs = [];
  authorizerCalls = 0;
  await startGateway();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await closeServer(server, 1_000);
});

interface RawAnswer {
  /** 0 when no answer came within ANSWER_WAIT_MS. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly afterMs: number;
}

interface Upload {
  readonly answer: Promise<RawAnswer>;
  /** Resolves once the connection has closed, whoever closed it. */
  readonly closed: Promise<void>;
  readonly socket: Socket;
}

/** A complete answer in `data` (status line, headers, a body of its content-length), if there is one yet. */
function parseAnswer(data: Buffer, afterMs: number): RawAnswer | undefined {
  const split = data.indexOf("\r\n\r\n");
  if (split < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, split).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = data.subarray(split + 4);
  if (body.length < Number(headers["content-length"] ?? 0)) return undefined;
  return { status: Number(statusLine?.split(" ")[1]), headers, body: body.toString("utf8"), afterMs };
}

/**
 * A slow upload on a raw connection: the request's head declaring `declared` bytes, then `first`, then 4 KB
 * every TRICKLE_EVERY_MS for as long as the connection stays open (at most TRICKLE_MAX_MS). It never sends
 * the whole body.
 */
function slowUpload(
  target: string,
  headers: readonly (readonly [string, string])[],
  options: { declared?: number; first?: Buffer; trickle?: boolean; method?: string } = {},
): Upload {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  const started = performance.now();
  const hasHost = headers.some(([name]) => name.toLowerCase() === "host");
  const head = [
    `${options.method ?? "POST"} ${target} HTTP/1.1`,
    ...(hasHost ? [] : [`Host: 127.0.0.1:${port}`]),
    ...headers.map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${options.declared ?? DECLARED}`,
  ];
  socket.write(`${head.join("\r\n")}\r\n\r\n`);
  socket.write(options.first ?? Buffer.alloc(4096, 120));
  const trickle = setInterval(() => {
    if (performance.now() - started > TRICKLE_MAX_MS) return void socket.destroy();
    if (socket.writable && options.trickle !== false) socket.write(Buffer.alloc(4096, 120));
  }, TRICKLE_EVERY_MS);
  // The gateway closes a connection whose body it will not read: writing on then fails (EPIPE, ECONNRESET).
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      clearInterval(trickle);
      resolve();
    }),
  );
  const answer = new Promise<RawAnswer>((resolve) => {
    let data = Buffer.alloc(0);
    const none = () => ({ status: 0, headers: {}, body: "", afterMs: performance.now() - started });
    const timer = setTimeout(() => resolve(none()), ANSWER_WAIT_MS);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseAnswer(data, performance.now() - started);
      if (parsed) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(parseAnswer(data, performance.now() - started) ?? none());
    });
  });
  return { answer, closed, socket };
}

/** Samples the gateway's held body bytes every few milliseconds until stopped; resolves with the largest. */
function sampleHeldBodyBytes(): { stop: () => number } {
  let max = gateway.heldBodyBytes();
  const timer = setInterval(() => (max = Math.max(max, gateway.heldBodyBytes())), 5);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, gateway.heldBodyBytes());
    },
  };
}

/** Waits until `condition` holds or `stop` does, at most `ms`; says whether `condition` held. */
async function eventually(condition: () => boolean, ms = 5_000, stop: () => boolean = () => false): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (stop() || performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Headers smithy signs for a POST of `body` to `path` by the admin (its Host is the one signed). */
async function signedHeaders(path: string, body: Buffer): Promise<[string, string][]> {
  const s = await signWithSmithy(
    { method: "POST", path, body, headers: { "content-type": "application/json" } },
    { keys: admin, signedAt: new Date() },
  );
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < s.rawHeaders.length; i += 2) pairs.push([s.rawHeaders[i]!, s.rawHeaders[i + 1]!]);
  return pairs.filter(([name]) => name.toLowerCase() !== "content-length");
}

const COGNITO_ROUTES = [
  "/ajax-api/2.0/mlflow/runs/log-batch",
  "/ajax-api/2.0/mlflow/runs/search",
  "/ajax-api/2.0/mlflow/experiments/create",
];
const IAM_ROUTES = [
  "/api/2.0/mlflow/runs/log-batch",
  "/api/2.0/mlflow/runs/search",
  "/api/2.0/mlflow/experiments/create",
];

test("50 slow unauthenticated uploads declaring 10 MB each are answered at once, and none of their bodies is held", async () => {
  // Prepare: each sends its head and a first 4 MB (one shared buffer), then trickles 4 KB every 200 ms
  const first = Buffer.alloc(4 * MB, 120);
  const before = await settledMemory();
  const held = sampleHeldBodyBytes();

  // Act: 25 to Cognito routes without an Authorization header, 25 to IAM routes without a signature
  const uploads = Array.from({ length: 50 }, (_, i) => {
    const cognito = i % 2 === 0;
    const routes = cognito ? COGNITO_ROUTES : IAM_ROUTES;
    const target = routes[i % routes.length]!;
    return { cognito, upload: slowUpload(target, [["Content-Type", "application/json"]], { first }) };
  });
  const answers = await Promise.all(uploads.map((u) => u.upload.answer));
  const memory = (await settledMemory()) - before;
  const closedByGateway = await Promise.race([
    Promise.all(uploads.map((u) => u.upload.closed)).then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), PROMPT_MS)),
  ]);
  const maxHeld = held.stop();

  // Assess: API Gateway's answers (401 Unauthorized, 403 Missing Authentication Token), each within PROMPT_MS
  const slowest = Math.max(...answers.map((a) => a.afterMs));
  console.log(
    `gateway-memory: 50 unauthenticated uploads (4 MB sent of 10 MB declared each): slowest answer ${Math.round(slowest)} ms, ` +
      `heap+buffers ${(memory / MB).toFixed(1)} MB over the baseline, held body bytes at most ${maxHeld}`,
  );
  uploads.forEach(({ cognito }, i) => {
    const a = answers[i]!;
    expect({ status: a.status, body: a.body }).toEqual(
      cognito
        ? { status: 401, body: JSON.stringify({ message: "Unauthorized" }) }
        : { status: 403, body: JSON.stringify({ message: "Missing Authentication Token" }) },
    );
    expect(a.afterMs).toBeLessThan(PROMPT_MS);
    // The client is still sending: the connection closes after the answer instead of carrying the rest.
    expect(a.headers.connection).toBe("close");
  });
  expect(closedByGateway).toBe(true);
  expect(maxHeld).toBe(0);
  expect(memory).toBeLessThan(HEAP_BOUND_BYTES);
  expect(authorizerCalls).toBe(0);
  expect(seen).toHaveLength(0);
  expect(logs.map((l) => l.reason).sort()).toEqual([...Array(25).fill("no-signature"), ...Array(25).fill("no-token")]);
}, 60_000);

test("20 slow uploads with forged tokens to UI routes are refused by the authorizer before their bodies are read", async () => {
  // Prepare
  const first = Buffer.alloc(MB, 120);
  const held = sampleHeldBodyBytes();

  // Act
  const answers = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) =>
        slowUpload(COGNITO_ROUTES[i % COGNITO_ROUTES.length]!, [["Authorization", `Bearer forged.token.${i}`]], {
          first,
        }).answer,
    ),
  );
  const maxHeld = held.stop();

  // Assess
  for (const a of answers) {
    expect({ status: a.status, body: a.body }).toEqual({
      status: 401,
      body: JSON.stringify({ message: "Unauthorized" }),
    });
    expect(a.afterMs).toBeLessThan(PROMPT_MS);
  }
  expect(maxHeld).toBe(0);
  expect(seen).toHaveLength(0);
}, 60_000);

test("slow uploads with a made-up Authorization to SDK routes are refused before their bodies are read, and the public MOCK reads none", async () => {
  // Prepare: what the review tried, a junk header and a well-formed signature of a key nobody has
  const first = Buffer.alloc(MB, 120);
  const held = sampleHeldBodyBytes();
  const path = "/api/2.0/mlflow/runs/log-batch";
  const unknownKey = (await signedHeaders(path, Buffer.alloc(DECLARED, 120))).map(([n, v]): [string, string] => [
    n,
    n.toLowerCase() === "authorization" ? v.replace(/Credential=[A-Z0-9]+\//, "Credential=AKIANOBODYHASTHISKEY/") : v,
  ]);

  // Act
  const junk = await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) => slowUpload(IAM_ROUTES[i % IAM_ROUTES.length]!, [["Authorization", "x"]], { first }).answer,
    ),
  );
  const unknown = await Promise.all(Array.from({ length: 10 }, () => slowUpload(path, unknownKey, { first }).answer));
  // A GET with a body to the API's one public method, the MOCK: it reads no body.
  const mockAnswer = await slowUpload("/mlflow-gate-ui.json", [], { first, trickle: false, method: "GET" }).answer;
  const maxHeld = held.stop();

  // Assess: API Gateway's SigV4 answers, each prompt, and no body held for them
  for (const a of junk) expect([a.status, a.headers["x-amzn-errortype"]]).toEqual([403, "InvalidSignatureException"]);
  for (const a of unknown)
    expect({ status: a.status, body: a.body }).toEqual({
      status: 403,
      body: JSON.stringify({ message: "The security token included in the request is invalid." }),
    });
  for (const a of [...junk, ...unknown]) expect(a.afterMs).toBeLessThan(PROMPT_MS);
  // The MOCK answered without holding the body it was sent.
  expect(mockAnswer.status).toBe(200);
  expect(maxHeld).toBe(0);
  expect(await eventually(() => gateway.heldBodyBytes() === 0)).toBe(true);
  expect(seen).toHaveLength(0);
}, 60_000);

test("signed but slow uploads past the budget get 429 Too Many Requests, and the budget returns to zero when their clients abort", async () => {
  // Prepare: one signature for a 10 MB body, reused by every upload (none of them ever completes)
  const path = "/api/2.0/mlflow/runs/log-batch";
  const headers = await signedHeaders(path, Buffer.alloc(DECLARED, 120));
  const fit = Math.floor(MAX_HELD_BODY_BYTES / DECLARED);
  const before = await settledMemory();

  // Act: uploads one after another, each waited for until it holds its share or is answered
  const held: Upload[] = [];
  const refused: RawAnswer[] = [];
  for (let i = 0; i < fit + 5; i++) {
    const upload = slowUpload(path, headers);
    let answered = false;
    void upload.answer.then(() => (answered = true));
    const reserved = await eventually(
      () => gateway.heldBodyBytes() === (held.length + 1) * DECLARED,
      ANSWER_WAIT_MS,
      () => answered,
    );
    if (reserved) held.push(upload);
    else refused.push(await upload.answer);
    // Neither held nor answered: the gateway is waiting for the body (as it did before the budget).
    if (refused.at(-1)?.status === 0) break;
  }
  // Cognito uploads are authorized before their body is read: a reader's write is refused without holding
  // anything; an admin's, allowed, meets the same budget.
  const cognitoReader = await slowUpload("/ajax-api/2.0/mlflow/runs/log-batch", [
    ["Authorization", `Bearer ${accessToken(key)}`],
  ]).answer;
  const cognito = await slowUpload("/ajax-api/2.0/mlflow/runs/log-batch", [
    ["Authorization", `Bearer ${accessToken(key, { "cognito:groups": ["admins"] })}`],
  ]).answer;
  const heldAtMost = gateway.heldBodyBytes();
  const memory = (await settledMemory()) - before;
  for (const u of held) u.socket.destroy();
  const drained = await eventually(() => gateway.heldBodyBytes() === 0);
  // With the budget back, a small signed request goes through to MLflow (the recording upstream).
  const small = Buffer.from('{"run_id":"1"}');
  const ok = await slowUpload(path, await signedHeaders(path, small), {
    declared: small.length,
    first: small,
    trickle: false,
  }).answer;

  // Assess
  console.log(
    `gateway-memory: ${held.length} signed uploads held ${heldAtMost} body bytes (budget ${MAX_HELD_BODY_BYTES}), ` +
      `${refused.length + 1} got 429; heap+buffers ${(memory / MB).toFixed(1)} MB over the baseline`,
  );
  expect(held).toHaveLength(fit);
  expect(heldAtMost).toBe(fit * DECLARED);
  expect(heldAtMost).toBeLessThanOrEqual(MAX_HELD_BODY_BYTES);
  for (const a of [...refused, cognito]) {
    expect({ status: a.status, body: a.body, errorType: a.headers["x-amzn-errortype"] }).toEqual({
      status: 429,
      body: JSON.stringify({ message: "Too Many Requests" }),
      errorType: "TooManyRequestsException",
    });
    expect(a.afterMs).toBeLessThan(PROMPT_MS);
  }
  expect({ status: cognitoReader.status, errorType: cognitoReader.headers["x-amzn-errortype"] }).toEqual({
    status: 403,
    errorType: "AccessDeniedException",
  });
  expect(cognitoReader.afterMs).toBeLessThan(PROMPT_MS);
  expect(refused).toHaveLength(5);
  expect(memory).toBeLessThan(HEAP_BOUND_BYTES);
  expect(drained).toBe(true);
  expect(ok.status).toBe(200);
  expect(await eventually(() => gateway.heldBodyBytes() === 0)).toBe(true);
  expect(authorizerCalls).toBe(2);
  expect(logs.filter((l) => l.status === 429).map((l) => l.reason)).toEqual(Array(6).fill("body-budget"));
}, 60_000);

test("a chunked upload grows its share as it arrives and gives it back when its client leaves", async () => {
  // Prepare
  const path = "/api/2.0/mlflow/runs/log-batch";
  const headers = await signedHeaders(path, Buffer.alloc(0));
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => undefined);
  const lines = [`POST ${path} HTTP/1.1`, ...headers.map(([n, v]) => `${n}: ${v}`), "Transfer-Encoding: chunked"];
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);

  // Act: two chunks of 1 MB, then the client leaves
  const chunk = (bytes: number) => `${bytes.toString(16)}\r\n${"x".repeat(bytes)}\r\n`;
  socket.write(chunk(MB));
  const one = await eventually(() => gateway.heldBodyBytes() === MB);
  socket.write(chunk(MB));
  const two = await eventually(() => gateway.heldBodyBytes() === 2 * MB);
  socket.destroy();
  const none = await eventually(() => gateway.heldBodyBytes() === 0);

  // Assess
  expect([one, two, none]).toEqual([true, true, true]);
});
