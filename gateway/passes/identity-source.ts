import { IncomingMessage } from "http";
import type { AuthType } from "../../authorizer/core/catalog";
import { AUTHORIZER_IDENTITY_SOURCES } from "../../authorizer/core/contract";
import { IdentitySource, parseIdentitySources } from "../api-model";
import { ANSWERS } from "../api-responses";
import { refuse, Refusal } from "../answer";
import { sourceIpOf } from "../integration-request";
import { hasSigV4Credentials } from "../sigv4";
import { Target } from "./target";

/** The identity sources of the deployed authorizer (the contract's), for a caller that names none. */
export const CONTRACT_IDENTITY_SOURCES: readonly IdentitySource[] = parseIdentitySources(
  AUTHORIZER_IDENTITY_SOURCES.join(", "),
);

/** What a request's identity sources are read from: its head, its target, the resource its method is on. */
export interface IdentitySourceRequest {
  readonly req: Pick<IncomingMessage, "method" | "rawHeaders"> & {
    readonly socket?: { readonly remoteAddress?: string | undefined };
  };
  readonly target: Pick<Target, "path" | "rawQuery">;
  /** The matched resource's template (`/ajax-api/2.0/mlflow/runs/{proxy+}`), the event's `resource`. */
  readonly resourcePath: string;
}

/**
 * One identity source's value: a header's first value (its name in any case; the first of two Authorization
 * headers, as Node keeps it), a query parameter's last (as the event's `queryStringParameters` has it), no stage
 * variable (the local stage has none), a context variable's value (the request's own verb, under ANY too).
 */
function valueOf(source: IdentitySource, { req, target, resourcePath }: IdentitySourceRequest): string | undefined {
  switch (source.kind) {
    case "header": {
      const name = source.name.toLowerCase();
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        if ((req.rawHeaders[i] as string).toLowerCase() === name) return req.rawHeaders[i + 1];
      return undefined;
    }
    case "querystring":
      return new URLSearchParams(target.rawQuery).getAll(source.name).at(-1);
    case "stageVariable":
      return undefined;
    case "context":
      switch (source.variable) {
        case "httpMethod":
          return req.method;
        case "resourcePath":
          return resourcePath;
        case "path":
          return target.path;
        case "identity.sourceIp":
          return sourceIpOf(req.socket ?? {});
      }
  }
}

/**
 * The values of a request's identity sources in the authorizer's order, or undefined when one of them is missing
 * or empty: API Gateway then answers 401 without calling the authorizer.
 */
export function identitySourceValues(
  sources: readonly IdentitySource[],
  request: IdentitySourceRequest,
): string[] | undefined {
  const values: string[] = [];
  for (const source of sources) {
    const value = valueOf(source, request);
    if (value === undefined || value === "") return undefined;
    values.push(value);
  }
  return values;
}

/**
 * A Cognito route's identity sources read: their values, or 401 Unauthorized when one of them has none (API
 * Gateway never calls the authorizer then).
 */
export function readIdentitySources(
  sources: readonly IdentitySource[],
  request: IdentitySourceRequest,
): { go: string[] } | { stop: Refusal } {
  const values = identitySourceValues(sources, request);
  return values ? { go: values } : refuse(ANSWERS.unauthorized, "unauthorized", "no-token");
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
  request: IdentitySourceRequest & { readonly target: Pick<Target, "rawQuery"> },
  surface: AuthType,
  identitySources: readonly IdentitySource[] = CONTRACT_IDENTITY_SOURCES,
): { stop: Refusal } | undefined {
  if (surface === "iam") return missingSignature(request.req, request.target);
  if (surface === "cognito") {
    const read = readIdentitySources(identitySources, request);
    return "stop" in read ? read : undefined;
  }
  return undefined;
}
