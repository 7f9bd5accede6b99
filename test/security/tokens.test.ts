import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { createPrivateKey, createPublicKey, randomUUID } from "crypto";
import { readFileSync } from "fs";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { parseAuthorizerConfig } from "../../authorizer/config";
import { createTokenVerifier } from "../../authorizer/token";
import { createSigningKey, signHs256WithPublicKey, signJwt, SigningKey } from "../authorizer/support/tokens";
import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import {
  expectRefused,
  logEntryOf,
  mlflowState,
  privateCall,
  RawResponse,
  sendRaw,
  signHeaders,
} from "./support/attack";

// Token attacks on the UI surface, through the gateway of the real local stack: each forged, stale
// or misdirected token tries an admin's write (deleting an experiment) and must get a 401 (or a 403
// when the token is genuine but grants nothing), never a 5xx, and MLflow must stay as it was.
//
// cognito-local signs every pool's tokens with one RSA key published in its npm package, so these
// tests can forge tokens that verify: each then fails on exactly the claim it gets wrong. The same
// fact is why the local stack binds to loopback only and why aws mode refuses a hand-named issuer.

let t: TestStack;
let adminClaims: Record<string, unknown>;
let readerToken: string;
let adminToken: string;
let adminIdToken: string;
let experimentId: string;
let before: string;
const cognitoLocalKey = JSON.parse(
  readFileSync(require.resolve("cognito-local/lib/keys/cognitoLocal.private.json"), "utf8"),
) as { pem: string; jwk: { kid: string } };
const poolKey = createPrivateKey(cognitoLocalKey.pem);
const POOL_KID = cognitoLocalKey.jwk.kid;
const attacker: SigningKey = createSigningKey("attacker");

/** An attacker's JWKS on loopback, to prove a `jku` header is never followed. */
let attackerJwks: Server;
let attackerJwksHits = 0;

const payloadOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[1] as string, "base64url").toString("utf8"));
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A token signed with the local pool's own key: the admin's claims with `overrides` (undefined removes a claim). */
function forge(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const claims: Record<string, unknown> = { ...adminClaims, jti: randomUUID(), ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete claims[k];
  return signJwt({ alg: "RS256", kid: POOL_KID, ...header }, claims, poolKey);
}

beforeAll(async () => {
  // A stack of its own: it adds users to the pool and seeds fixed names.
  t = await startTestStack({ private: true });
  const user = (name: string) => t.stack.summary.demoUsers.find((u) => u.username === name)!;
  const admin = await t.stack.userPool.login("admin", user("admin").password);
  adminToken = admin.accessToken;
  adminIdToken = admin.idToken;
  adminClaims = payloadOf(adminToken);
  readerToken = (await t.stack.userPool.login("reader", user("reader").password)).accessToken;
  experimentId = (await privateCall(t, "POST", "/api/2.0/mlflow/experiments/create", { name: "target" })).experiment_id;
  attackerJwks = createServer((_req, res) => {
    attackerJwksHits++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [attacker.jwk] }));
  });
  await new Promise<void>((resolve) => attackerJwks.listen(0, "127.0.0.1", () => resolve()));
  before = await mlflowState(t);
}, 240_000);
afterAll(async () => {
  await new Promise<void>((resolve) => (attackerJwks ? attackerJwks.close(() => resolve()) : resolve()));
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;
const attackerJwksUrl = () => `http://127.0.0.1:${(attackerJwks.address() as AddressInfo).port}/.well-known/jwks.json`;

function call(
  method: string,
  path: string,
  authorization: string | string[] | undefined,
  body?: string,
): Promise<RawResponse> {
  const auth =
    authorization === undefined
      ? []
      : (Array.isArray(authorization) ? authorization : [authorization]).map((v): [string, string] => [
          "Authorization",
          v,
        ]);
  return sendRaw(gateway(), {
    method,
    target: path,
    headers: [...auth, ["Content-Type", "application/json"]],
    ...(body !== undefined ? { body } : {}),
  });
}

/** The admin's write every attack tries. */
const deleteTarget = (authorization: string | string[] | undefined) =>
  call(
    "POST",
    "/ajax-api/2.0/mlflow/experiments/delete",
    authorization,
    JSON.stringify({ experiment_id: experimentId }),
  );
const searchExperiments = (authorization: string) =>
  call("POST", "/ajax-api/2.0/mlflow/experiments/search", authorization, JSON.stringify({ max_results: 1 }));

describe("controls: what a genuine token can do (so that the refusals below mean something)", () => {
  test("the admin's own token deletes a throwaway experiment", async () => {
    const id = (await privateCall(t, "POST", "/api/2.0/mlflow/experiments/create", { name: "throwaway" }))
      .experiment_id;
    const r = await call(
      "POST",
      "/ajax-api/2.0/mlflow/experiments/delete",
      `Bearer ${adminToken}`,
      JSON.stringify({ experiment_id: id }),
    );
    expect(r.status).toBe(200);
    expect(
      (await privateCall(t, "GET", `/api/2.0/mlflow/experiments/get?experiment_id=${id}`)).experiment.lifecycle_stage,
    ).toBe("deleted");
    before = await mlflowState(t);
  });

  test("a token forged with cognito-local's published key and the pool's exact claims is accepted (local pools only)", async () => {
    const r = await searchExperiments(`Bearer ${forge()}`);
    expect(r.status).toBe(200);
  });
});

describe("forged, stale and misdirected tokens: 401, and MLflow unchanged", () => {
  const cases: [string, () => string | string[] | undefined][] = [
    ["no token at all", () => undefined],
    ["alg none without a signature", () => `Bearer ${b64({ alg: "none", kid: POOL_KID })}.${b64({ ...adminClaims })}.`],
    [
      "alg none carrying the admin token's real signature",
      () => `Bearer ${b64({ alg: "none", kid: POOL_KID })}.${adminToken.split(".")[1]}.${adminToken.split(".")[2]}`,
    ],
    [
      "alg None (capitalised) with a signature",
      () => `Bearer ${b64({ alg: "None", kid: POOL_KID })}.${adminToken.split(".")[1]}.${adminToken.split(".")[2]}`,
    ],
    [
      "HS256 signed with the pool's public key as the secret",
      () =>
        `Bearer ${signHs256WithPublicKey({ kid: POOL_KID }, { ...adminClaims }, { kid: POOL_KID, privateKey: poolKey, publicKey: createPublicKey(poolKey), jwk: { kty: "RSA", n: "", e: "" } })}`,
    ],
    [
      "a reader's token with its groups claim rewritten to admins",
      () =>
        `Bearer ${readerToken.split(".")[0]}.${b64({ ...payloadOf(readerToken), "cognito:groups": ["admins"] })}.${readerToken.split(".")[2]}`,
    ],
    [
      "an attacker's key with kid '../../../../etc/passwd'",
      () =>
        `Bearer ${signJwt({ alg: "RS256", kid: "../../../../etc/passwd" }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    [
      "an attacker's key with kid 'CognitoLocal/../attacker'",
      () =>
        `Bearer ${signJwt({ alg: "RS256", kid: `${POOL_KID}/../attacker` }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    [
      "an attacker's key with a kid that is a URL",
      () =>
        `Bearer ${signJwt({ alg: "RS256", kid: "http://127.0.0.1:1/jwks.json" }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    [
      "an attacker's key under the pool's own kid",
      () => `Bearer ${signJwt({ alg: "RS256", kid: POOL_KID }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    [
      "an attacker's key named by a jku header",
      () =>
        `Bearer ${signJwt({ alg: "RS256", kid: "attacker", jku: attackerJwksUrl() }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    [
      "an attacker's key embedded as a jwk header",
      () =>
        `Bearer ${signJwt({ alg: "RS256", kid: "attacker", jwk: attacker.jwk }, { ...adminClaims }, attacker.privateKey)}`,
    ],
    ["an expired token", () => `Bearer ${forge({ exp: nowSeconds() - 60, iat: nowSeconds() - 3700 })}`],
    ["a token not valid before ten minutes from now", () => `Bearer ${forge({ nbf: nowSeconds() + 600 })}`],
    ["a token without exp", () => `Bearer ${forge({ exp: undefined })}`],
    ["the pool's real id token", () => `Bearer ${adminIdToken}`],
    ["an access token claiming to be an id token", () => `Bearer ${forge({ token_use: "id" })}`],
    ["a token without token_use", () => `Bearer ${forge({ token_use: undefined })}`],
    [
      "another local pool's issuer",
      () => `Bearer ${forge({ iss: `${String(adminClaims.iss).replace(/\/[^/]+$/, "")}/local_someoneelse` })}`,
    ],
    [
      "an AWS pool's issuer",
      () => `Bearer ${forge({ iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI" })}`,
    ],
    ["the issuer with a trailing slash", () => `Bearer ${forge({ iss: `${String(adminClaims.iss)}/` })}`],
    ["another app client", () => `Bearer ${forge({ client_id: "someoneelsesclient" })}`],
    ["a token of 9 KB (over the authorizer's 8 KB limit)", () => `Bearer ${forge({ padding: "x".repeat(9000) })}`],
    ["the admin's token in a Basic credential", () => `Basic ${Buffer.from(`admin:${adminToken}`).toString("base64")}`],
    ["the admin's token followed by another word", () => `Bearer ${adminToken} extra`],
    ["'Bearer' and no token", () => "Bearer "],
    ["the admin's token without the Bearer scheme", () => adminToken],
  ];

  test.each(cases)("%s", async (_name, authorization) => {
    // Act
    const r = await deleteTarget(authorization());
    // Assess
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ message: "Unauthorized" });
    expect(logEntryOf(t, r)?.decision).toBe("unauthorized");
    await expectRefused(t, r, before);
  });

  test("the jku header was never followed: the attacker's JWKS got no request", () => {
    expect(attackerJwksHits).toBe(0);
  });

  test("the admin's token in the query string instead of the header: 401", async () => {
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: `/ajax-api/2.0/mlflow/experiments/delete?access_token=${adminToken}&id_token=${adminIdToken}`,
      headers: [["Content-Type", "application/json"]],
      body: JSON.stringify({ experiment_id: experimentId }),
    });
    expect(r.status).toBe(401);
    await expectRefused(t, r, before);
  });

  test("a SigV4 Authorization header of the admin role on a UI route: 401", async () => {
    const p = t.stack.principals.find((x) => x.name === "mlflow-admin")!;
    const body = JSON.stringify({ experiment_id: experimentId });
    const headers = await signHeaders(t, "POST", "/ajax-api/2.0/mlflow/experiments/delete", "", body, p);
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/delete",
      headers,
      body,
    });
    expect(r.status).toBe(401);
    await expectRefused(t, r, before);
  });
});

// API Gateway keys its authorizer cache on the identity source; with two Authorization values, which one
// is unknown (the emulator takes the first). Either way no request gets more than a token its caller holds.
describe("two Authorization values", () => {
  const fresh = (name: "admin" | "reader") => demoAccessToken(t, name);

  test.each([
    ["the admin's token twice", async () => [`Bearer ${await fresh("admin")}`, `Bearer ${await fresh("admin")}`]],
    [
      "the admin's and the reader's token",
      async () => [`Bearer ${await fresh("reader")}`, `Bearer ${await fresh("admin")}`],
    ],
  ])("%s, never seen before: the authorizer refuses them (401), MLflow unchanged", async (_name, values) => {
    const r = await deleteTarget(await values());
    expect(r.status).toBe(401);
    await expectRefused(t, r, before);
  });

  test("the reader's token cached, the admin's second: decided as the reader (403), MLflow unchanged", async () => {
    // Prepare
    const reader = await fresh("reader");
    expect((await searchExperiments(`Bearer ${reader}`)).status).toBe(200);
    // Act
    const r = await deleteTarget([`Bearer ${reader}`, `Bearer ${adminToken}`]);
    // Assess
    expect(r.status).toBe(403);
    await expectRefused(t, r, before);
  });
});

describe("huge tokens: a 4xx, and the gateway keeps answering", () => {
  test.each([
    ["20 KB (over Node's 16 KB header limit)", 20_000, true],
    ["1 MB", 1_000_000, false],
  ])("an Authorization header of %s: 431 (or the connection closed), never a 5xx", async (_name, size, answerFits) => {
    // Act: Node answers 431 and closes; a client still writing may see the reset before the answer
    const r = await deleteTarget(`Bearer ${"a".repeat(size)}.b.c`).catch(() => undefined);
    const after = await sendRaw(gateway(), { method: "GET", target: "/mlflow-gate-ui.json" });
    // Assess
    if (answerFits || r !== undefined) expect(r?.status).toBe(431);
    expect(after.status).toBe(200);
    expect(await mlflowState(t)).toBe(before);
  });
});

describe("genuine tokens with awkward groups: a 403 unless a known group grants the route", () => {
  const many = Array.from({ length: 300 }, (_, i) => `group-${String(i).padStart(3, "0")}`);

  test.each<[string, unknown]>([
    ["300 unknown groups", many],
    ["a group named 'readers,admins'", ["readers,admins"]],
    ["a group named 'admins ' (trailing space)", ["admins "]],
    ["a group named 'ADMINS'", ["ADMINS"]],
    ["groups as a string 'admins'", "admins"],
    ["groups as a comma-separated string 'readers,admins'", "readers,admins"],
    ["groups holding an object", [{ name: "admins" }]],
    ["no groups claim", undefined],
  ])("%s: the admin's write is refused with 403", async (_name, groups) => {
    const r = await deleteTarget(`Bearer ${forge({ "cognito:groups": groups })}`);
    expect(r.status).toBe(403);
    await expectRefused(t, r, before);
  });

  test.each<[string, string[]]>([
    ["300 unknown groups and readers", [...many, "readers"]],
    ["readers and a group named 'model-approvers,admins'", ["readers", "model-approvers,admins"]],
  ])("%s: a reader's rights and no more (search 200, delete 403)", async (_name, groups) => {
    const token = `Bearer ${forge({ "cognito:groups": groups })}`;
    const search = await searchExperiments(token);
    const del = await deleteTarget(token);
    expect(search.status).toBe(200);
    expect(logEntryOf(t, search)?.groups).toEqual(["readers"]);
    expect(del.status).toBe(403);
    await expectRefused(t, del, before);
  });
});

describe("the local pool's issuer presented to an AWS deployment", () => {
  test("aws mode refuses a configured issuer or JWKS URI outright", () => {
    expect(() =>
      parseAuthorizerConfig({
        MLFLOW_GATE_MODE: "aws",
        AWS_REGION: "us-east-1",
        COGNITO_USER_POOL_ID: "us-east-1_AbCdEfGhI",
        COGNITO_CLIENT_ID: t.stack.summary.cognito.clientId,
        COGNITO_ISSUER: t.stack.summary.cognito.issuer,
        COGNITO_JWKS_URI: t.stack.summary.cognito.jwksUri,
      }),
    ).toThrow(/COGNITO_ISSUER is not allowed in aws mode[\s\S]*COGNITO_JWKS_URI is not allowed in aws mode/);
  });

  test("an aws-mode verifier rejects the local pool's genuine admin token on its issuer, even with cognito-local's key in its JWKS", async () => {
    // Prepare: the verifier an AWS deployment with the same client id would build, its JWKS seeded
    // with cognito-local's public key so that only the issuer check stands between the token and an allow
    const config = parseAuthorizerConfig(
      {
        MLFLOW_GATE_MODE: "aws",
        AWS_REGION: "us-east-1",
        COGNITO_USER_POOL_ID: "us-east-1_AbCdEfGhI",
        COGNITO_CLIENT_ID: t.stack.summary.cognito.clientId,
      },
      "/x/policy-bundle.json",
    );
    const publicJwk = {
      ...(createPublicKey(poolKey).export({ format: "jwk" }) as { kty: string; n: string; e: string }),
      kid: POOL_KID,
      alg: "RS256",
      use: "sig",
    };
    const jwksCache = new SimpleJwksCache({
      fetcher: { fetch: async () => Promise.reject(new Error("no network in this test")) },
    });
    jwksCache.addJwks(config.jwksUri, { keys: [publicJwk] });
    const verifier = createTokenVerifier(config, { jwksCache });
    // Act
    const outcome = await verifier.verify(adminToken).then(
      () => "accepted",
      (e: Error) => e.constructor.name,
    );
    // Assess
    expect(outcome).toBe("JwtInvalidIssuerError");
  });
});

test("no token, signature or claim set ever reaches the access log", () => {
  const log = JSON.stringify(t.accessLog);
  for (const token of [adminToken, readerToken, adminIdToken]) {
    for (const part of token.split(".").slice(1)) expect(log).not.toContain(part);
  }
});
