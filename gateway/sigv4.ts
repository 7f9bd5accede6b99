import { createHash, createHmac, timingSafeEqual } from "crypto";

/**
 * Verifies AWS Signature Version 4 (header form) the way API Gateway's AWS_IAM authorization does
 * for `execute-api`, so that the local gateway accepts what the real one accepts from real signers
 * (botocore, @smithy/signature-v4, requests-auth-aws-sigv4) and nothing else. Pure: no I/O, the
 * clock is injected.
 *
 * Canonical request (non-S3 rules; checked against botocore, smithy and AWS's SigV4 test suite):
 * - method as received;
 * - URI: the raw path's `.`, `..` and empty segments removed (a trailing `/` kept), then every
 *   segment percent-encoded again ("double encoding": `%20` becomes `%2520`), as botocore and smithy
 *   do for every service but S3;
 * - query: the raw query split on `&` (empty pieces dropped), each piece split on its first `=`
 *   (`flag` reads as `flag=`), key and value percent-decoded to bytes with `+` read as a space, then
 *   re-encoded (RFC 3986 unreserved bytes kept, all others `%XX` upper case) and sorted by key, then
 *   value; repeated keys are kept. `+` is a space (never `%2B`) because botocore needs it: given
 *   `params`, it sends a space as `+` (urlencode) but signs `%20`. Envoy's AWS signer (maintained
 *   by AWS) reads a raw `+` the same way, and so do Flask and Starlette behind the gateway, so
 *   the signature covers what MLflow will read;
 * - headers: the names in SignedHeaders, lower case; each value trimmed with runs of spaces and
 *   tabs collapsed; repeated headers joined with `,` in the order received (AWS test suite
 *   `get-header-key-duplicate`);
 * - payload: the SHA-256 of the body actually received, never the client's claim.
 *
 * Stricter than the spec, and met by every real signer (each says why below): SignedHeaders must be
 * lower case and sorted, must include `host` and the date header, and must cover every `x-amz-*`
 * header of the request; `x-amz-content-sha256`, when sent, must be the body's SHA-256; a path or
 * query that is not printable ASCII or holds a bad `%` escape is refused rather than guessed at.
 *
 * The query-string (presigned) form is accepted too, as AWS accepts it: `X-Amz-Algorithm`,
 * `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires` (at most 7 days), `X-Amz-SignedHeaders`,
 * `X-Amz-Signature` and, for temporary credentials, `X-Amz-Security-Token` in the query; the
 * canonical query is every parameter but the signature; the payload is the body's SHA-256 (smithy's
 * `presign`). The credentials then travel in the URL: the guard refuses such requests before MLflow
 * could log them, in both places.
 */

export interface SigV4Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Who the key belongs to (the local principal's name): what decides the rights. */
  readonly principal: string;
  /** Who is calling, as AWS names it (`context.identity.userArn`): a user's ARN, or a session's `assumed-role` ARN. */
  readonly arn: string;
  /** Temporary credentials only: requests must carry this exact `x-amz-security-token`, signed. */
  readonly sessionToken?: string;
  /** Temporary credentials only: requests after this instant are refused. */
  readonly expiresAt?: Date;
}

export interface CredentialStore {
  find(accessKeyId: string): SigV4Credential | undefined;
}

export interface SignedRequest {
  /** As received. */
  readonly method: string;
  /** The request target's path exactly as sent (percent-encoding kept), no query. */
  readonly rawPath: string;
  /** Exactly as sent, without "?"; "" when none. */
  readonly rawQuery: string;
  /** Node's req.rawHeaders (name, value, name, value, ...): duplicates kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface SigV4Options {
  /** The region the gateway stands for; the credential scope must name it. */
  readonly region: string;
  /** @default "execute-api" */
  readonly service?: string;
  readonly now: () => Date;
  /** How far x-amz-date may be from now(), either way. @default 5 minutes */
  readonly maxSkewMs?: number;
}

/** Why a request was refused: a short code for logs. */
export type SigV4Problem =
  | "missing-authorization"
  | "malformed-authorization"
  | "missing-date"
  | "malformed-date"
  | "missing-signed-header"
  | "unsigned-header"
  | "wrong-service"
  | "wrong-region"
  | "scope-date-mismatch"
  | "skew"
  | "unsigned-payload"
  | "payload-hash"
  | "unknown-key"
  | "expired-credentials"
  | "token-mismatch"
  | "malformed-request"
  | "bad-signature";

export type SigV4Result =
  | { readonly ok: true; readonly principal: string; readonly arn: string; readonly accessKeyId: string }
  | { readonly ok: false; readonly status: 403; readonly message: string; readonly reason: SigV4Problem };

/** API Gateway's own wording where it has one; never a secret, token or signature. */
export const SIGV4_MESSAGES = {
  missingToken: "Missing Authentication Token",
  invalidToken: "The security token included in the request is invalid.",
  expiredToken: "The security token included in the request is expired",
  badSignature:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  missingDate: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  hostNotSigned: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  payloadHash: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  unsignedPayload:
    "The provided 'x-amz-content-sha256' header must be the SHA-256 of the payload: UNSIGNED-PAYLOAD and streaming payloads are not accepted here.",
  twoMechanisms:
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
  requestExpired: "Request has expired",
  malformedRequest:
    "The request path or query string cannot be canonicalized: it must be printable ASCII with valid percent-encoding.",
} as const;

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const DEFAULT_SERVICE = "execute-api";
const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;
const AUTH_PARAMETERS = ["Credential", "SignedHeaders", "Signature"] as const;
/** Query parameters of the presigned form; their presence means the client meant query-string auth. */
const PRESIGN_PARAMETERS = new Set(["x-amz-algorithm", "x-amz-credential", "x-amz-signature"]);
const QUERY_AUTH_PARAMETERS = [
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
] as const;
/** SigV4's longest presigned validity: 7 days. */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const UNSIGNED_PAYLOADS = /^(UNSIGNED-PAYLOAD|STREAMING-.*)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;
const SCOPE_NAME = /^[A-Za-z0-9-]{1,64}$/;
const SCOPE_DATE = /^\d{8}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|[+-]0000)$/;
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Thrown inside this module only, to leave the checks at the first failure; never escapes. */
class Rejection {
  readonly result: Extract<SigV4Result, { ok: false }>;
  constructor(reason: SigV4Problem, message: string) {
    this.result = { ok: false, status: 403, message, reason };
  }
}

function reject(reason: SigV4Problem, message: string): never {
  throw new Rejection(reason, message);
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: Buffer;
}

/**
 * Whether a request carries SigV4 credentials to verify at all: an Authorization header, or the presigned
 * form's parameters in the query. Without either, API Gateway answers Missing Authentication Token, which
 * needs no body (the gateway answers it before reading one).
 */
export function hasSigV4Credentials(req: Pick<SignedRequest, "rawHeaders" | "rawQuery">): boolean {
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if ((req.rawHeaders[i] as string).toLowerCase() === "authorization") return true;
  return hasPresignParameters(req.rawQuery);
}

/**
 * Verifies a request signed with SigV4 in the Authorization header. Never throws on bad input:
 * every refusal is `ok: false` with API Gateway's message and a reason code.
 */
export function verifySigV4(req: SignedRequest, store: CredentialStore, options: SigV4Options): SigV4Result {
  try {
    return verify(req, store, options);
  } catch (e) {
    if (e instanceof Rejection) return e.result;
    throw e;
  }
}

/** What the checks that need no body found: the request's headers, its signature's source, the key's owner. */
interface Prechecked {
  readonly headers: ReadonlyMap<string, string[]>;
  readonly source: SignatureSource;
  readonly credential: SigV4Credential;
}

/**
 * Every check that needs no body: the signature's form, its signed headers, service, region, dates and skew,
 * the key and its session. So a request that cannot verify is refused before its body is read.
 */
function precheck(req: Omit<SignedRequest, "body">, store: CredentialStore, options: SigV4Options): Prechecked {
  const service = options.service ?? DEFAULT_SERVICE;
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const headers = indexHeaders(req.rawHeaders);

  if (!hasSigV4Credentials(req)) return reject("missing-authorization", SIGV4_MESSAGES.missingToken);
  const authorization = headers.get("authorization");
  const presigned = hasPresignParameters(req.rawQuery);
  if (presigned && authorization !== undefined) reject("malformed-authorization", SIGV4_MESSAGES.twoMechanisms);
  const now = options.now();
  const source = presigned
    ? readQueryAuthorization(req.rawQuery)
    : readHeaderAuthorization(authorization!, headers, req.rawQuery);
  const { auth, requestDate, amzDate } = source;
  const signed = new Set(auth.signedHeaders);
  if (!signed.has("host")) reject("missing-signed-header", SIGV4_MESSAGES.hostNotSigned);
  if (source.dateHeader !== undefined && !signed.has(source.dateHeader))
    reject("missing-signed-header", `'${source.dateHeader}' must be a 'SignedHeader' in the AWS Authorization.`);

  if (auth.service !== service)
    reject("wrong-service", `Credential should be scoped to correct service: '${service}'.`);
  if (auth.region !== options.region)
    reject("wrong-region", `Credential should be scoped to a valid region, not '${auth.region}'.`);
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    reject(
      "scope-date-mismatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  checkSkew(requestDate, amzDate, now, maxSkewMs, source.expiresSeconds);

  // Stricter than SigV4 (which lets some services take an unsigned x-amz-security-token) and as
  // strict as S3: no x-amz-* header can be added or changed in transit. botocore, smithy and
  // requests-auth-aws-sigv4 all sign every x-amz-* header they send.
  for (const name of headers.keys()) {
    if (name.startsWith("x-amz-") && !signed.has(name))
      reject("unsigned-header", `'${name}' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  for (const name of auth.signedHeaders) {
    if (!headers.has(name)) reject("missing-signed-header", `The signed header '${name}' is not in the request.`);
  }

  const credential = store.find(auth.accessKeyId);
  if (credential === undefined) return reject("unknown-key", SIGV4_MESSAGES.invalidToken);
  // Written so that an invalid Date (NaN) counts as expired.
  if (credential.expiresAt !== undefined && !(credential.expiresAt.getTime() >= now.getTime())) {
    reject("expired-credentials", SIGV4_MESSAGES.expiredToken);
  }
  checkSessionToken(source.sessionToken ?? headers.get("x-amz-security-token"), credential.sessionToken);
  return { headers, source, credential };
}

/**
 * The checks of verifySigV4 that need no body (precheck): a request they refuse gets the same answer it
 * would get once its body was read, so a gateway can answer it without reading the body.
 */
export function precheckSigV4(
  req: Omit<SignedRequest, "body">,
  store: CredentialStore,
  options: SigV4Options,
): SigV4Result {
  try {
    const { credential } = precheck(req, store, options);
    return { ok: true, principal: credential.principal, arn: credential.arn, accessKeyId: credential.accessKeyId };
  } catch (e) {
    if (e instanceof Rejection) return e.result;
    throw e;
  }
}

function verify(req: SignedRequest, store: CredentialStore, options: SigV4Options): SigV4Result {
  const { headers, source, credential } = precheck(req, store, options);
  const { auth, amzDate } = source;
  const payloadHash = sha256Hex(req.body);
  checkPayloadHeader(headers.get("x-amz-content-sha256"), payloadHash);

  const canonicalUri = buildCanonicalUri(req.rawPath);
  const canonicalQuery = buildCanonicalQuery(source.signedQuery);
  if (canonicalUri === undefined || canonicalQuery === undefined)
    return reject("malformed-request", SIGV4_MESSAGES.malformedRequest);
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    ...auth.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers.get(name) ?? [])}`),
    "",
    auth.signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/${TERMINATOR}`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = deriveSigningKey(credential.secretAccessKey, auth.scopeDate, auth.region, auth.service);
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  if (!timingSafeEqual(expected, auth.signature)) return reject("bad-signature", SIGV4_MESSAGES.badSignature);
  return {
    ok: true,
    principal: credential.principal,
    arn: credential.arn,
    accessKeyId: credential.accessKeyId,
  };
}

/** Where a request's signature came from, read into what the checks need. */
interface SignatureSource {
  readonly auth: ParsedAuthorization;
  readonly requestDate: Date;
  readonly amzDate: string;
  /** The header form's date header, which must be signed. */
  readonly dateHeader?: "x-amz-date" | "date";
  /** The query form's validity after its date. */
  readonly expiresSeconds?: number;
  /** The query form's session token. */
  readonly sessionToken?: readonly string[];
  /** The raw query the signature covers (the query form's, without X-Amz-Signature). */
  readonly signedQuery: string;
}

function readHeaderAuthorization(
  authorization: readonly string[],
  headers: ReadonlyMap<string, string[]>,
  rawQuery: string,
): SignatureSource {
  if (authorization.length > 1) reject("malformed-authorization", "Only one Authorization header may be sent.");
  const auth = parseAuthorization(authorization[0] as string);
  const { requestDate, amzDate, dateHeader } = readRequestDate(headers);
  return { auth, requestDate, amzDate, dateHeader, signedQuery: rawQuery };
}

/** The presigned form's parameters (names as AWS spells them, each once), read from the raw query. */
function readQueryAuthorization(rawQuery: string): SignatureSource {
  const params = new Map<string, string>();
  const kept: string[] = [];
  let token: string[] | undefined;
  for (const piece of rawQuery.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const name = decodeQueryComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = decodeQueryComponent(eq < 0 ? "" : piece.slice(eq + 1));
    if ((QUERY_AUTH_PARAMETERS as readonly string[]).includes(name) || name === "X-Amz-Security-Token") {
      if (params.has(name) || (name === "X-Amz-Security-Token" && token !== undefined)) {
        reject("malformed-authorization", `The query has '${name}' twice.`);
      }
      if (name === "X-Amz-Security-Token") token = [value];
      else params.set(name, value);
    }
    if (name !== "X-Amz-Signature") kept.push(piece);
  }
  const missing = QUERY_AUTH_PARAMETERS.filter((name) => !params.has(name));
  if (missing.length > 0) {
    reject(
      "malformed-authorization",
      missing.map((name) => `AWS query-string parameters must include '${name}'.`).join(" "),
    );
  }
  if (params.get("X-Amz-Algorithm") !== ALGORITHM) {
    reject("malformed-authorization", `X-Amz-Algorithm only supports '${ALGORITHM}'.`);
  }
  const auth = parseAuthorizationFields(
    params.get("X-Amz-Credential") as string,
    params.get("X-Amz-SignedHeaders") as string,
    params.get("X-Amz-Signature") as string,
  );
  const amzDate = params.get("X-Amz-Date") as string;
  const requestDate = parseAmzDate(amzDate);
  if (requestDate === undefined) return reject("malformed-date", `X-Amz-Date must be in ISO-8601 'basic format'.`);
  const expires = params.get("X-Amz-Expires") as string;
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_SECONDS)) {
    reject("malformed-authorization", `X-Amz-Expires must be from 1 to ${MAX_PRESIGNED_SECONDS} seconds.`);
  }
  return {
    auth,
    requestDate,
    amzDate,
    expiresSeconds,
    ...(token ? { sessionToken: token } : {}),
    signedQuery: kept.join("&"),
  };
}

/** A query component percent-decoded (`+` as a space); a bad escape is a malformed request. */
function decodeQueryComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return reject("malformed-request", SIGV4_MESSAGES.malformedRequest);
  }
}

/** Header values by lower-case name, in the order received. */
function indexHeaders(rawHeaders: readonly string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const values = headers.get(name);
    if (values) values.push(rawHeaders[i + 1] as string);
    else headers.set(name, [rawHeaders[i + 1] as string]);
  }
  return headers;
}

function hasPresignParameters(rawQuery: string): boolean {
  if (rawQuery === "") return false;
  return rawQuery.split("&").some((piece) => PRESIGN_PARAMETERS.has(piece.split("=", 1)[0]?.toLowerCase() ?? ""));
}

/**
 * `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`: parameters in any order,
 * separated by "," with optional spaces (botocore and smithy write ", ", other signers ",").
 */
function parseAuthorization(value: string): ParsedAuthorization {
  const scheme = /^(\S+)[ \t]+/.exec(value);
  if (scheme?.[1] !== ALGORITHM) {
    return reject(
      "malformed-authorization",
      `Authorization header must use the ${ALGORITHM} algorithm with Credential, SignedHeaders and Signature parameters.`,
    );
  }
  const fields = new Map<string, string>();
  for (const piece of value.slice(scheme[0].length).split(",")) {
    const item = piece.trim();
    const eq = item.indexOf("=");
    if (eq <= 0)
      reject("malformed-authorization", "Invalid key=value pair (missing equal-sign) in Authorization header.");
    const name = item.slice(0, eq);
    if (!(AUTH_PARAMETERS as readonly string[]).includes(name))
      reject("malformed-authorization", "Authorization header has an unknown parameter.");
    if (fields.has(name)) reject("malformed-authorization", `Authorization header has '${name}' twice.`);
    fields.set(name, item.slice(eq + 1));
  }
  const missing = AUTH_PARAMETERS.filter((name) => !fields.has(name));
  if (missing.length > 0)
    reject(
      "malformed-authorization",
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" "),
    );

  return parseAuthorizationFields(
    fields.get("Credential") as string,
    fields.get("SignedHeaders") as string,
    fields.get("Signature") as string,
  );
}

/** Credential, SignedHeaders and Signature, from either form. */
function parseAuthorizationFields(
  credential: string,
  signedHeaderList: string,
  signature: string,
): ParsedAuthorization {
  const [accessKeyId, scopeDate, region, service, terminator, ...extra] = credential.split("/");
  if (
    extra.length > 0 ||
    accessKeyId === undefined ||
    !ACCESS_KEY_ID.test(accessKeyId) ||
    !SCOPE_DATE.test(scopeDate ?? "")
  ) {
    reject("malformed-authorization", "Credential must be <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.");
  }
  if (!SCOPE_NAME.test(region ?? "") || !SCOPE_NAME.test(service ?? ""))
    reject("malformed-authorization", "Credential has an invalid region or service.");
  if (terminator !== TERMINATOR)
    reject("malformed-authorization", `Credential should be scoped with a valid terminator: '${TERMINATOR}'.`);

  const signedHeaders = signedHeaderList.split(";");
  // Every real signer sends them lower case, sorted and unique; anything else is refused rather than re-sorted.
  const wellFormed = signedHeaders.every(
    (name, i) => HEADER_NAME.test(name) && (i === 0 || (signedHeaders[i - 1] as string) < name),
  );
  if (!wellFormed)
    reject("malformed-authorization", "SignedHeaders must be lower-case header names, sorted, separated by ';'.");

  if (!SHA256_HEX.test(signature))
    reject("malformed-authorization", "Signature must be 64 lower-case hexadecimal characters.");
  return {
    accessKeyId: accessKeyId as string,
    scopeDate: scopeDate as string,
    region: region as string,
    service: service as string,
    signedHeaders,
    signature: Buffer.from(signature, "hex"),
  };
}

/** The request's date from x-amz-date (ISO 8601 basic) or else Date (HTTP date), as both forms. */
function readRequestDate(headers: ReadonlyMap<string, string[]>): {
  requestDate: Date;
  amzDate: string;
  dateHeader: "x-amz-date" | "date";
} {
  const amz = headers.get("x-amz-date");
  if (amz !== undefined) {
    const value = amz.join(",");
    const date = parseAmzDate(value);
    if (date === undefined)
      return reject("malformed-date", `X-Amz-Date must be in ISO-8601 'basic format'. Got '${value.slice(0, 40)}'.`);
    return { requestDate: date, amzDate: value, dateHeader: "x-amz-date" };
  }
  const http = headers.get("date");
  if (http === undefined) return reject("missing-date", SIGV4_MESSAGES.missingDate);
  const value = http.join(",");
  const date = parseHttpDate(value);
  if (date === undefined)
    return reject("malformed-date", `Date must be an HTTP date in GMT. Got '${value.slice(0, 40)}'.`);
  return { requestDate: date, amzDate: formatAmzDate(date), dateHeader: "date" };
}

/** `yyyyMMddTHHmmssZ`, a real instant (no 13th month, no 25th hour). */
export function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return formatAmzDate(date) === value ? date : undefined;
}

/** RFC 7231 IMF-fixdate, and the `-0000` form of Python's email.utils.formatdate (botocore's Date header). */
function parseHttpDate(value: string): Date | undefined {
  const m = HTTP_DATE.exec(value);
  if (!m) return undefined;
  const [, weekday, d, month, y, h, mi, s] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const date = new Date(Date.UTC(Number(y), MONTHS.indexOf(month), Number(d), Number(h), Number(mi), Number(s)));
  const roundTrip =
    date.getUTCDate() === Number(d) &&
    date.getUTCHours() === Number(h) &&
    date.getUTCMinutes() === Number(mi) &&
    date.getUTCSeconds() === Number(s);
  return roundTrip && WEEKDAYS[date.getUTCDay()] === weekday ? date : undefined;
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** API Gateway's own messages for a request date outside now() ± maxSkew. */
function checkSkew(requestDate: Date, amzDate: string, now: Date, maxSkewMs: number, expiresSeconds?: number): void {
  const minutes = `${maxSkewMs / 60000} min.`;
  const earliest = new Date(now.getTime() - maxSkewMs);
  const latest = new Date(now.getTime() + maxSkewMs);
  // A presigned request is valid from its date (give or take the skew) until it expires.
  if (expiresSeconds !== undefined) {
    if (now.getTime() > requestDate.getTime() + expiresSeconds * 1000) reject("skew", SIGV4_MESSAGES.requestExpired);
  } else if (requestDate.getTime() < earliest.getTime()) {
    reject(
      "skew",
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(earliest)} (${formatAmzDate(now)} - ${minutes})`,
    );
  }
  if (requestDate.getTime() > latest.getTime()) {
    reject(
      "skew",
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(latest)} (${formatAmzDate(now)} + ${minutes})`,
    );
  }
}

/**
 * execute-api has no unsigned or chunked payloads: the canonical request always hashes the body
 * received, and a client's x-amz-content-sha256 claim must agree with it (smithy sends one).
 */
function checkPayloadHeader(values: readonly string[] | undefined, payloadHash: string): void {
  if (values === undefined) return;
  const claimed = values.join(",");
  if (UNSIGNED_PAYLOADS.test(claimed)) reject("unsigned-payload", SIGV4_MESSAGES.unsignedPayload);
  if (claimed !== payloadHash) reject("payload-hash", SIGV4_MESSAGES.payloadHash);
}

/** Temporary credentials need their own token; long-term keys must not come with one. */
function checkSessionToken(values: readonly string[] | undefined, expected: string | undefined): void {
  if (expected === undefined) {
    if (values !== undefined) reject("token-mismatch", SIGV4_MESSAGES.invalidToken);
    return;
  }
  // Digests make the comparison constant-time whatever the lengths.
  const sent = values === undefined ? undefined : sha256(values.join(","));
  if (sent === undefined || !timingSafeEqual(sent, sha256(expected)))
    reject("token-mismatch", SIGV4_MESSAGES.invalidToken);
}

/**
 * The canonical URI of a raw request path: dot and empty segments removed as botocore's
 * remove_dot_segments and smithy's getCanonicalPath do, then each segment percent-encoded once
 * more (double encoding). Undefined when the path is not an origin-form path of printable ASCII.
 * The signature covers this normalized path, so whoever routes or authorizes the request must
 * use the same normalization (or refuse paths that have dot or empty segments).
 */
export function buildCanonicalUri(rawPath: string): string | undefined {
  if (!rawPath.startsWith("/") || !PRINTABLE_ASCII.test(rawPath)) return undefined;
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return `/${segments.map((s) => encodeBytes([...s].map((c) => c.charCodeAt(0)))).join("/")}${trailing}`;
}

/**
 * The canonical query string of a raw query: pieces decoded (`+` as a space) and re-encoded with
 * AWS's rules, sorted by key then value. Undefined for non-ASCII text or a bad `%` escape.
 */
export function buildCanonicalQuery(rawQuery: string): string | undefined {
  if (rawQuery === "") return "";
  if (!PRINTABLE_ASCII.test(rawQuery)) return undefined;
  const pairs: [string, string][] = [];
  for (const piece of rawQuery.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const key = reencodeQueryComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = reencodeQueryComponent(eq < 0 ? "" : piece.slice(eq + 1));
    if (key === undefined || value === undefined) return undefined;
    pairs.push([key, value]);
  }
  // Encoded text is ASCII, so comparing UTF-16 code units is comparing bytes, as AWS sorts.
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Percent-decodes to bytes (so invalid UTF-8 round-trips), `+` as a space, then AWS-encodes them. */
function reencodeQueryComponent(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c === 0x2b ? 0x20 : c);
    }
  }
  return encodeBytes(bytes);
}

/** RFC 3986 unreserved bytes as they are, every other byte as upper-case %XX. */
function encodeBytes(bytes: readonly number[]): string {
  let out = "";
  for (const b of bytes) {
    const unreserved =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Trimmed, inner runs of spaces and tabs as one space; repeated headers joined with ",". */
function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.replace(/[ \t]+/g, " ").replace(/^ | $/g, "")).join(",");
}

function deriveSigningKey(secretAccessKey: string, scopeDate: string, region: string, service: string): Buffer {
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, "utf8");
  for (const part of [scopeDate, region, service, TERMINATOR])
    key = createHmac("sha256", key).update(part, "utf8").digest();
  return key;
}

function sha256(data: string | Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
