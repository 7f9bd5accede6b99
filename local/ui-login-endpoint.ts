import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { readBody } from "../common/http-body";
import { closeServer, trackResponses } from "../common/http-server";
import { decideShellRequest, MAX_POOL_REQUEST_BYTES, POOL_TARGET_PREFIX } from "./pool-access";
import {
  corsHeaders,
  endToEndHeaders,
  forwardToPool,
  sendPoolError,
  USER_POOL_TIMEOUT_MS,
  USER_POOL_UNAVAILABLE,
  withoutCors,
} from "./pool-http";

export interface UiLoginEndpointProps {
  /** The user pool's front (local/user-pool-front.ts). */
  readonly userPoolEndpoint: string;
  readonly host: string;
  /** The origins of the gateway's own pages, read on each request (the gateway may start listening later). */
  readonly gatewayOrigins: () => ReadonlySet<string>;
  /** @default USER_POOL_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** The browser's CORS preflight of the gateway's page: answered here, never by the pool. */
function allowPreflight(res: ServerResponse, origin: string, requested: string | undefined): void {
  res.writeHead(204, {
    ...corsHeaders(origin),
    "access-control-allow-methods": "POST",
    "access-control-allow-headers": requested ?? "content-type, x-amz-target, x-amz-user-agent",
    "access-control-max-age": "0",
  });
  res.end();
}

/** A refreshed session, asked the way Amplify v6 asks it, in the words cognito-local knows. */
function asRefreshTokenAuth(body: Buffer): Buffer | undefined {
  try {
    const input = JSON.parse(body.toString("utf8")) as { ClientId?: unknown; RefreshToken?: unknown };
    return Buffer.from(
      JSON.stringify({
        ClientId: input.ClientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: input.RefreshToken },
      }),
    );
  } catch {
    return undefined;
  }
}

/**
 * The Cognito endpoint the local sign-in page uses (its address is in the public `/mlflow-gate-ui.json`).
 * It answers the gateway's own pages only (CORS for their origin, a refusal without CORS headers for any
 * other), forwards only the actions the page uses (decideShellRequest), and adds the one call Amplify v6
 * needs and cognito-local lacks: GetTokensFromRefreshToken becomes InitiateAuth(REFRESH_TOKEN_AUTH),
 * which answers the same shape. It calls the pool's front as a client of its own, without the `Origin`.
 */
export async function startUiLoginEndpoint(
  props: UiLoginEndpointProps,
): Promise<{ readonly endpoint: string; stop(): Promise<void> }> {
  const upstream = new URL(props.userPoolEndpoint);
  const timeoutMs = props.timeoutMs ?? USER_POOL_TIMEOUT_MS;

  async function passOn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const decision = decideShellRequest(
      { method: req.method ?? "", origin: req.headers.origin, target: req.headers["x-amz-target"] },
      props.gatewayOrigins(),
    );
    if (decision.kind === "preflight")
      return allowPreflight(res, decision.origin, req.headers["access-control-request-headers"]);
    if (decision.kind === "refuse") return sendPoolError(res, decision.refusal, decision.origin, true);
    // Anyone on the machine reaches this port before signing in: bound what a request may make it hold.
    let body = await readBody(req, MAX_POOL_REQUEST_BYTES);
    if (body === undefined)
      return sendPoolError(
        res,
        {
          status: 413,
          type: "InvalidParameterException",
          message: `request body over ${MAX_POOL_REQUEST_BYTES} bytes`,
        },
        decision.origin,
        true,
      );
    const headers = endToEndHeaders(req.headers);
    delete headers.origin;
    delete headers.referer;
    headers.host = upstream.host;
    if (decision.action === "GetTokensFromRefreshToken") {
      const rewritten = asRefreshTokenAuth(body);
      // Not JSON: the pool answers it with its own error.
      if (rewritten !== undefined) {
        body = rewritten;
        headers["x-amz-target"] = `${POOL_TARGET_PREFIX}InitiateAuth`;
      }
    }
    const cors = decision.origin !== undefined ? corsHeaders(decision.origin) : {};
    forwardToPool(req, res, headers, body, {
      to: { host: upstream.hostname, port: upstream.port },
      timeoutMs,
      answerHeaders: (h) => ({ ...withoutCors(h), ...cors }),
      // No answer in time counts as down: the login form shows an error instead of spinning.
      unavailable: (r) => sendPoolError(r, USER_POOL_UNAVAILABLE, decision.origin),
    });
  }

  // A request that fails while it is read has no one left to answer.
  const server: Server = createServer((req, res) => void passOn(req, res).catch(() => res.destroy()));
  // A client that trickles its request ties up nothing for long.
  server.requestTimeout = 30_000;
  trackResponses(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, props.host, () => resolve());
  });
  return {
    endpoint: `http://${props.host}:${(server.address() as AddressInfo).port}`,
    stop: () => closeServer(server),
  };
}
