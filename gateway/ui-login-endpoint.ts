import { createServer, request, Server } from "http";
import { AddressInfo } from "net";
import { closeServer } from "./server";

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

/**
 * The Cognito endpoint the local UI signs in with: cognito-local behind a pass-through that adds the one
 * call Amplify v6 needs and cognito-local lacks. Amplify refreshes tokens with GetTokensFromRefreshToken;
 * cognito-local only knows the older InitiateAuth(REFRESH_TOKEN_AUTH), which answers the same shape.
 */
export async function startUiLoginEndpoint(userPoolEndpoint: string, host: string): Promise<{ readonly endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(userPoolEndpoint);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      if (headers["x-amz-target"] === `${TARGET_PREFIX}GetTokensFromRefreshToken`) {
        try {
          const input = JSON.parse(body.toString("utf8")) as { ClientId?: unknown; RefreshToken?: unknown };
          body = Buffer.from(JSON.stringify({ ClientId: input.ClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: input.RefreshToken } }));
          headers["x-amz-target"] = `${TARGET_PREFIX}InitiateAuth`;
        } catch {
          // Not JSON: cognito-local answers it with its own error.
        }
      }
      headers["content-length"] = String(body.length);
      headers.host = upstream.host;
      const forwarded = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      });
      forwarded.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return { endpoint: `http://${host}:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}
