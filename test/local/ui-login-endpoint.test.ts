import { createServer, IncomingHttpHeaders, request as httpRequest, Server } from "http";
import { AddressInfo } from "net";
import { MAX_LOGIN_BODY_BYTES, startUiLoginEndpoint } from "../../local/ui-login-endpoint";

// The pass-through against a recording stand-in for cognito-local on port 0.

let upstream: Server;
let seen: { headers: IncomingHttpHeaders; body: string }[] = [];
let endpoint: { endpoint: string; stop(): Promise<void> };

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "access-control-allow-origin": "*" });
      res.end(JSON.stringify({ AuthenticationResult: { AccessToken: "a" } }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
  endpoint = await startUiLoginEndpoint(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, "127.0.0.1");
});
afterAll(async () => {
  await endpoint.stop();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});
beforeEach(() => (seen = []));

const call = (target: string, body: unknown) =>
  fetch(endpoint.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });

test("GetTokensFromRefreshToken reaches cognito-local as InitiateAuth(REFRESH_TOKEN_AUTH)", async () => {
  const r = await call("GetTokensFromRefreshToken", { ClientId: "client", RefreshToken: "refresh" });

  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ AuthenticationResult: { AccessToken: "a" } });
  expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
  expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
    ClientId: "client",
    AuthFlow: "REFRESH_TOKEN_AUTH",
    AuthParameters: { REFRESH_TOKEN: "refresh" },
  });
});

/** A raw request: chunked when `body` is an array of chunks, with exactly the headers given. */
function rawCall(headers: Record<string, string>, body: string | string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(endpoint.endpoint);
    const req = httpRequest({ host: url.hostname, port: url.port, method: "POST", path: "/", headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    for (const chunk of Array.isArray(body) ? body : [body]) req.write(chunk);
    req.end();
  });
}

describe("what a caller who has not signed in can make the endpoint do", () => {
  test("a body over 64 KiB is refused with 413, declared or chunked, and never reaches the pool", async () => {
    const big = "x".repeat(MAX_LOGIN_BODY_BYTES + 1);

    const declared = await rawCall(
      { "content-type": "application/x-amz-json-1.1", "content-length": String(big.length) },
      big,
    );
    const chunked = await rawCall({ "content-type": "application/x-amz-json-1.1", "transfer-encoding": "chunked" }, [
      big.slice(0, 40_000),
      big.slice(40_000),
    ]);

    expect([declared.status, chunked.status]).toEqual([413, 413]);
    expect(JSON.parse(declared.body)).toMatchObject({ __type: "InvalidParameterException" });
    expect(seen).toEqual([]);
  });

  test("hop-by-hop headers and those the Connection header names stay here; the body goes on with its own length", async () => {
    const r = await rawCall(
      {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "transfer-encoding": "chunked",
        connection: "keep-alive, x-secret",
        "x-secret": "s",
        "keep-alive": "timeout=5",
      },
      ['{"Client', 'Id":"c"}'],
    );

    expect(r.status).toBe(200);
    expect(seen[0]?.headers).toMatchObject({
      "content-length": "16",
      "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
    });
    expect(seen[0]?.headers).not.toHaveProperty("transfer-encoding");
    expect(seen[0]?.headers).not.toHaveProperty("x-secret");
    expect(seen[0]?.headers).not.toHaveProperty("keep-alive");
    expect(seen[0]?.body).toBe('{"ClientId":"c"}');
  });
});

test("every other call passes unchanged, with cognito-local's CORS headers", async () => {
  const body = {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: "client",
    AuthParameters: { USERNAME: "reader", PASSWORD: "p" },
  };
  const r = await call("InitiateAuth", body);

  expect(r.headers.get("access-control-allow-origin")).toBe("*");
  expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
  expect(JSON.parse(seen[0]?.body ?? "")).toEqual(body);
});

describe("when cognito-local is not there", () => {
  test("a login answers 503 with a Cognito-shaped JSON error naming the user pool, at once", async () => {
    // Prepare: a pass-through to a port nothing listens on.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const down = await startUiLoginEndpoint(`http://127.0.0.1:${closed}`, "127.0.0.1");
    try {
      // Act
      const r = await fetch(down.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
          origin: "http://127.0.0.1:8080",
        },
        body: JSON.stringify({
          AuthFlow: "USER_PASSWORD_AUTH",
          ClientId: "client",
          AuthParameters: { USERNAME: "reader", PASSWORD: "p" },
        }),
        signal: AbortSignal.timeout(5000),
      });
      const preflight = await fetch(down.endpoint, {
        method: "OPTIONS",
        headers: { origin: "http://127.0.0.1:8080", "access-control-request-headers": "content-type,x-amz-target" },
      });

      // Assess: what Amplify reads (error type header, JSON message), readable cross-origin.
      expect(r.status).toBe(503);
      expect(r.headers.get("x-amzn-errortype")).toBe("ServiceUnavailableException");
      expect(r.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:8080");
      expect(await r.json()).toEqual({
        __type: "ServiceUnavailableException",
        message: expect.stringContaining("user pool is unavailable"),
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type,x-amz-target");
    } finally {
      await down.stop();
    }
  });

  test("a pool that accepts but never answers gets the same 503 after the timeout, not a hang", async () => {
    // Prepare: a stand-in that reads the request and stays silent.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const slow = await startUiLoginEndpoint(
      `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      "127.0.0.1",
      300,
    );
    try {
      // Act
      // The client's own 5 s abort makes a hang fail the test instead of blocking it.
      const answer = await fetch(slow.endpoint, {
        method: "POST",
        headers: { "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth" },
        body: "{}",
        signal: AbortSignal.timeout(5000),
      });

      // Assess
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { message: string }).message).toContain("user pool is unavailable");
    } finally {
      await slow.stop();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
