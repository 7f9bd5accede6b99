import { createServer, IncomingMessage, request, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { discardBody, readBody } from "../../common/http-body";

// Real requests on port 0: chunked and declared bodies, as clients send them.

let server: Server;
let port: number;
let onRequest: (req: IncomingMessage, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => onRequest(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends `chunks` (chunked unless a content-length is given) and resolves with the answer's body. */
function send(chunks: string[], headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("readBody", () => {
  test("reads the whole body, chunked or declared", async () => {
    // Prepare
    onRequest = (req, res) => void readBody(req, 10).then((b) => res.end(`read ${b?.toString()}`));
    // Act, Assess
    expect(await send(["abc", "def"])).toBe("read abcdef");
    expect(await send(["0123456789"], { "content-length": "10" })).toBe("read 0123456789");
  });

  test("past the limit, declared or counted, it stops with undefined and leaves the rest to discardBody", async () => {
    // Prepare: the answer comes once the rest of the body has been read and dropped
    onRequest = (req, res) =>
      void readBody(req, 10).then(async (b) => {
        if (b !== undefined) return void res.end("read");
        await discardBody(req);
        res.end("too large");
      });
    // Act, Assess
    expect(await send(["012345", "6789x"])).toBe("too large");
    expect(await send(["x".repeat(50_000)], { "content-length": "50000" })).toBe("too large");
  });
});

describe("readBody with a budget to hold its bytes in", () => {
  test("a declared length is asked for once, before any byte is read; a chunked body chunk by chunk", async () => {
    // Prepare: a hold that records what it is asked for
    let asked: number[] = [];
    onRequest = (req, res) =>
      void readBody(req, 100, (bytes) => (asked.push(bytes), true)).then((b) => res.end(`read ${b?.toString()}`));
    // Act
    const declared = await send(["abc", "def"], { "content-length": "6" });
    const declaredAsked = asked;
    asked = [];
    const chunked = await send(["abc", "def"]);
    // Assess
    expect([declared, chunked]).toEqual(["read abcdef", "read abcdef"]);
    expect(declaredAsked).toEqual([6]);
    expect(asked.reduce((a, b) => a + b, 0)).toBe(6);
  });

  test("a hold that refuses stops the reading as a body past the limit does", async () => {
    // Prepare: room for 4 bytes
    let room = 4;
    onRequest = (req, res) =>
      void readBody(req, 100, (bytes) => (room -= bytes) >= 0).then(async (b) => {
        if (b !== undefined) return void res.end("read");
        await discardBody(req);
        res.end("no room");
      });
    // Act, Assess
    expect(await send(["abcdef"], { "content-length": "6" })).toBe("no room");
    room = 4;
    expect(await send(["ab", "cdef"])).toBe("no room");
  });
});

describe("discardBody", () => {
  test("cuts a client that keeps sending past its bound", async () => {
    // Prepare: a server that never answers, and a client that sends 1 KB chunks until it is cut off
    let discarded: Promise<void> = Promise.resolve();
    onRequest = (req) => void (discarded = readBody(req, 10).then(() => discardBody(req, 5_000)));
    // Act
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/" });
      req.on("error", () => resolve("cut off"));
      let sent = 0;
      const tick = setInterval(() => {
        if (sent > 1_000_000) return void (clearInterval(tick), resolve("never cut off"), req.destroy());
        req.write("x".repeat(1024));
        sent += 1024;
      }, 1);
      req.on("close", () => clearInterval(tick));
    });
    await discarded;
    // Assess
    expect(outcome).toBe("cut off");
  });

  test("resolves at once for a body already read", async () => {
    // Prepare
    onRequest = (req, res) =>
      void readBody(req, 10)
        .then(() => discardBody(req))
        .then(() => res.end("done"));
    // Act, Assess
    expect(await send(["abc"])).toBe("done");
  });
});
