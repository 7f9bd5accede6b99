// Who may call the local user pool, and how: the rules of its front (local/user-pool-front.ts) and of the
// sign-in page's pass-through (local/ui-login-endpoint.ts). Pure: the shells read the request, these decide.

/** The prefix of every `X-Amz-Target` of Cognito's user pool API. */
export const POOL_TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

/** Cognito's requests are small JSON documents; a sign-in body is well under a kilobyte. */
export const MAX_POOL_REQUEST_BYTES = 64 * 1024;

/**
 * What the local stack's clients call without AWS credentials, as Cognito allows for these: sign-in (the
 * UI, the plugin's bearer mode, the README's curl), its challenge, and sign-out. Cognito answers more
 * actions unsigned (SignUp, ForgotPassword, ...); this pool allows no self sign-up and needs none of them.
 */
export const UNSIGNED_POOL_ACTIONS: ReadonlySet<string> = new Set([
  "InitiateAuth",
  "RespondToAuthChallenge",
  "RevokeToken",
  "GlobalSignOut",
]);

/**
 * What the sign-in page's pass-through forwards: the unsigned actions, and GetTokensFromRefreshToken,
 * which Amplify v6 refreshes with and the pass-through turns into InitiateAuth(REFRESH_TOKEN_AUTH).
 */
export const SHELL_ACTIONS: ReadonlySet<string> = new Set([...UNSIGNED_POOL_ACTIONS, "GetTokensFromRefreshToken"]);

/** The action an `X-Amz-Target` names; undefined when it is missing, repeated or not Cognito's. */
export function poolActionOf(target: string | readonly string[] | undefined): string | undefined {
  if (typeof target !== "string" || !target.startsWith(POOL_TARGET_PREFIX)) return undefined;
  const action = target.slice(POOL_TARGET_PREFIX.length);
  return /^[A-Za-z]{1,64}$/.test(action) ? action : undefined;
}

/** The names a browser uses for a loopback listener on `host:port`: the origins of the local gateway's pages. */
export function loopbackOrigins(host: string, port: number): ReadonlySet<string> {
  // Browsers and HTTP clients send host names in lower case.
  const name = host.toLowerCase();
  const names = name === "localhost" || name === "127.0.0.1" ? ["127.0.0.1", "localhost"] : [name];
  return new Set(names.map((name) => `http://${name}:${port}`));
}

/** The `Host` values a loopback listener on `host:port` answers to; any other is a rebound DNS name. */
export function loopbackHosts(host: string, port: number): ReadonlySet<string> {
  return new Set([...loopbackOrigins(host, port)].map((origin) => origin.slice("http://".length)));
}

/** A refusal in Cognito's shape: the `__type` the SDKs turn into an exception, and a message saying why. */
export interface PoolRefusal {
  readonly status: number;
  readonly type: string;
  readonly message: string;
  /** For the log line: never a secret. */
  readonly reason: string;
}

/** What the front does with a request: forward it (signed or not), or refuse it. */
export type FrontDecision =
  | { readonly forward: true; readonly needsSignature: boolean }
  | { readonly forward: false; readonly refusal: PoolRefusal };

export interface FrontRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  /** The query, without "?"; "" when none. */
  readonly query: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly target: string | readonly string[] | undefined;
}

/** The pool's public documents: its health, and each pool's keys and OpenID configuration. */
const PUBLIC_DOCUMENT = /^\/(health|[\w-]{1,55}_[0-9a-zA-Z]{1,64}\/\.well-known\/(jwks\.json|openid-configuration))$/;

const refuse = (status: number, type: string, reason: string, message: string): FrontDecision => ({
  forward: false,
  refusal: { status, type, reason, message },
});

/**
 * The front's rules, in order:
 * - the `Host` must be the front's own loopback address: a page on another name that DNS rebinds to
 *   127.0.0.1 is refused;
 * - no browser: a request carrying `Origin` is refused (the sign-in page goes through its pass-through,
 *   which sends none), and so is its preflight; no answer carries CORS headers;
 * - `GET` only for the public documents;
 * - `POST /`, without a query: the unsigned actions as they are; every other action, the administrator's
 *   ones above all, must be signed with SigV4 in its Authorization header by the stack's pool key (written
 *   to stack.json, 0600), as Cognito wants them signed with IAM credentials.
 */
export function decideFrontRequest(req: FrontRequest, hosts: ReadonlySet<string>): FrontDecision {
  if (req.host === undefined || !hosts.has(req.host.toLowerCase()))
    return refuse(
      403,
      "AccessDeniedException",
      "host",
      "This is the local user pool: call it by its loopback address.",
    );
  if (req.origin !== undefined)
    return refuse(
      403,
      "AccessDeniedException",
      "browser-origin",
      "The local user pool answers no web page: the sign-in page uses its login endpoint.",
    );
  if (req.method === "GET" || req.method === "HEAD") {
    if (PUBLIC_DOCUMENT.test(req.path)) return { forward: true, needsSignature: false };
    return refuse(404, "ResourceNotFoundException", "not-public", "Not a public document of the local user pool.");
  }
  if (req.method !== "POST" || req.path !== "/")
    return refuse(405, "UnsupportedOperation", "method", "The local user pool takes POST / and GET of its keys.");
  // Cognito's actions take no query; a presigned SigV4 signature would ride in one, valid for days.
  if (req.query !== "")
    return refuse(400, "InvalidParameterException", "query", "The local user pool's actions take no query string.");
  const action = poolActionOf(req.target);
  if (action === undefined)
    return refuse(400, "UnknownOperationException", "target", "X-Amz-Target must name one Cognito user pool action.");
  return { forward: true, needsSignature: !UNSIGNED_POOL_ACTIONS.has(action) };
}

/** What the pass-through does with a request of the sign-in page. */
export type ShellDecision =
  | { readonly kind: "preflight"; readonly origin: string }
  | { readonly kind: "forward"; readonly action: string; readonly origin: string | undefined }
  | { readonly kind: "refuse"; readonly refusal: PoolRefusal; readonly origin: string | undefined };

export interface ShellRequest {
  readonly method: string;
  readonly origin: string | undefined;
  readonly target: string | readonly string[] | undefined;
}

/**
 * The pass-through's rules: CORS only for the gateway's own pages (another origin gets no CORS headers,
 * so its page cannot read even the refusal), and only the actions the sign-in page uses.
 */
export function decideShellRequest(req: ShellRequest, gatewayOrigins: ReadonlySet<string>): ShellDecision {
  if (req.origin !== undefined && !gatewayOrigins.has(req.origin))
    return {
      kind: "refuse",
      origin: undefined,
      refusal: {
        status: 403,
        type: "AccessDeniedException",
        reason: "foreign-origin",
        message: "The login endpoint serves the gateway's own pages only.",
      },
    };
  const origin = req.origin;
  if (req.method === "OPTIONS" && origin !== undefined) return { kind: "preflight", origin };
  if (req.method !== "POST")
    return {
      kind: "refuse",
      origin,
      refusal: {
        status: 405,
        type: "UnsupportedOperation",
        reason: "method",
        message: "The login endpoint takes POST.",
      },
    };
  const action = poolActionOf(req.target);
  if (action === undefined || !SHELL_ACTIONS.has(action))
    return {
      kind: "refuse",
      origin,
      refusal: {
        status: 400,
        type: "NotAuthorizedException",
        reason: "action",
        message: `The login endpoint forwards only ${[...SHELL_ACTIONS].join(", ")}.`,
      },
    };
  return { kind: "forward", action, origin };
}
