import { createServer, IncomingHttpHeaders, request, Server } from "http";
import { closeServer } from "../../../common/http-server";
import { MockIntegration } from "../../../gateway/api-model";
import { Answered, Refusal } from "../../../gateway/answer";
import { answerMock } from "../../../gateway/passes/mock";
import { listenOnLoopback } from "../../support/loopback";

// A MOCK as API Gateway runs it, on a server of its own (the gateway's use of it: test/gateway/server.test.ts).

const MOCK: MockIntegration = {
  kind: "mock",
  convertsToText: true,
  status: 200,
  headers: [
    ["Content-Type", "application/json"],
    ["Cache-Control", "max-age=300"],
  ],
  body: '{"a":1}',
};

let server: Server;
let base: URL;
let mock = MOCK;
let binaryMediaTypes = ["*/*"];
let ends: (Refusal | Answered)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const end = answerMock(req, res, { requestId: "r1", extendedRequestId: "e1", started: 0 }, mock, binaryMediaTypes);
    ends.push(end);
    if ("answer" in end) res.writeHead(end.answer.status).end();
  });
  base = await listenOnLoopback(server);
});
afterAll(() => closeServer(server));
beforeEach(() => {
  mock = MOCK;
  binaryMediaTypes = ["*/*"];
  ends = [];
});

function get(
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

test("answers its default response: status, static headers, the template's text and API Gateway's ids", async () => {
  const r = await get();
  expect([r.status, r.body, r.headers["content-type"], r.headers["cache-control"]]).toEqual([
    200,
    '{"a":1}',
    "application/json",
    "max-age=300",
  ]);
  expect([r.headers["x-amzn-requestid"], r.headers["x-amz-apigw-id"]]).toEqual(["r1", "e1"]);
  expect(ends).toEqual([{ status: 200, decision: "public" }]);
});

test("without CONVERT_TO_TEXT, a payload of a binary media type cannot be transformed: API Gateway's 500", async () => {
  mock = { ...MOCK, convertsToText: false };
  expect((await get()).status).toBe(500);
  expect(ends).toEqual([
    {
      answer: { status: 500, errorType: "InternalServerErrorException", message: "Internal server error" },
      decision: "error",
      reason: "mock-cannot-transform-binary",
    },
  ]);
});

test("without CONVERT_TO_TEXT, a request of no binary media type passes (only binary payloads need converting)", async () => {
  mock = { ...MOCK, convertsToText: false };
  binaryMediaTypes = ["application/octet-stream"];
  expect((await get({ "content-type": "application/json" })).status).toBe(200);
});
