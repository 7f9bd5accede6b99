import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { JwtVerifier } from "aws-jwt-verify";
import type { JwtVerifierProperties, VerifyProperties } from "aws-jwt-verify/jwt-verifier";
import { decomposeJwt } from "./jwt-parts";
import { validateCognitoJwtFields } from "aws-jwt-verify/cognito-verifier";
import {
  JwksNotAvailableInCacheError,
  JwtInvalidSignatureAlgorithmError,
  KidNotFoundInJwksError,
} from "aws-jwt-verify/error";
import { Fetcher, SimpleFetcher } from "aws-jwt-verify/https";
import { JwksCache, SimpleJwksCache } from "aws-jwt-verify/jwk";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { AuthorizerConfig } from "./config";
import { isLoopbackHost } from "./core/contract";
import { MlflowGateError } from "./core/errors";

export type BearerTokenProblem =
  "missing-token" | "duplicate-authorization" | "not-bearer" | "token-too-large" | "malformed-token";

/** The Authorization header holds no usable bearer token; `reason` says why (logged, never the value). */
export class BearerTokenError extends MlflowGateError {
  constructor(readonly reason: BearerTokenProblem) {
    super(`bearer token rejected: ${reason}`);
  }
}

/** A verified token lacks a claim every Cognito access token has. */
export class JwtMissingClaimError extends MlflowGateError {}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BEARER = /^Bearer[ \t]+(\S+)$/i;

/**
 * The bearer token of a REQUEST authorizer event. Header names are matched case-insensitively;
 * two Authorization values (repeated header, or two spellings of its name) are rejected rather than
 * guessing which one API Gateway used as the identity source.
 */
export function extractBearerToken(
  event: Pick<APIGatewayRequestAuthorizerEvent, "headers" | "multiValueHeaders">,
  maxTokenBytes: number,
): string {
  const values: string[] = [];
  let multiCount = 0;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === "authorization" && typeof value === "string") values.push(value);
  }
  for (const [name, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (name.toLowerCase() !== "authorization" || !Array.isArray(list)) continue;
    multiCount += list.length;
    // API Gateway mirrors the single value in both maps; anything else is a second value.
    for (const v of list) if (!values.includes(v)) values.push(v);
  }
  if (values.length > 1 || multiCount > 1) throw new BearerTokenError("duplicate-authorization");
  const header = values[0]?.trim();
  if (header === undefined || header === "") throw new BearerTokenError("missing-token");
  // "Bearer" and a few spaces: anything longer cannot hold an acceptable token; checked before any regex.
  if (Buffer.byteLength(header) > maxTokenBytes + 16) throw new BearerTokenError("token-too-large");
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw new BearerTokenError("not-bearer");
  if (Buffer.byteLength(token) > maxTokenBytes) throw new BearerTokenError("token-too-large");
  if (!JWT_SHAPE.test(token)) throw new BearerTokenError("malformed-token");
  return token;
}

/** Verifies a token's signature and claims; rejects with the library's error class otherwise. */
export interface TokenVerifier {
  verify(token: string): Promise<JwtPayload>;
}

/**
 * Fetches JWKS over https with aws-jwt-verify's fetcher (timeouts, one retry), and over plain http
 * only from a loopback host (cognito-local), which that fetcher does not speak.
 */
export class JwksFetcher implements Fetcher {
  private readonly https = new SimpleFetcher();

  async fetch(uri: string): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (url.protocol === "https:") return this.https.fetch(uri);
    if (url.protocol !== "http:" || !isLoopbackHost(url.hostname))
      throw new Error(`refusing to fetch JWKS from ${url.origin}`);
    const res = await fetch(uri, { redirect: "error", signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) throw new Error(`JWKS ${uri} answered ${res.status}`);
    return res.arrayBuffer();
  }
}

export interface TokenVerifierOptions {
  /**
   * Where JWKs come from. SimpleJwksCache's penalty box lets an unknown `kid` cause at most one
   * refetch per 10 s, never one per request. Tests pass one with a seeded JWKS and a counting fetcher.
   * @default new SimpleJwksCache({ fetcher: new JwksFetcher() })
   */
  readonly jwksCache?: JwksCache;
}

/**
 * aws-jwt-verify's verifier, every check of it, with the token's parts read by decomposeJwt (jwt-parts.ts): the
 * same parts, without a JSON reviver where none can matter. Overrides the one step that reads them.
 */
class PlainPartsJwtVerifier extends JwtVerifier<
  Partial<VerifyProperties>,
  JwtVerifierProperties<Partial<VerifyProperties>>,
  false
> {
  protected override getVerifyParameters(jwt: string, verifyProperties?: Partial<VerifyProperties>) {
    const decomposedJwt = decomposeJwt(jwt);
    const issuerConfig = this.getIssuerConfig(decomposedJwt.payload.iss);
    return { decomposedJwt, jwksUri: issuerConfig.jwksUri, verifyProperties: { ...issuerConfig, ...verifyProperties } };
  }
}

/** Accepts only Cognito access tokens (RS256) of the configured issuer and app clients. */
export function createTokenVerifier(
  config: Pick<AuthorizerConfig, "issuer" | "jwksUri" | "clientIds">,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const clientId = [...config.clientIds];
  const verifier = PlainPartsJwtVerifier.create(
    {
      issuer: config.issuer,
      // Cognito access tokens have no `aud`; the client is checked on `client_id` below.
      audience: null,
      jwksUri: config.jwksUri,
      customJwtCheck: ({ header, payload }) => {
        validateCognitoJwtFields(payload, { tokenUse: "access", clientId });
        // Cognito signs with RS256 only; the library would also accept EC and EdDSA keys.
        if (header.alg !== "RS256")
          throw new JwtInvalidSignatureAlgorithmError("JWT signature algorithm must be RS256", header.alg, "RS256");
        // The library checks `exp` only when present.
        if (typeof payload.exp !== "number") throw new JwtMissingClaimError("token has no exp claim");
        if (typeof payload.sub !== "string" || payload.sub === "")
          throw new JwtMissingClaimError("token has no sub claim");
      },
    },
    { jwksCache: options.jwksCache ?? new SimpleJwksCache({ fetcher: new JwksFetcher() }) },
  );
  return {
    verify: async (token) => {
      // With the issuer's JWKS cached (every call of a warm Lambda after the first), verified synchronously: the same
      // checks, without the asynchronous key lookup. A JWKS not cached yet, or a kid it lacks (a rotated key), takes
      // the asynchronous path, which fetches it (at most once per 10 s for an unknown kid).
      try {
        return verifier.verifySync(token);
      } catch (err) {
        if (err instanceof JwksNotAvailableInCacheError || err instanceof KidNotFoundInJwksError)
          return verifier.verify(token);
        throw err;
      }
    },
  };
}
