import { createServer, IncomingHttpHeaders, IncomingMessage, request, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { readBody } from "../common/http-body";
import { closeServer, trackResponses } from "../common/http-server";
import { connectionTokens, isHopByHopRequestHeader } from "../common/hop-by-hop";

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";
/** How long a call may wait for cognito-local before the UI is told the pool is unavailable. */
export const USER_POOL_TIMEOUT_MS = 10_000;

/**
 * The answer when cognito-local is down or silent: a Cognito-shaped JSON error (the `x-amzn-errortype`
 * header and `__type`/`message` that Amplify reads), so the login form shows the message. 503: the pool
 * is unavailable, not the caller's fault. CORS as cognito-local answers, or the browser hides the body.
 */
export const USER_POOL_UNAVAILABLE = {
  status: 503,
  type: "ServiceUnavailableException",
  message:
    "The user pool is unavailable: the local Cognito (cognito-local) is not answering. Is npm start still running?",
} as const;

/** The browser's CORS preflight, answered here when cognito-local cannot: the POST after it then reads the 503. */
function allowPreflight(res: ServerResponse, headers: IncomingHttpHeaders): void {
  res.writeHead(204, {
    "access-control-allow-origin": headers.origin ?? "*",
    "access-control-allow-methods": "POST",
    "access-control-allow-headers":
      headers["access-control-request-headers"] ?? "content-type, x-amz-target, x-amz-user-agent",
    "access-control-max-age": "0",
  });
  res.end();
}

/** Cognito's requests are small JSON documents; a sign-in body is well under a kilobyte. */
export const MAX_LOGIN_BODY_BYTES = 64 * 1024;

function tooLarge(res: ServerResponse): void {
  const body = JSON.stringify({
    __type: "InvalidParameterException",
    message: `request body over ${MAX_LOGIN_BODY_BYTES} bytes`,
  });
  res.writeHead(413, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}

/** The client's headers without hop-by-hop ones (and those its Connection header names): the body is re-sent whole. */
export function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const tokens = connectionTokens(headers.connection);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isHopByHopRequestHeader(name, tokens)));
}

function sendUnavailable(res: ServerResponse, origin: string | undefined): void {
  const body = JSON.stringify({ __type: USER_POOL_UNAVAILABLE.type, message: USER_POOL_UNAVAILABLE.message });
  res.writeHead(USER_POOL_UNAVAILABLE.status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(body),
    "x-amzn-errortype": USER_POOL_UNAVAILABLE.type,
    "access-control-allow-origin": origin ?? "*",
    "access-control-expose-headers": "x-amzn-errortype, x-amzn-requestid",
  });
  res.end(body);
}

/**
 * The Cognito endpoint the local UI signs in with: cognito-local behind a pass-through that adds the one
 * call Amplify v6 needs and cognito-local lacks. Amplify refreshes tokens with GetTokensFromRefreshToken;
 * cognito-local only knows the older InitiateAuth(REFRESH_TOKEN_AUTH), which answers the same shape.
 */
export async function startUiLoginEndpoint(
  userPoolEndpoint: string,
  host: string,
  timeoutMs = USER_POOL_TIMEOUT_MS,
): Promise<{ readonly endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(userPoolEndpoint);
  async function passOn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Anyone on the machine reaches this port before signing in: bound what a request may make it hold.
    let body = await readBody(req, MAX_LOGIN_BODY_BYTES);
    if (body === undefined) return tooLarge(res);
    const headers = endToEndHeaders(req.headers);
    if (headers["x-amz-target"] === `${TARGET_PREFIX}GetTokensFromRefreshToken`) {
      try {
        const input = JSON.parse(body.toString("utf8")) as { ClientId?: unknown; RefreshToken?: unknown };
        body = Buffer.from(
          JSON.stringify({
            ClientId: input.ClientId,
            AuthFlow: "REFRESH_TOKEN_AUTH",
            AuthParameters: { REFRESH_TOKEN: input.RefreshToken },
          }),
        );
        headers["x-amz-target"] = `${TARGET_PREFIX}InitiateAuth`;
      } catch {
        // Not JSON: cognito-local answers it with its own error.
      }
    }
    headers["content-length"] = String(body.length);
    headers.host = upstream.host;
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        timeout: timeoutMs,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.on("error", () => res.destroy());
      },
    );
    // No answer in time counts as down: the login form shows an error instead of spinning.
    forwarded.on("timeout", () => forwarded.destroy(new Error("timeout")));
    forwarded.on("error", () => {
      if (res.headersSent) return void res.destroy();
      if (req.method === "OPTIONS") return void allowPreflight(res, req.headers);
      sendUnavailable(res, req.headers.origin);
    });
    forwarded.end(body);
  }

  // A request that fails while it is read has no one left to answer.
  const server: Server = createServer((req, res) => void passOn(req, res).catch(() => res.destroy()));
  // A client that trickles its request ties up nothing for long.
  server.requestTimeout = 30_000;
  trackResponses(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return { endpoint: `http://${host}:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}
