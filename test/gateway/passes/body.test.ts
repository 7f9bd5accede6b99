import { EventEmitter } from "events";
import { IncomingMessage } from "http";
import { PassThrough } from "stream";
import { createBodyPass } from "../../../gateway/passes/body";

/** A request body as a stream with the headers a client sent (no network); `end: false` leaves it open. */
function requestOf(headers: Record<string, string>, chunks: string[], end = true): IncomingMessage & PassThrough {
  const stream = new PassThrough();
  for (const c of chunks) stream.write(c);
  if (end) stream.end();
  return Object.assign(stream, { headers }) as unknown as IncomingMessage & PassThrough;
}

/** The request's response, as far as the pass sees it: something that closes when the request ends. */
const responseOf = () => new EventEmitter();

const TOO_MANY = { status: 429, errorType: "TooManyRequestsException", message: "Too Many Requests" };

describe("reading a body", () => {
  test("goes on with the whole body", async () => {
    // Act
    const r = await createBodyPass({ limit: 16 }).read(requestOf({}, ['{"a":', "1}"]), responseOf());
    // Assess
    expect(r).toEqual({ go: Buffer.from('{"a":1}') });
  });

  test("a body past the limit, declared or counted: 413, and the connection closes after the answer", async () => {
    // Prepare
    const pass = createBodyPass({ limit: 16 });
    // Act
    const declared = await pass.read(requestOf({ "content-length": "17" }, ["x".repeat(17)]), responseOf());
    const counted = await pass.read(requestOf({}, ["x".repeat(10), "x".repeat(10)]), responseOf());
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
    expect(pass.heldBytes()).toBe(0);
  });

  test("a body of exactly the limit passes", async () => {
    expect(await createBodyPass({ limit: 16 }).read(requestOf({}, ["x".repeat(16)]), responseOf())).toEqual({
      go: Buffer.from("x".repeat(16)),
    });
  });

  test("a GET with a body goes on, as API Gateway sends it on (the guard refuses it: test/guard/server.test.ts)", async () => {
    expect(await createBodyPass().read(requestOf({}, ['{"experiment_id":"1"}']), responseOf())).toEqual({
      go: Buffer.from('{"experiment_id":"1"}'),
    });
  });
});

describe("the budget for bodies held at once (regression: slow clients could hold 10 MB each, without bound)", () => {
  test("a declared length is held before the body is read, until its request's response closes", async () => {
    // Prepare
    const pass = createBodyPass({ maxHeldBodyBytes: 100 });
    const res = responseOf();
    // Act
    const r = await pass.read(requestOf({ "content-length": "60" }, ["x".repeat(60)]), res);
    const held = pass.heldBytes();
    res.emit("close");
    // Assess
    expect(r).toEqual({ go: Buffer.from("x".repeat(60)) });
    expect([held, pass.heldBytes()]).toEqual([60, 0]);
  });

  test("past the budget, a declared body gets 429 Too Many Requests without a byte read, and the connection closes", async () => {
    // Prepare: a first body still arriving holds 60 of 100 bytes
    const pass = createBodyPass({ maxHeldBodyBytes: 100 });
    const first = requestOf({ "content-length": "60" }, ["x".repeat(10)], false);
    void pass.read(first, responseOf());
    const second = requestOf({ "content-length": "41" }, ["y".repeat(41)]);
    // Act
    const r = await pass.read(second, responseOf());
    // Assess
    expect(r).toEqual({ stop: { answer: TOO_MANY, decision: "deny", reason: "body-budget", closeConnection: true } });
    expect(pass.heldBytes()).toBe(60);
    first.destroy();
  });

  test("a chunked body holds its bytes as they arrive, and gets 429 when the next chunk does not fit", async () => {
    // Prepare
    const pass = createBodyPass({ maxHeldBodyBytes: 100 });
    const req = requestOf({}, [], false);
    const read = pass.read(req, responseOf());
    // Act
    req.write("x".repeat(70));
    await new Promise((r) => setImmediate(r));
    const held = pass.heldBytes();
    req.write("x".repeat(40));
    const r = await read;
    // Assess: the share it had is given back with the refusal
    expect(held).toBe(70);
    expect(r).toEqual({ stop: { answer: TOO_MANY, decision: "deny", reason: "body-budget", closeConnection: true } });
    expect(pass.heldBytes()).toBe(0);
  });

  test("a request that fails while its body arrives gives its share back (regression: no leak on aborts)", async () => {
    // Prepare
    const pass = createBodyPass({ maxHeldBodyBytes: 100 });
    const req = requestOf({ "content-length": "80" }, ["x".repeat(10)], false);
    const read = pass.read(req, responseOf());
    // Act
    req.destroy(new Error("aborted"));
    // Assess
    await expect(read).rejects.toThrow("aborted");
    expect(pass.heldBytes()).toBe(0);
  });

  test("a response that closes while the body arrives (the client left) gives the share back, once", async () => {
    // Prepare
    const pass = createBodyPass({ maxHeldBodyBytes: 100 });
    const res = responseOf();
    const req = requestOf({}, ["x".repeat(30)], false);
    const read = pass.read(req, res);
    await new Promise((r) => setImmediate(r));
    // Act: the client leaves; a chunk already buffered arrives after
    res.emit("close");
    req.write("x".repeat(30));
    const r = await read;
    res.emit("close");
    // Assess
    expect("stop" in r).toBe(true);
    expect(pass.heldBytes()).toBe(0);
  });

  test("an empty body holds nothing", async () => {
    // Prepare
    const pass = createBodyPass({ maxHeldBodyBytes: 0 });
    // Act, Assess
    expect(await pass.read(requestOf({ "content-length": "0" }, []), responseOf())).toEqual({ go: Buffer.alloc(0) });
    expect(await pass.read(requestOf({}, []), responseOf())).toEqual({ go: Buffer.alloc(0) });
  });
});
