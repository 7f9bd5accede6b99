import { createServer, request, Server } from "http";
import { AddressInfo } from "net";
import { closeServer, trackResponses } from "../../common/http-server";
import { sigtermUnderLoad } from "./support/faults";

// Graceful stop. The real `npm start` process under load gets SIGTERM while requests are mid-body at the
// gateway: it must stop accepting, answer those requests (MLflow stops only after the gateway drained),
// and exit 0. Regression: closeServer used to cut every connection at once, in-flight requests included.

test("SIGTERM to npm start under load: new connections refused, in-flight requests answered 200, exit 0, no 5xx", async () => {
  // Act
  const drain = await sigtermUnderLoad({ loadBeforeMs: 2000, inFlight: 4 });
  process.stderr.write(
    `drain: ${JSON.stringify({ ...drain, load: { requests: drain.load.requests, statuses: drain.load.statuses } })}\n`,
  );

  // Assess
  expect(drain.refusedNewConnections).toBe(true);
  expect(drain.inFlightStatuses).toEqual([200, 200, 200, 200]);
  expect(drain.load.serverErrors).toBe(0);
  expect(drain.load.statuses["200"]).toBeGreaterThan(0);
  expect(drain.exitCode).toBe(0);
  expect(drain.stderrTail).toContain("SIGTERM: stopping");
  expect(drain.stderrTail).toContain("stopped");
}, 240_000);

describe("closeServer", () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    // A server that answers only when the client has sent its whole body.
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("done"));
    });
    trackResponses(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    port = (server.address() as AddressInfo).port;
  });

  const openRequest = () => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { "content-length": "4" } });
    const answer = new Promise<string>((resolve) => {
      req.on("response", (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(`${res.statusCode} ${body} ${res.headers.connection}`));
      });
      req.on("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    });
    req.flushHeaders();
    req.write("ab");
    return { req, answer };
  };

  test("lets a request in flight finish, with Connection: close, before it resolves", async () => {
    // Prepare
    const open = openRequest();
    await new Promise((r) => setTimeout(r, 100));

    // Act
    let closed = false;
    const closing = closeServer(server, 5000).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    const stillOpen = !closed;
    open.req.end("cd");

    // Assess
    expect(stillOpen).toBe(true);
    expect(await open.answer).toBe("200 done close");
    await closing;
  });

  test("cuts a request that does not finish within the grace period, so a stop stays bounded", async () => {
    // Prepare
    const open = openRequest();
    await new Promise((r) => setTimeout(r, 100));

    // Act
    await closeServer(server, 300);

    // Assess: the client's connection was cut, and closeServer returned.
    expect(await open.answer).toMatch(/^error (ECONNRESET|EPIPE)|socket hang up/);
  });
});
