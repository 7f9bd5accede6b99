// Server plumbing shared by every HTTP program here: the gateway, the guard, the local STS and login endpoint.
import { IncomingMessage, Server, ServerResponse } from "http";

/** Responses not yet finished, per server, so closeServer can mark them `Connection: close`. */
const openResponses = new WeakMap<Server, Set<ServerResponse>>();
/** Lets closeServer tell the clients of requests in flight not to reuse their connection. */
export function trackResponses(server: Server): void {
  const open = new Set<ServerResponse>();
  openResponses.set(server, open);
  server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.once("close", () => open.delete(res));
  });
}

/** How long closeServer lets requests in flight finish before it cuts their connections. */
export const DRAIN_GRACE_MS = 10_000;
const DRAIN_POLL_MS = 50;

/**
 * Graceful stop: stops accepting connections, lets requests in flight finish (at most `graceMs`), then
 * cuts what is left. Idle kept-alive connections close at once and every connection closes after the
 * response it is busy with, so a stop never waits for idle clients and never drops an answered request.
 */
export function closeServer(server: Server, graceMs = DRAIN_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    // A request arriving on a kept-alive connection during the drain is still answered, with `Connection: close`.
    const closeAfterResponse = (_req: IncomingMessage, res: ServerResponse) => void (res.shouldKeepAlive = false);
    server.prependListener("request", closeAfterResponse);
    for (const res of openResponses.get(server) ?? []) if (!res.headersSent) res.shouldKeepAlive = false;
    // Connections become idle as their responses finish; Node only closes the ones idle at close().
    const poll = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(poll);
      clearTimeout(deadline);
      server.off("request", closeAfterResponse);
      resolve();
    });
    server.closeIdleConnections();
  });
}
