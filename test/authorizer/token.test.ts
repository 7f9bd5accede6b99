import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { BearerTokenError, createTokenVerifier, extractBearerToken, JwksFetcher } from "../../authorizer/token";
import {
  accessClaims,
  accessToken,
  CLIENT_ID,
  createSigningKey,
  idClaims,
  ISSUER,
  JWKS_URI,
  jwksOf,
  requestEvent,
  seededJwksCache,
  signJwt,
} from "./support/tokens";
import { thrownBy } from "../support/errors";

const MAX = 8192;
const TOKEN = "aGVhZGVy.cGF5bG9hZA.c2ln-_0";

const problemOf = (act: () => unknown): string => thrownBy(act, BearerTokenError).reason;

describe("extractBearerToken", () => {
  it("returns the token of a Bearer Authorization header", () => {
    // Act
    const token = extractBearerToken(requestEvent({ authorization: `Bearer ${TOKEN}` }), MAX);
    // Assess
    expect(token).toBe(TOKEN);
  });

  it("matches the header name and the scheme case-insensitively", () => {
    // Prepare
    const event = requestEvent({ headers: { authorization: `bEaReR ${TOKEN}` } });
    // Act
    const token = extractBearerToken(event, MAX);
    // Assess
    expect(token).toBe(TOKEN);
  });

  it("reads multiValueHeaders when headers is null", () => {
    // Prepare
    const event = requestEvent({ headers: null, multiValueHeaders: { AUTHORIZATION: [`Bearer ${TOKEN}`] } });
    // Act
    const token = extractBearerToken(event, MAX);
    // Assess
    expect(token).toBe(TOKEN);
  });

  it.each([
    ["both header maps are null", requestEvent({ headers: null, multiValueHeaders: null })],
    ["there is no Authorization header", requestEvent({ headers: { Accept: "application/json" } })],
    ["the header is blank", requestEvent({ authorization: "   " })],
  ])("answers missing-token when %s", (_, event) => {
    // Act
    const problem = problemOf(() => extractBearerToken(event, MAX));
    // Assess
    expect(problem).toBe("missing-token");
  });

  it.each([
    [
      "a repeated header",
      {
        headers: { Authorization: `Bearer ${TOKEN}` },
        multiValueHeaders: { Authorization: [`Bearer ${TOKEN}`, "Bearer a.b.c"] },
      },
    ],
    ["two spellings of the name", { headers: { Authorization: `Bearer ${TOKEN}`, authorization: "Bearer a.b.c" } }],
    [
      "the same value twice",
      {
        headers: { Authorization: `Bearer ${TOKEN}` },
        multiValueHeaders: { Authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] },
      },
    ],
    [
      "maps that disagree",
      { headers: { Authorization: `Bearer ${TOKEN}` }, multiValueHeaders: { authorization: ["Bearer a.b.c"] } },
    ],
  ])("rejects %s as duplicate-authorization", (_, options) => {
    // Act
    const problem = problemOf(() => extractBearerToken(requestEvent(options), MAX));
    // Assess
    expect(problem).toBe("duplicate-authorization");
  });

  it.each([
    ["a Basic credential", "Basic dXNlcjpwYXNz"],
    ["a bare token", TOKEN],
    ["Bearer without a token", "Bearer"],
    ["two tokens", `Bearer ${TOKEN} ${TOKEN}`],
  ])("rejects %s as not-bearer", (_, authorization) => {
    // Act
    const problem = problemOf(() => extractBearerToken(requestEvent({ authorization }), MAX));
    // Assess
    expect(problem).toBe("not-bearer");
  });

  it.each([
    ["two parts", "aGVhZGVy.cGF5bG9hZA"],
    ["four parts", `${TOKEN}.eA`],
    ["an empty signature", "aGVhZGVy.cGF5bG9hZA."],
    ["standard base64 characters", "aGVh+ZGVy.cGF5bG9hZA.c2ln/"],
    ["padding", "aGVhZGVy.cGF5bG9hZA==.c2ln"],
  ])("rejects a token with %s as malformed-token", (_, token) => {
    // Act
    const problem = problemOf(() => extractBearerToken(requestEvent({ authorization: `Bearer ${token}` }), MAX));
    // Assess
    expect(problem).toBe("malformed-token");
  });

  it("rejects a token one byte over the limit, and accepts one at the limit", () => {
    // Prepare
    const atLimit = `${"a".repeat(100)}.${"b".repeat(MAX - 100 - 2 - 10)}.${"c".repeat(10)}`;
    const overLimit = `${atLimit}c`;
    // Act
    const accepted = extractBearerToken(requestEvent({ authorization: `Bearer ${atLimit}` }), MAX);
    const problem = problemOf(() => extractBearerToken(requestEvent({ authorization: `Bearer ${overLimit}` }), MAX));
    // Assess
    expect(accepted).toHaveLength(MAX);
    expect(problem).toBe("token-too-large");
  });

  it("rejects a huge header before parsing it", () => {
    // Act
    const problem = problemOf(() =>
      extractBearerToken(requestEvent({ authorization: `Bearer ${"x".repeat(1_000_000)}` }), MAX),
    );
    // Assess
    expect(problem).toBe("token-too-large");
  });
});

describe("createTokenVerifier", () => {
  const key = createSigningKey();
  const config = { issuer: ISSUER, jwksUri: JWKS_URI, clientIds: ["otherclient", CLIENT_ID] };
  const verifierWith = (jwks = jwksOf(key)) =>
    createTokenVerifier(config, { jwksCache: seededJwksCache(jwks).jwksCache });

  it("returns the claims of a valid access token of any configured client", async () => {
    // Prepare
    const token = accessToken(key, { username: "bob" });
    // Act
    const payload = await verifierWith().verify(token);
    // Assess
    expect(payload).toMatchObject({ username: "bob", token_use: "access", client_id: CLIENT_ID });
  });

  it.each([
    [
      "an id token",
      () => signJwt({ alg: "RS256", kid: key.kid }, idClaims(), key.privateKey),
      "CognitoJwtInvalidTokenUseError",
    ],
    ["a token without token_use", () => accessToken(key, { token_use: undefined }), "CognitoJwtInvalidTokenUseError"],
    ["another client", () => accessToken(key, { client_id: "stranger" }), "CognitoJwtInvalidClientIdError"],
    ["another issuer", () => accessToken(key, { iss: "http://localhost:9229/local_x" }), "JwtInvalidIssuerError"],
    ["no exp claim", () => accessToken(key, { exp: undefined }), "JwtMissingClaimError"],
    ["no sub claim", () => accessToken(key, { sub: undefined }), "JwtMissingClaimError"],
    ["an expired token", () => accessToken(key, { exp: Math.floor(Date.now() / 1000) - 1 }), "JwtExpiredError"],
  ])("rejects %s", async (_, makeToken, errorClass) => {
    // Prepare
    const token = makeToken();
    // Act
    const outcome = verifierWith().verify(token);
    // Assess
    await expect(outcome).rejects.toHaveProperty("constructor.name", errorClass);
  });

  it("fetches a JWKS not cached yet on the first call, then verifies from the cache without fetching", async () => {
    // Prepare: a cache with nothing in it, as a cold Lambda has
    let fetches = 0;
    const jwksCache = new SimpleJwksCache({
      fetcher: {
        fetch: async () => {
          fetches++;
          const bytes = Buffer.from(JSON.stringify(jwksOf(key)));
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        },
      },
    });
    const verifier = createTokenVerifier(config, { jwksCache });
    // Act
    const first = await verifier.verify(accessToken(key, { username: "first" }));
    const later = await Promise.all([1, 2, 3].map((i) => verifier.verify(accessToken(key, { username: `u${i}` }))));
    // Assess
    expect([first, ...later].map((p) => p.username)).toEqual(["first", "u1", "u2", "u3"]);
    expect(fetches).toBe(1);
  });

  it("rejects a token signed with an EC key even when the JWKS publishes that key", async () => {
    // Prepare
    const { generateKeyPairSync, createSign } = await import("crypto");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = {
      ...(ec.publicKey.export({ format: "jwk" }) as Record<string, string>),
      kid: "ec1",
      alg: "ES256",
      use: "sig",
    };
    const input = `${Buffer.from(JSON.stringify({ alg: "ES256", kid: "ec1" })).toString("base64url")}.${Buffer.from(JSON.stringify(accessClaims())).toString("base64url")}`;
    const sig = createSign("SHA256")
      .update(input)
      .sign({ key: ec.privateKey, dsaEncoding: "ieee-p1363" })
      .toString("base64url");
    // Act
    const outcome = verifierWith({ keys: [key.jwk, jwk as typeof key.jwk] }).verify(`${input}.${sig}`);
    // Assess
    await expect(outcome).rejects.toHaveProperty("constructor.name", "JwtInvalidSignatureAlgorithmError");
  });
});

describe("JwksFetcher", () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/pool/.well-known/jwks.json")
        res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("fetches a JWKS over http from a loopback host", async () => {
    // Act
    const body = await new JwksFetcher().fetch(`${origin}/pool/.well-known/jwks.json`);
    // Assess
    expect(Buffer.from(body).toString("utf8")).toBe('{"keys":[]}');
  });

  it("fails on a status other than 200", async () => {
    // Act
    const outcome = new JwksFetcher().fetch(`${origin}/missing`);
    // Assess
    await expect(outcome).rejects.toThrow("answered 404");
  });

  it("refuses plain http to any other host without connecting", async () => {
    // Act
    const outcome = new JwksFetcher().fetch("http://10.255.255.1/pool/.well-known/jwks.json");
    // Assess
    await expect(outcome).rejects.toThrow("refusing to fetch JWKS from http://10.255.255.1");
  });
});
