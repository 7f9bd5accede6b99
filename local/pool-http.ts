// The HTTP plumbing the local user pool's front and the sign-in page's pass-through share: Cognito-shaped
// errors, and forwarding one whole request to the next hop.
import { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, request, ServerResponse } from "http";
import { connectionTokens, isHopByHopRequestHeader } from "../common/hop-by-hop";
import { PoolRefusal } from "./pool-access";

/** How long a call may wait for the pool before the caller is told it is unavailable. */
export const USER_POOL_TIMEOUT_MS = 10_000;

/**
 * The answer when cognito-local is down or silent: a Cognito-shaped JSON error (the `x-amzn-errortype`
 * header and `__type`/`message` that Amplify and the SDKs read). 503: the pool is unavailable, not the
 * caller's fault.
 */
export const USER_POOL_UNAVAILABLE: Omit<PoolRefusal, "reason"> = {
  status: 503,
  type: "ServiceUnavailableException",
  message:
    "The user pool is unavailable: the local Cognito (cognito-local) is not answering. Is npm start still running?",
};

/** The CORS headers that let the gateway's page at `origin` read an answer. */
export function corsHeaders(origin: string): OutgoingHttpHeaders {
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "x-amzn-errortype, x-amzn-requestid",
    vary: "Origin",
  };
}

/** A Cognito-shaped error; readable by the page at `corsOrigin` when one is given, by no page otherwise. */
export function sendPoolError(
  res: ServerResponse,
  error: Omit<PoolRefusal, "reason">,
  corsOrigin?: string,
  closeConnection = false,
): void {
  const body = JSON.stringify({ __type: error.type, message: error.message });
  res.writeHead(error.status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(body),
    "x-amzn-errortype": error.type,
    ...(corsOrigin !== undefined ? corsHeaders(corsOrigin) : {}),
    ...(closeConnection ? { connection: "close" } : {}),
  });
  res.end(body);
}

/** The client's headers without hop-by-hop ones (and those its Connection header names): the body is re-sent whole. */
export function endToEndHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const tokens = connectionTokens(headers.connection);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isHopByHopRequestHeader(name, tokens)));
}

/** The upstream's answer headers without its CORS headers: the hop that forwards decides those. */
export function withoutCors(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith("access-control-")));
}

export interface PoolHop {
  /** Where the next hop listens: a TCP address, or cognito-local's Unix socket. */
  readonly to: { readonly host: string; readonly port: string } | { readonly socketPath: string };
  readonly timeoutMs: number;
  /** The answer's headers as this hop sends them on. */
  readonly answerHeaders: (upstream: IncomingHttpHeaders) => OutgoingHttpHeaders;
  /** When the next hop fails before answering (down, silent past the timeout). */
  readonly unavailable: (res: ServerResponse) => void;
}

/** Sends `body` with `headers` (end to end, whole) to the next hop, and its answer back to `res`. */
export function forwardToPool(
  req: IncomingMessage,
  res: ServerResponse,
  headers: IncomingHttpHeaders,
  body: Buffer,
  hop: PoolHop,
): void {
  const forwarded = request(
    { ...hop.to, method: req.method, path: req.url, headers: { ...headers, "content-length": String(body.length) } },
    (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, hop.answerHeaders(upstream.headers));
      upstream.pipe(res);
      upstream.on("error", () => res.destroy());
    },
  );
  forwarded.setTimeout(hop.timeoutMs, () => forwarded.destroy(new Error("timeout")));
  forwarded.on("error", () => {
    if (res.headersSent) return void res.destroy();
    hop.unavailable(res);
  });
  forwarded.end(body);
}

/** A whole answer of the next hop, read into memory (Cognito's answers are small JSON documents). */
export interface PoolAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The most of an answer callPool reads: Cognito's are a few kilobytes. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Sends one request to the next hop and reads its whole answer; undefined when the hop fails or is silent. */
export function callPool(
  to: PoolHop["to"],
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  timeoutMs: number,
): Promise<PoolAnswer | undefined> {
  return new Promise((resolve) => {
    const forwarded = request(
      { ...to, method, path, headers: { ...headers, "content-length": String(body.length) } },
      (upstream) => {
        const chunks: Buffer[] = [];
        let size = 0;
        upstream.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) return void forwarded.destroy();
          chunks.push(c);
        });
        upstream.on("end", () =>
          resolve({ status: upstream.statusCode ?? 502, headers: upstream.headers, body: Buffer.concat(chunks) }),
        );
        upstream.on("error", () => resolve(undefined));
      },
    );
    forwarded.setTimeout(timeoutMs, () => forwarded.destroy(new Error("timeout")));
    forwarded.on("error", () => resolve(undefined));
    forwarded.end(body);
  });
}
