import {
  CREDENTIAL_HEADERS,
  CREDENTIAL_OVERWRITE,
  IDENTITY_HEADER_PREFIX,
  IDENTITY_HEADERS,
  IdentityField,
  PRESIGN_QUERY_PARAMETERS,
} from "../authorizer/core/contract";

/**
 * What the guard reads from a request's headers, from Node's `rawHeaders` (every copy, as spelled):
 * the identity the API mapped, or why the request is refused. API Gateway matches header names
 * case-sensitively, so a client's `X-Mlflow-Gate-Groups` can reach the guard beside the mapped one; the
 * guard takes the contract's exact spelling, once, and nothing else. Credentials never go further; a
 * request that carries two of one kind (two tokens, two dates) is refused.
 * Pure.
 */
export type HeaderProblem =
  "identity-header-spelling" | "identity-header-repeated" | "two-credentials" | "method-override" | "workspace-header";

export type IdentityHeaders = Partial<Record<IdentityField, string>>;

export type HeaderResult =
  | { readonly ok: true; readonly identity: IdentityHeaders }
  | { readonly ok: false; readonly problem: HeaderProblem; readonly header: string };

const FIELD_OF_NAME = new Map<string, IdentityField>(
  (Object.entries(IDENTITY_HEADERS) as [IdentityField, string][]).map(([field, name]) => [name, field]),
);
const CREDENTIALS = new Set(Object.values(CREDENTIAL_HEADERS).map((h) => h.toLowerCase()));
/** Headers that ask a server to act on another method than the one authorized. */
const METHOD_OVERRIDES = new Set(["x-http-method-override", "x-http-method", "x-method-override"]);
/** MLflow picks the workspace from this header alone; until teams set it, a client may not. */
const WORKSPACE_HEADER = "x-mlflow-workspace";

export function inspectHeaders(rawHeaders: readonly string[]): HeaderResult {
  const identity: IdentityHeaders = {};
  const credentials = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const lower = name.toLowerCase();
    if (lower.startsWith(IDENTITY_HEADER_PREFIX)) {
      const field = FIELD_OF_NAME.get(name);
      if (field === undefined) return { ok: false, problem: "identity-header-spelling", header: name };
      if (identity[field] !== undefined) return { ok: false, problem: "identity-header-repeated", header: name };
      identity[field] = rawHeaders[i + 1] as string;
    } else if (CREDENTIALS.has(lower)) {
      // The API's '-' over a credential, and one client copy in another spelling beside it, is what a
      // client that writes header names in lower case sends (API Gateway replaces case-sensitively);
      // two credentials in one request are refused.
      const value = rawHeaders[i + 1] as string;
      if (value === CREDENTIAL_OVERWRITE) continue;
      if (credentials.has(lower)) return { ok: false, problem: "two-credentials", header: name };
      credentials.add(lower);
    } else if (METHOD_OVERRIDES.has(lower)) {
      return { ok: false, problem: "method-override", header: name };
    } else if (lower === WORKSPACE_HEADER) {
      return { ok: false, problem: "workspace-header", header: name };
    }
  }
  return { ok: true, identity };
}

/** The first SigV4 query-string (presigned) parameter of a raw query, in any letter case: credentials in a URL. */
export function presignParameterOf(rawQuery: string): string | undefined {
  if (rawQuery === "") return undefined;
  for (const piece of rawQuery.split("&")) {
    const rawName = piece.split("=", 1)[0] ?? "";
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " ")).toLowerCase();
    } catch {
      name = rawName.toLowerCase();
    }
    if (PRESIGN_QUERY_PARAMETERS.includes(name)) return rawName;
  }
  return undefined;
}

/** Whether a header (lower-case name) may go on to MLflow: identity and credentials stop at the guard. */
export function isGuardOnlyHeader(lowerName: string): boolean {
  return lowerName.startsWith(IDENTITY_HEADER_PREFIX) || CREDENTIALS.has(lowerName);
}

/**
 * Whether a header (lower-case name) says where a request came from: `Forwarded`, `X-Real-IP` and every
 * `X-Forwarded-*`. None of a client's goes on to MLflow (uvicorn believes X-Forwarded-For from loopback,
 * which is where the guard connects from); the guard sets X-Forwarded-For itself.
 */
export function isClientAddressHeader(lowerName: string): boolean {
  return lowerName === "forwarded" || lowerName === "x-real-ip" || lowerName.startsWith("x-forwarded-");
}

/** The cookies MLflow's UI turns into request headers (`mlflow-request-header-<Header>`), in any letter case. */
const REQUEST_HEADER_COOKIE = "mlflow-request-header-";

/**
 * A Cookie header without the cookies MLflow's UI turns into request headers; undefined when none is left.
 * MLflow 3.17's server reads no cookie (only its browser code copies these into headers, which the guard
 * then sees and checks), so this is defence in depth: no cookie can ever name MLflow's workspace or
 * credentials behind the guard's back, should a later MLflow read them on the server.
 */
export function stripRequestHeaderCookies(value: string): string | undefined {
  const kept = value
    .split(";")
    .map((c) => c.trim())
    .filter((c) => c !== "" && !c.toLowerCase().startsWith(REQUEST_HEADER_COOKIE));
  return kept.length === 0 ? undefined : kept.join("; ");
}
