// Hop-by-hop headers: the one list the gateway and the login pass-through forward by.

/** Headers that describe one connection (RFC 9110 §7.6.1): a proxy never passes them on, either way. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * What a proxy that re-sends a request with its whole body drops from the client's headers: the
 * hop-by-hop ones, credentials meant for a proxy (the proxy is this hop), and the framing it sets
 * itself (host, content-length, expect).
 */
export const HOP_BY_HOP_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP_HEADERS,
  "proxy-authorization",
  "proxy-authenticate",
  "host",
  "content-length",
  "expect",
]);

/** The header names a Connection header lists, lower-cased: hop-by-hop for this message too. */
export function connectionTokens(connection: string | string[] | undefined): ReadonlySet<string> {
  return new Set(
    String(connection ?? "")
      .toLowerCase()
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
  );
}

/** Whether a proxy that re-sends the request whole drops this (lower-case) request header. */
export function isHopByHopRequestHeader(name: string, tokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP_REQUEST_HEADERS.has(name) || tokens.has(name);
}
