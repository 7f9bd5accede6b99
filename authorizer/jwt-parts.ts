// A JWT's unverified parts, as aws-jwt-verify's decomposeUnverifiedJwt gives them, for less. The library parses the
// header and payload with a JSON reviver that deletes `__proto__` and `constructor` keys; a reviver sends V8's
// JSON.parse down its slow path, a fifth of a warm authorizer call. Where neither key can occur (no such text, no
// escape that could spell it), a plain JSON.parse gives the same objects; the library's checks of the parts are
// repeated as predicates. Anything else goes to the library, which gives the same parts or its own error.
import { decomposeUnverifiedJwt, DecomposedJwt } from "aws-jwt-verify/jwt";

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Text the library's reviver would act on, or that could spell it: its keys, and any JSON escape. */
const NEEDS_SAFE_PARSE = /__proto__|constructor|\\/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const absentOr = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || ok(v);
const isString = (x: unknown): boolean => typeof x === "string";
const isFiniteNumber = (x: unknown): boolean => Number.isFinite(x);

/** The library's header checks (assertJwtHeader), as a predicate. */
function plainHeader(h: unknown): h is Json {
  return isObject(h) && absentOr(h.alg, isString) && absentOr(h.kid, isString);
}

/** The library's payload checks (assertJwtPayload), as a predicate. */
function plainPayload(p: unknown): p is Json {
  return (
    isObject(p) &&
    absentOr(p.exp, isFiniteNumber) &&
    absentOr(p.iss, isString) &&
    absentOr(p.sub, isString) &&
    absentOr(p.aud, (a) => isString(a) || (Array.isArray(a) && a.every(isString))) &&
    absentOr(p.nbf, isFiniteNumber) &&
    absentOr(p.iat, isFiniteNumber) &&
    absentOr(p.scope, isString) &&
    absentOr(p.jti, isString)
  );
}

function plainParts(jwt: string): DecomposedJwt | undefined {
  if (!JWT_SHAPE.test(jwt)) return undefined;
  const [headerB64, payloadB64, signatureB64] = jwt.split(".") as [string, string, string];
  // As the library decodes them (Node's base64 decoder reads base64url too).
  const headerJson = Buffer.from(headerB64, "base64").toString("utf8");
  const payloadJson = Buffer.from(payloadB64, "base64").toString("utf8");
  if (NEEDS_SAFE_PARSE.test(headerJson) || NEEDS_SAFE_PARSE.test(payloadJson)) return undefined;
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(headerJson);
    payload = JSON.parse(payloadJson);
  } catch {
    return undefined;
  }
  if (!plainHeader(header) || !plainPayload(payload)) return undefined;
  return { header, headerB64, payload, payloadB64, signatureB64 } as DecomposedJwt;
}

/** decomposeUnverifiedJwt's result (or its error) for any input; the plain parse where it gives the same. */
export function decomposeJwt(jwt: unknown): DecomposedJwt {
  return (typeof jwt === "string" ? plainParts(jwt) : undefined) ?? decomposeUnverifiedJwt(jwt);
}
