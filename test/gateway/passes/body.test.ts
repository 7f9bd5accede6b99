import { IncomingMessage } from "http";
import { PassThrough } from "stream";
import { bodyPass } from "../../../gateway/passes/body";

/** A request body as a stream with the headers a client sent (no network). */
function requestOf(headers: Record<string, string>, chunks: string[]): IncomingMessage {
  const stream = new PassThrough();
  for (const c of chunks) stream.write(c);
  stream.end();
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

describe("bodyPass", () => {
  test("goes on with the whole body", async () => {
    // Act
    const r = await bodyPass(requestOf({}, ['{"a":', "1}"]), 16);
    // Assess
    expect(r).toEqual({ go: Buffer.from('{"a":1}') });
  });

  test("a body past the limit, declared or counted: 413, and the connection closes after the answer", async () => {
    // Act
    const declared = await bodyPass(requestOf({ "content-length": "17" }, ["x".repeat(17)]), 16);
    const counted = await bodyPass(requestOf({}, ["x".repeat(10), "x".repeat(10)]), 16);
    // Assess
    for (const r of [declared, counted]) {
      expect(r).toEqual({
        stop: {
          answer: { status: 413, errorType: "RequestTooLargeException", message: "Request Too Long" },
          decision: "deny",
          reason: "payload-too-large",
          closeConnection: true,
        },
      });
    }
  });

  test("a body of exactly the limit passes", async () => {
    expect(await bodyPass(requestOf({}, ["x".repeat(16)]), 16)).toEqual({ go: Buffer.from("x".repeat(16)) });
  });

  test("a GET with a body goes on, as API Gateway sends it on (the guard refuses it: test/guard/server.test.ts)", async () => {
    expect(await bodyPass(requestOf({}, ['{"experiment_id":"1"}']))).toEqual({
      go: Buffer.from('{"experiment_id":"1"}'),
    });
  });
});
