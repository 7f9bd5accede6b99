import { IncomingMessage } from "http";
import type { AuthType } from "../../authorizer/core/catalog";
import { ANSWERS } from "../api-responses";
import { refuse, Refusal } from "../answer";
import { hasSigV4Credentials } from "../sigv4";
import { Target } from "./target";

/** The identity source of the definition's authorizer (`method.request.header.Authorization`): its header. */
export const AUTHORIZATION_IDENTITY = "Authorization";

/**
 * A Cognito route's identity source is a header (the Authorization header): without it (or empty), API
 * Gateway answers 401 and never calls the authorizer.
 */
export function missingToken(
  req: Pick<IncomingMessage, "headers">,
  identityHeader: string = AUTHORIZATION_IDENTITY,
): { stop: Refusal } | undefined {
  const value = req.headers[identityHeader.toLowerCase()];
  return value === undefined || value === "" ? refuse(ANSWERS.unauthorized, "unauthorized", "no-token") : undefined;
}

/** An IAM route's request with neither an Authorization header nor a presigned query: Missing Authentication Token. */
export function missingSignature(
  req: Pick<IncomingMessage, "rawHeaders">,
  target: Pick<Target, "rawQuery">,
): { stop: Refusal } | undefined {
  return hasSigV4Credentials({ rawHeaders: req.rawHeaders, rawQuery: target.rawQuery })
    ? undefined
    : refuse(ANSWERS.missingToken, "deny", "no-signature");
}

/**
 * Before the body: a request without the credentials its route needs gets API Gateway's answer at once,
 * and its body is never read (nor held), since nothing would ever use it. A request that carries them goes
 * on to the body (SigV4 hashes it) and to its authorization.
 */
export function identitySourcePass(
  req: Pick<IncomingMessage, "headers" | "rawHeaders">,
  target: Pick<Target, "rawQuery">,
  surface: AuthType,
  identityHeader: string = AUTHORIZATION_IDENTITY,
): { stop: Refusal } | undefined {
  if (surface === "iam") return missingSignature(req, target);
  if (surface === "cognito") return missingToken(req, identityHeader);
  return undefined;
}
