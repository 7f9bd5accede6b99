import { IncomingMessage } from "http";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { discardBody, readBody } from "../../common/http-body";
import { ANSWERS } from "../api-responses";
import { PassResult } from "../answer";

/** How much of a too-large body the gateway reads (and discards) before it cuts the client off. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads the body whole (SigV4's payload hash needs it) up to API Gateway's payload limit. Past it, 413:
 * the client may finish sending so that it reads the answer, then the connection closes; a client that
 * keeps sending far past the limit is cut off. A GET with a body goes on, as API Gateway sends it on;
 * the guard refuses it (MLflow would read the body as the GET's parameters).
 */
export async function bodyPass(
  req: IncomingMessage,
  limit: number = API_GATEWAY.maxPayloadBytes,
): Promise<PassResult<Buffer>> {
  const body = await readBody(req, limit);
  if (body === undefined) {
    void discardBody(req, DRAIN_LIMIT_BYTES);
    return {
      stop: { answer: ANSWERS.tooLarge, decision: "deny", reason: "payload-too-large", closeConnection: true },
    };
  }
  return { go: body };
}
