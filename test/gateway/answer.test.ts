import { createServer, request, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { ANSWERS } from "../../gateway/api-responses";
import { AccessLogEntry, Answered, createRequestEnd, Refusal } from "../../gateway/answer";

// The one writer of a request's end, on a real server on port 0.

let server: Server;
let port: number;
let onRequest: (res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((_req, res) => onRequest(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(): Promise<{ status: number; headers: Record<string, unknown>; body: string } | "cut off"> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/x" }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", () => resolve("cut off"));
    });
    req.on("error", () => resolve("cut off"));
    req.end();
  });
}

const clock = { requestId: "req-1", extendedRequestId: "AbCdEfGhIjKlMnO=", started: performance.now() };
const facts = { requestId: "req-1", extendedRequestId: "AbCdEfGhIjKlMnO=", method: "GET", path: "/x" };

describe("createRequestEnd", () => {
  test("a refusal: API Gateway's JSON error body and headers, then one log line with its status and reason", async () => {
    // Prepare
    const logs: AccessLogEntry[] = [];
    const end = createRequestEnd((e) => void logs.push(e));
    const refusal: Refusal = { answer: ANSWERS.explicitDeny, decision: "deny", reason: "explicit-deny" };
    onRequest = (res) => end(res, clock, facts, refusal);
    // Act
    const r = await get();
    // Assess
    expect(r).toMatchObject({
      status: 403,
      headers: {
        "content-type": "application/json",
        "x-amzn-requestid": "req-1",
        "x-amz-apigw-id": "AbCdEfGhIjKlMnO=",
        "x-amzn-errortype": "AccessDeniedException",
      },
      body: JSON.stringify({ message: ANSWERS.explicitDeny.message }),
    });
    // The one log shape's head (common/log.ts), a refusal a warning.
    expect(logs).toEqual([
      {
        time: expect.any(String),
        level: "warn",
        component: "gateway",
        event: "request",
        requestId: "req-1",
        extendedRequestId: "AbCdEfGhIjKlMnO=",
        method: "GET",
        path: "/x",
        decision: "deny",
        reason: "explicit-deny",
        status: 403,
        latencyMs: expect.any(Number),
      },
    ]);
  });

  test("a refusal that closes the connection says so", async () => {
    // Prepare
    const end = createRequestEnd(() => undefined);
    onRequest = (res) => end(res, clock, facts, { answer: ANSWERS.tooLarge, decision: "deny", closeConnection: true });
    // Act
    const r = await get();
    // Assess
    expect(r).toMatchObject({ status: 413, headers: { connection: "close" } });
  });

  test("a refusal once the response has begun can only cut the connection; the log still has the gateway's status", async () => {
    // Prepare
    const logs: AccessLogEntry[] = [];
    const end = createRequestEnd((e) => void logs.push(e));
    onRequest = (res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      end(res, clock, facts, { answer: ANSWERS.mlflowDown, decision: "error", reason: "upstream-ECONNRESET" });
    };
    // Act
    const r = await get();
    // Assess
    expect(r).toBe("cut off");
    expect(logs).toMatchObject([{ status: 502, decision: "error", reason: "upstream-ECONNRESET" }]);
  });

  test("a request answered elsewhere is only logged, without a reason when it has none", async () => {
    // Prepare
    const logs: AccessLogEntry[] = [];
    const end = createRequestEnd((e) => void logs.push(e));
    const answered: Answered = { status: 200, decision: "allow" };
    onRequest = (res) => {
      res.end("ok");
      end(res, clock, { ...facts, surface: "cognito", groups: ["readers"] }, answered);
    };
    // Act
    const r = await get();
    // Assess
    expect(r).toMatchObject({ status: 200, body: "ok" });
    expect(logs).toMatchObject([{ status: 200, decision: "allow", surface: "cognito", groups: ["readers"] }]);
    expect(logs[0]).not.toHaveProperty("reason");
  });

  test("a failing log sink changes nothing: the answer goes out, nothing throws", async () => {
    // Prepare
    const end = createRequestEnd(() => {
      throw new Error("stdout closed");
    });
    onRequest = (res) => end(res, clock, facts, { answer: ANSWERS.badRequest, decision: "deny", reason: "bad-target" });
    // Act
    const r = await get();
    // Assess
    expect(r).toMatchObject({ status: 400 });
  });
});
