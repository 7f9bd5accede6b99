// Local stand-ins for a Cognito user pool: RSA keys, a JWKS, hand-signed JWTs, authorizer events.
// Nothing here touches the network.
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { createHmac, createSign, generateKeyPairSync, KeyObject, randomUUID } from "crypto";
import { Fetcher } from "aws-jwt-verify/https";
import { Jwks, SimpleJwksCache } from "aws-jwt-verify/jwk";
import { Authorizer, createAuthorizer, DecisionLogger } from "../../../authorizer/authorize";
import { stageArnPrefix } from "../../../authorizer/core/method-arn";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { createTokenVerifier, TokenVerifier } from "../../../authorizer/token";

export const ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1";
export const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;
export const CLIENT_ID = "4abcdefghijklmnopqrstuvw12";
export const METHOD_ARN_PREFIX = stageArnPrefix({
  partition: "aws",
  region: "us-east-1",
  account: "123456789012",
  apiId: "abc123defg",
  stage: "prod",
});

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as a JWKS entry, as Cognito publishes it. */
  readonly jwk: Jwks["keys"][number];
}

export function createSigningKey(kid = `kid-${randomUUID()}`): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = {
    ...(publicKey.export({ format: "jwk" }) as { kty: string; n: string; e: string }),
    kid,
    alg: "RS256",
    use: "sig",
  };
  return { kid, privateKey, publicKey, jwk };
}

export const jwksOf = (...keys: SigningKey[]): Jwks => ({ keys: keys.map((k) => k.jwk) });

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Signs header.payload with RS256 (or leaves the signature empty for `alg: none`). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | undefined,
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = key ? createSign("RSA-SHA256").update(input).sign(key).toString("base64url") : "";
  return `${input}.${signature}`;
}

/** An HS256 token whose secret is the RSA public key: the classic algorithm-confusion attack. */
export function signHs256WithPublicKey(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: SigningKey,
): string {
  const input = `${b64url({ ...header, alg: "HS256" })}.${b64url(payload)}`;
  const secret = key.publicKey.export({ format: "pem", type: "spki" });
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

const now = (): number => Math.floor(Date.now() / 1000);

/** The claims of a Cognito access token (as issued for the hosted UI app client). */
export function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sub: "8f3c1a2e-0000-4000-8000-000000000001",
    "cognito:groups": ["readers"],
    iss: ISSUER,
    version: 2,
    client_id: CLIENT_ID,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: "access",
    scope: "openid email",
    auth_time: now() - 60,
    exp: now() + 3600,
    iat: now() - 60,
    jti: randomUUID(),
    username: "alice",
    ...overrides,
  };
}

/** The claims of a Cognito id token for the same user. */
export function idClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    ...accessClaims(),
    aud: CLIENT_ID,
    token_use: "id",
    "cognito:username": "alice",
    email: "alice@example.com",
  };
  for (const accessOnly of ["client_id", "scope", "username", "version"]) delete claims[accessOnly];
  return { ...claims, ...overrides };
}

export function accessToken(key: SigningKey, overrides: Record<string, unknown> = {}): string {
  return signJwt({ alg: "RS256", kid: key.kid }, accessClaims(overrides), key.privateKey);
}

/** A JWKS cache seeded with `jwks` whose fetcher serves it too, counting calls instead of using the network. */
export function seededJwksCache(jwks: Jwks, jwksUri = JWKS_URI): { jwksCache: SimpleJwksCache; fetches: () => number } {
  let count = 0;
  const fetcher: Fetcher = {
    fetch: async () => {
      count++;
      const bytes = Buffer.from(JSON.stringify(jwks));
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    },
  };
  const jwksCache = new SimpleJwksCache({ fetcher });
  jwksCache.addJwks(jwksUri, jwks);
  return { jwksCache, fetches: () => count };
}

/** A REQUEST authorizer event as API Gateway sends it for a REST API. */
export function requestEvent(
  options: {
    authorization?: string;
    methodArn?: string;
    /** The API resource the request matched (API Gateway's `resource`). @default `/{proxy+}` */
    resource?: string;
    headers?: Record<string, string> | null;
    multiValueHeaders?: Record<string, string[]> | null;
  } = {},
): APIGatewayRequestAuthorizerEvent {
  const headers =
    options.headers !== undefined
      ? options.headers
      : options.authorization !== undefined
        ? { Authorization: options.authorization }
        : {};
  const multiValueHeaders =
    options.multiValueHeaders !== undefined
      ? options.multiValueHeaders
      : headers === null
        ? null
        : Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const methodArn = options.methodArn ?? `${METHOD_ARN_PREFIX}POST/ajax-api/2.0/mlflow/runs/search`;
  const [, httpMethod = "POST", path = "/ajax-api/2.0/mlflow/runs/search"] =
    /^([A-Z]+)(\/.*)$/.exec(methodArn.startsWith(METHOD_ARN_PREFIX) ? methodArn.slice(METHOD_ARN_PREFIX.length) : "") ??
    [];
  return {
    type: "REQUEST",
    methodArn,
    resource: options.resource ?? "/{proxy+}",
    path,
    httpMethod,
    headers,
    multiValueHeaders,
    pathParameters: { proxy: path.slice(1) },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: "req-0001", stage: "prod", apiId: "abc123defg" },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

/** The real verifier for this pool (ISSUER, CLIENT_ID), the JWKS of `keys` seeded: no network. */
export function seededVerifier(...keys: SigningKey[]): TokenVerifier {
  return createTokenVerifier(
    { issuer: ISSUER, jwksUri: JWKS_URI, clientIds: [CLIENT_ID] },
    seededJwksCache(jwksOf(...keys)),
  );
}

const SILENT: DecisionLogger = { info: () => undefined, error: () => undefined };

/** The real authorizer module (as the Lambda runs it) for tokens signed with `keys`, logging nothing by default. */
export function seededAuthorizer(
  policySet: PolicySet,
  keys: SigningKey[],
  logger: DecisionLogger = SILENT,
): Authorizer {
  return createAuthorizer({ config: { maxTokenBytes: 8192 }, policySet, verifier: seededVerifier(...keys), logger });
}
