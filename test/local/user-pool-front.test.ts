import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { createServer, IncomingHttpHeaders, request, Server } from "http";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { LogHead } from "../../common/log";
import { generatePoolKey, startUserPoolFront, UserPoolFront } from "../../local/user-pool-front";

// The front against a recording stand-in for cognito-local on a Unix socket; the calls come from the
// real Cognito SDK client, signed (or not) as a user's tools would sign them.

let dir: string;
let upstream: Server;
let front: UserPoolFront;
let seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
const logged: LogHead[] = [];
const key = generatePoolKey();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-front-"));
  const socketPath = join(dir, "pool.sock");
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "access-control-allow-origin": "*" });
      res.end(JSON.stringify({ Username: "reader" }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(socketPath, () => resolve()));
  front = await startUserPoolFront({
    host: "127.0.0.1",
    port: 0,
    socketPath,
    region: "us-east-1",
    key,
    log: (line) => logged.push(line),
  });
});
afterAll(async () => {
  await front.stop();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  logged.length = 0;
});

const client = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new CognitoIdentityProviderClient({ endpoint: front.endpoint, region: "us-east-1", credentials, maxAttempts: 1 });

async function rejection(p: Promise<unknown>): Promise<Error & { name: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("resolved");
}

describe("administrator actions", () => {
  test("signed with the pool key: forwarded to cognito-local", async () => {
    const c = client(key);
    try {
      const r = await c.send(new AdminGetUserCommand({ UserPoolId: "local_x", Username: "reader" }));

      expect(r.Username).toBe("reader");
      expect(r.$metadata.httpStatusCode).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.AdminGetUser");
    } finally {
      c.destroy();
    }
  });

  test.each([
    [
      "throwaway credentials (what cognito-local took before)",
      { accessKeyId: "local", secretAccessKey: "local" },
      "UnrecognizedClientException",
    ],
    [
      "the pool key's id with another secret",
      { accessKeyId: key.accessKeyId, secretAccessKey: "guess" },
      "InvalidSignatureException",
    ],
  ])("signed with %s: refused, and nothing reaches cognito-local", async (_, credentials, name) => {
    const c = client(credentials);
    try {
      const e = await rejection(c.send(new AdminGetUserCommand({ UserPoolId: "local_x", Username: "reader" })));

      expect(e.name).toBe(name);
      expect(seen).toEqual([]);
      expect(logged).toEqual([
        expect.objectContaining({ component: "user-pool", event: "refused", action: "AdminGetUser", status: 400 }),
      ]);
      expect(JSON.stringify(logged)).not.toContain(credentials.secretAccessKey);
    } finally {
      c.destroy();
    }
  });

  test("unsigned: MissingAuthenticationTokenException, as Cognito answers it", async () => {
    const r = await fetch(front.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityProviderService.AdminAddUserToGroup",
      },
      body: JSON.stringify({ UserPoolId: "local_x", Username: "reader", GroupName: "admins" }),
    });

    expect(r.status).toBe(400);
    expect(r.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(seen).toEqual([]);
  });
});

describe("sign-in and public documents", () => {
  test("InitiateAuth goes on unsigned, as Cognito takes it", async () => {
    const c = new CognitoIdentityProviderClient({
      endpoint: front.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
      maxAttempts: 1,
    });
    try {
      await c.send(
        new InitiateAuthCommand({
          ClientId: "c",
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: "reader", PASSWORD: "p" },
        }),
      );
      expect(seen.map((s) => s.headers["x-amz-target"])).toEqual(["AWSCognitoIdentityProviderService.InitiateAuth"]);
    } finally {
      c.destroy();
    }
  });

  test("the keys are public; the answer carries no CORS header", async () => {
    const r = await fetch(`${front.endpoint}/local_x/.well-known/jwks.json`);

    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(seen.map((s) => [s.method, s.url])).toEqual([["GET", "/local_x/.well-known/jwks.json"]]);
  });
});

describe("web pages", () => {
  test.each([
    ["POST", "http://evil.example"],
    ["OPTIONS", "http://evil.example"],
    ["GET", "http://evil.example"],
  ])("a %s with Origin %s is refused with 403, without CORS headers", async (method, origin) => {
    const r = await fetch(`${front.endpoint}${method === "GET" ? "/local_x/.well-known/jwks.json" : "/"}`, {
      method,
      headers: {
        origin,
        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "access-control-request-method": "POST",
      },
      ...(method === "POST" ? { body: "{}" } : {}),
    });

    expect(r.status).toBe(403);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(seen).toEqual([]);
  });

  test("a page whose DNS name rebinds to 127.0.0.1 sends its own Host: refused", async () => {
    const url = new URL(front.endpoint);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: "GET",
          path: "/health",
          headers: { host: `evil.example:${url.port}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });

    expect(status).toBe(403);
    expect(seen).toEqual([]);
  });
});

test("cognito-local silent or gone: the Cognito-shaped 503", async () => {
  const gone = await startUserPoolFront({
    host: "127.0.0.1",
    port: 0,
    socketPath: join(dir, "nothing.sock"),
    region: "us-east-1",
    key,
  });
  try {
    const r = await fetch(`${gone.endpoint}/health`);

    expect(r.status).toBe(503);
    expect(r.headers.get("x-amzn-errortype")).toBe("ServiceUnavailableException");
  } finally {
    await gone.stop();
  }
});
