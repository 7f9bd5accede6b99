import { IncomingMessage } from "http";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { createByteBudget } from "../../common/byte-budget";
import { discardBody, readBody } from "../../common/http-body";
import { ANSWERS } from "../api-responses";
import { PassResult, Refusal } from "../answer";

/** How much of a too-large body the gateway reads (and discards) before it cuts the client off. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * What the request bodies held at once may add up to: 25 bodies at API Gateway's payload limit, as much
 * as the answers held at once (MAX_HELD_BYTES, passes/forward.ts). A limit of this host, not of AWS.
 */
export const MAX_HELD_BODY_BYTES = 256 * 1024 * 1024;

export interface BodyPassProps {
  /** What the bodies held at once may add up to; @default MAX_HELD_BODY_BYTES */
  readonly maxHeldBodyBytes?: number;
  /** @default API_GATEWAY.maxPayloadBytes */
  readonly limit?: number;
}

/** What ends a request for the budget: its response's `close` (answered, failed, or the client gone). */
export interface RequestEnd {
  once(event: "close", listener: () => void): unknown;
}

/** The body pass of one gateway, and what its bodies hold now. */
export interface BodyPass {
  /**
   * Reads `req`'s body; what it holds counts until `res` closes. `holdAs`: a declared length is held at once
   * (an authorized caller's), or only the bytes that arrived (anyone's, on a public route).
   */
  read(req: IncomingMessage, res: RequestEnd, holdAs?: "declared" | "arrived"): Promise<PassResult<Buffer>>;
  /** Bytes held for request bodies now, across all requests: declared lengths, and chunked bodies as read. */
  heldBytes(): number;
}

const stopReading = (answer: Refusal["answer"], reason: string): { stop: Refusal } => ({
  stop: { answer, decision: "deny", reason, closeConnection: true },
});

/**
 * Reads the body whole (SigV4's payload hash needs it) up to API Gateway's payload limit. Past it, 413:
 * the client may finish sending so that it reads the answer, then the connection closes; a client that
 * keeps sending far past the limit is cut off. A GET with a body goes on, as API Gateway sends it on;
 * the guard refuses it (MLflow would read the body as the GET's parameters).
 *
 * The bodies of all requests together are held within a budget, so that slow clients cannot fill this
 * host's memory: a body reserves its declared length before it is read, or grows its share as a chunked
 * body arrives, and gives it back when its request ends, however it ends. A body that does not fit gets
 * 429 Too Many Requests, API Gateway's answer to load it will not take (docs/api-gateway-fidelity.md).
 */
export function createBodyPass(props: BodyPassProps = {}): BodyPass {
  const budget = createByteBudget(props.maxHeldBodyBytes ?? MAX_HELD_BODY_BYTES);
  const limit = props.limit ?? API_GATEWAY.maxPayloadBytes;

  async function read(
    req: IncomingMessage,
    res: RequestEnd,
    holdAs: "declared" | "arrived" = "declared",
  ): Promise<PassResult<Buffer>> {
    // One reservation for a declared length, one per chunk of a chunked body; all given back at the end.
    const releases: (() => void)[] = [];
    let ended = false;
    let overBudget = false;
    const release = () => {
      ended = true;
      for (const r of releases.splice(0)) r();
    };
    const hold = (bytes: number): boolean => {
      if (ended) return false;
      const r = budget.tryReserve(bytes);
      if (r === undefined) {
        overBudget = true;
        return false;
      }
      releases.push(r);
      return true;
    };
    res.once("close", release);
    let body: Buffer | undefined;
    try {
      body = await readBody(req, limit, hold, holdAs);
    } catch (e) {
      release();
      throw e;
    }
    if (body !== undefined) return { go: body };
    release();
    void discardBody(req, DRAIN_LIMIT_BYTES);
    return overBudget
      ? stopReading(ANSWERS.tooManyRequests, "body-budget")
      : stopReading(ANSWERS.tooLarge, "payload-too-large");
  }

  return { read, heldBytes: () => budget.reserved };
}
