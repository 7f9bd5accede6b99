import { IncomingMessage } from "http";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { discardBody, readBody } from "../../common/http-body";
import { ANSWERS } from "../api-responses";
import { PassResult, refuse } from "../answer";

/** How much of a too-large body the gateway reads (and discards) before it cuts the client off. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads the body whole (SigV4's payload hash needs it) up to API Gateway's payload limit. Past it, 413:
 * the client may finish sending so that it reads the answer, then the connection closes; a client that
 * keeps sending far past the limit is cut off.
 *
 * MLflow reads a GET's JSON body as its parameters when the query string is empty (handlers.py,
 * _get_request_message): whoever checks the query would see other parameters than MLflow acts on. No
 * MLflow client sends one, so it is refused, never forwarded.
 */
export async function bodyPass(
  req: IncomingMessage,
  method: string,
  limit: number = API_GATEWAY.maxPayloadBytes,
): Promise<PassResult<Buffer>> {
  const body = await readBody(req, limit);
  if (body === undefined) {
    void discardBody(req, DRAIN_LIMIT_BYTES);
    return {
      stop: { answer: ANSWERS.tooLarge, decision: "deny", reason: "payload-too-large", closeConnection: true },
    };
  }
  if (method === "GET" && body.length > 0) return refuse(ANSWERS.getWithBody, "deny", "get-with-body");
  return { go: body };
}
