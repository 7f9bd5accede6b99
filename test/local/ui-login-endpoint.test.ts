import { createServer, IncomingHttpHeaders, request as httpRequest, Server } from "http";
import { AddressInfo } from "net";
import { MAX_POOL_REQUEST_BYTES } from "../../local/pool-access";
import { startUiLoginEndpoint } from "../../local/ui-login-endpoint";

const GATEWAY_ORIGIN = "http://127.0.0.1:8080";
const gatewayOrigins = () => new Set([GATEWAY_ORIGIN]);

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
  endpoint = await startUiLoginEndpoint({
    userPoolEndpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    host: "127.0.0.1",
    gatewayOrigins,
  });
});
afterAll(async () => {
  await endpoint.stop();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});
beforeEach(() => (seen = []));

const call = (target: string, body: unknown, origin: string = GATEWAY_ORIGIN) =>
  fetch(endpoint.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${target}`,
      origin,
      referer: `${origin}/`,
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
    const big = "x".repeat(MAX_POOL_REQUEST_BYTES + 1);

    const signIn = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
    };
    const declared = await rawCall({ ...signIn, "content-length": String(big.length) }, big);
    const chunked = await rawCall({ ...signIn, "transfer-encoding": "chunked" }, [
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

describe("the gateway's page, and only it", () => {
  test("a sign-in passes unchanged, without the page's Origin and Referer; the answer is readable by the gateway's origin only", async () => {
    const body = {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: "client",
      AuthParameters: { USERNAME: "reader", PASSWORD: "p" },
    };
    const r = await call("InitiateAuth", body);

    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe(GATEWAY_ORIGIN);
    expect(r.headers.get("vary")).toBe("Origin");
    expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
    expect(seen[0]?.headers).not.toHaveProperty("origin");
    expect(seen[0]?.headers).not.toHaveProperty("referer");
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual(body);
  });

  test.each(["http://evil.example", "http://127.0.0.1:9999", "null"])(
    "a page of %s gets 403 without CORS headers, for the call and its preflight, and nothing reaches the pool",
    async (origin) => {
      const r = await call("InitiateAuth", { ClientId: "client" }, origin);
      const preflight = await fetch(endpoint.endpoint, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-headers": "content-type,x-amz-target" },
      });

      expect([r.status, preflight.status]).toEqual([403, 403]);
      expect(r.headers.get("access-control-allow-origin")).toBeNull();
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      expect(seen).toEqual([]);
    },
  );

  test.each(["AdminAddUserToGroup", "ListUsers", "AdminGetUser", "SignUp", "CreateUserPoolClient"])(
    "%s, not an action of the sign-in page, is refused with a Cognito-shaped 400 and never reaches the pool",
    async (action) => {
      const r = await call(action, { UserPoolId: "local_x", Username: "reader", GroupName: "admins" });

      expect(r.status).toBe(400);
      expect(r.headers.get("x-amzn-errortype")).toBe("NotAuthorizedException");
      expect(((await r.json()) as { message: string }).message).toContain("forwards only InitiateAuth");
      expect(seen).toEqual([]);
    },
  );

  test("a GET is 405 and never reaches the pool", async () => {
    const r = await fetch(endpoint.endpoint, { headers: { origin: GATEWAY_ORIGIN } });

    expect(r.status).toBe(405);
    expect(seen).toEqual([]);
  });
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
    const down = await startUiLoginEndpoint({
      userPoolEndpoint: `http://127.0.0.1:${closed}`,
      host: "127.0.0.1",
      gatewayOrigins,
    });
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
    const slow = await startUiLoginEndpoint({
      userPoolEndpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      host: "127.0.0.1",
      gatewayOrigins,
      timeoutMs: 300,
    });
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
