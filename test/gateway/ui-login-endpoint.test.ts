import { createServer, IncomingHttpHeaders, Server } from "http";
import { AddressInfo } from "net";
import { startUiLoginEndpoint } from "../../gateway/ui-login-endpoint";

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
  fetch(endpoint.endpoint, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityProviderService.${target}` }, body: JSON.stringify(body) });

test("GetTokensFromRefreshToken reaches cognito-local as InitiateAuth(REFRESH_TOKEN_AUTH)", async () => {
  const r = await call("GetTokensFromRefreshToken", { ClientId: "client", RefreshToken: "refresh" });

  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ AuthenticationResult: { AccessToken: "a" } });
  expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
  expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ ClientId: "client", AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "refresh" } });
});

test("every other call passes unchanged, with cognito-local's CORS headers", async () => {
  const body = { AuthFlow: "USER_PASSWORD_AUTH", ClientId: "client", AuthParameters: { USERNAME: "reader", PASSWORD: "p" } };
  const r = await call("InitiateAuth", body);

  expect(r.headers.get("access-control-allow-origin")).toBe("*");
  expect(seen[0]?.headers["x-amz-target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
  expect(JSON.parse(seen[0]?.body ?? "")).toEqual(body);
});
