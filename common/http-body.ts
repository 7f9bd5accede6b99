// Request bodies, read whole into memory and bounded: the gateway, the local STS and the login endpoint.
import { IncomingMessage } from "http";

/**
 * Where the bytes a body holds are counted (a budget for all requests at once): asked for a declared
 * length once, before reading, or for each chunk of a body without one; false when they do not fit.
 */
export type HoldBytes = (bytes: number) => boolean;

/**
 * Reads a request's body up to `limit` bytes. Resolves undefined as soon as the body is known to be
 * longer (its declared length, or the bytes counted so far), or as soon as `hold` refuses its bytes:
 * reading then stops, the request is paused, and the rest is the caller's to discard (discardBody) or
 * to cut off (an answer with `Connection: close`). Rejects when the request fails.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  hold?: HoldBytes,
  /** Hold a declared length at once (the default), or only the bytes as they arrive. */
  holdAs: "declared" | "arrived" = "declared",
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    const upFront = hold !== undefined && holdAs === "declared" && declared > 0;
    if (declared > limit || (upFront && !hold(declared))) {
      req.pause();
      return resolve(undefined);
    }
    // A declared length was held whole (the parser delivers no more than it); otherwise bytes are held as they come.
    const holdChunks = hold !== undefined && !upFront ? hold : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit || (holdChunks !== undefined && !holdChunks(chunk.length))) {
        stop();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      stop();
      reject(e);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/**
 * Reads and drops what is left of a request's body, so that its client gets to read the answer.
 * Past `maxBytes` more, the request is destroyed: a client that keeps sending is cut off. Resolves
 * when the body has ended or the request is gone.
 */
export function discardBody(req: IncomingMessage, maxBytes = Infinity): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) return resolve();
    let discarded = 0;
    req.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > maxBytes) req.destroy();
    });
    req.once("end", () => resolve());
    req.once("close", () => resolve());
    // A failure here only ends the discarding; whoever answers has nothing more to read.
    req.once("error", () => resolve());
    req.resume();
  });
}
