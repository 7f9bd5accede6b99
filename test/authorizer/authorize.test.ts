import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { join } from "path";
import { createAuthorizer, DecisionLogger } from "../../authorizer/authorize";
import { createDecisionLog } from "../../authorizer/decision-log";
import { apiResourcesOf } from "../../authorizer/core/decide-request";
import { evaluatePolicies, parsePolicyDocument } from "../../authorizer/core/evaluate";
import { PolicySet } from "../../authorizer/core/policy-set";
import { loadPolicySet } from "../../authorizer/load-policies";
import { createTokenVerifier } from "../../authorizer/token";
import {
  accessClaims,
  accessToken,
  CLIENT_ID,
  createSigningKey,
  idClaims,
  ISSUER,
  JWKS_URI,
  jwksOf,
  METHOD_ARN_PREFIX,
  requestEvent,
  seededJwksCache,
  signHs256WithPublicKey,
  signJwt,
  SigningKey,
} from "./support/tokens";

const ROOT = join(__dirname, "..", "..");
const policySet = loadPolicySet(join(ROOT, "policies", "mlflow-routes.json"), join(ROOT, "policies", "groups"));
const key = createSigningKey();
const SUB = accessClaims().sub as string;
const now = (): number => Math.floor(Date.now() / 1000);

/** A logger that keeps each call as the JSON line the decision log would print. */
function recordingLogger(): DecisionLogger & { lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, attributes: Record<string, unknown>) =>
    lines.push(JSON.stringify({ level, message, ...attributes }));
  return { lines, info: push("INFO"), error: push("ERROR"), records: () => lines.map((l) => JSON.parse(l)) };
}

function setup(options: { policySet?: PolicySet; keys?: SigningKey[]; logger?: DecisionLogger } = {}) {
  const { jwksCache, fetches } = seededJwksCache(jwksOf(...(options.keys ?? [key])));
  const logger = recordingLogger();
  const authorize = createAuthorizer({
    config: { maxTokenBytes: 8192 },
    policySet: options.policySet ?? policySet,
    verifier: createTokenVerifier({ issuer: ISSUER, jwksUri: JWKS_URI, clientIds: [CLIENT_ID] }, { jwksCache }),
    logger: options.logger ?? logger,
  });
  return { authorize, logger, fetches };
}

const bearer = (token: string): APIGatewayRequestAuthorizerEvent => requestEvent({ authorization: `Bearer ${token}` });

/** The event API Gateway sends for `VERB /path`: its methodArn and the API resource the path matches. */
function eventFor(token: string, request: string): APIGatewayRequestAuthorizerEvent {
  const [method, path] = request.split(" ") as [string, string];
  const resource = apiResourcesOf(policySet.catalog.routes).resolve(method, path)?.resourcePath;
  if (!resource) throw new Error(`the API has no method for ${request}`);
  return requestEvent({
    authorization: `Bearer ${token}`,
    methodArn: `${METHOD_ARN_PREFIX}${method}${path}`,
    resource,
  });
}

/** The decision API Gateway takes for a request under the returned policy. */
function decisionFor(result: APIGatewayAuthorizerResult, request: string, arnPrefix = METHOD_ARN_PREFIX): string {
  const [method, path] = request.split(" ") as [string, string];
  return evaluatePolicies(
    [parsePolicyDocument(result.policyDocument)],
    "execute-api:Invoke",
    `${arnPrefix}${method}${path}`,
  ).decision;
}

async function rejectionOf(outcome: Promise<unknown>): Promise<unknown> {
  return outcome.then(
    () => {
      throw new Error("expected the authorizer to reject");
    },
    (e: unknown) => e,
  );
}

/** API Gateway answers 401 only for exactly this rejection. */
async function expectUnauthorized(outcome: Promise<unknown>): Promise<void> {
  const e = await rejectionOf(outcome);
  expect(e).toBeInstanceOf(Error);
  expect((e as Error).message).toBe("Unauthorized");
}

describe("createAuthorizer: allow", () => {
  it("gives a reader the reading routes and nothing else", async () => {
    // Prepare
    const { authorize } = setup();
    const token = accessToken(key, { "cognito:groups": ["readers"] });
    const decide = async (request: string) => decisionFor(await authorize(eventFor(token, request)), request);
    // Act, Assess
    expect(await decide("POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
    expect(await decide("GET /ajax-api/2.0/mlflow/experiments/get")).toBe("Allow");
    expect(await decide("POST /ajax-api/2.0/mlflow/runs/delete")).not.toBe("Allow");
    expect(await decide("POST /ajax-api/2.0/mlflow/model-versions/transition-stage")).not.toBe("Allow");
    expect(await decide("POST /ajax-api/2.0/mlflow/webhooks")).not.toBe("Allow");
  });

  it("decides a repeated request alike, for each group set on its own, and verifies every token every time", async () => {
    // Prepare: one warm authorizer, the same request from a reader, an admin, the reader again, an expired token
    const { authorize, logger } = setup();
    const request = "POST /ajax-api/2.0/mlflow/experiments/create";
    const reader = accessToken(key, { "cognito:groups": ["readers"] });
    const admin = accessToken(key, { "cognito:groups": ["admins"] });
    const expired = accessToken(key, { "cognito:groups": ["admins"], exp: now() - 5 });
    // Act
    const first = decisionFor(await authorize(eventFor(reader, request)), request);
    const byAdmin = decisionFor(await authorize(eventFor(admin, request)), request);
    const again = decisionFor(await authorize(eventFor(reader, request)), request);
    const late = await authorize(eventFor(expired, request)).catch((e: Error) => e.message);
    // Assess
    expect([first, byAdmin, again, late]).toEqual(["ImplicitDeny", "Allow", "ImplicitDeny", "Unauthorized"]);
    expect(logger.records().map((r) => [r.decision, r.reason])).toEqual([
      ["deny", "not-allowed"],
      ["allow", undefined],
      ["deny", "not-allowed"],
      ["unauthorized", "JwtExpiredError"],
    ]);
  });

  it("answers with the subject, and the username and groups as string context", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, { username: "alice" })));
    // Assess
    expect(result.principalId).toBe(SUB);
    expect(result.context).toEqual({ username: "alice", groups: "readers", tokenUse: "access" });
  });

  it("decides every request of its verb under its API resource, not only the methodArn (API Gateway caches it per token, verb and resource)", async () => {
    // Prepare: a reader's answer for one read under /ajax-api/2.0/mlflow/experiments/{proxy+}
    const { authorize } = setup();
    // Act
    const result = await authorize(eventFor(accessToken(key), "GET /ajax-api/2.0/mlflow/experiments/get"));
    // Assess: the other requests of that key, as the whole policy decides them
    expect(decisionFor(result, "GET /ajax-api/2.0/mlflow/experiments/get")).toBe("Allow");
    expect(decisionFor(result, "GET /ajax-api/2.0/mlflow/experiments/get-by-name")).toBe("Allow");
    expect(decisionFor(result, "GET /ajax-api/2.0/mlflow/experiments/unknown-to-mlflow")).not.toBe("Allow");
  });

  it("allows nothing outside its key, even what the groups may call: applied elsewhere it can only deny more", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(eventFor(accessToken(key), "POST /ajax-api/2.0/mlflow/runs/search"));
    // Assess: readers may call these, but under other keys
    expect(decisionFor(result, "GET /ajax-api/2.0/mlflow/experiments/get")).not.toBe("Allow");
    expect(decisionFor(result, "POST /graphql")).not.toBe("Allow");
    expect(result.policyDocument.Statement.flatMap((s) => ("Resource" in s ? s.Resource : [])).length).toBeLessThan(
      policySet.resourcesFor(["readers"], "cognito").allow.length,
    );
  });

  it.each([
    ["missing", undefined],
    ["not a template", "/ajax-api/{broken"],
    ["not a string", 42],
  ])("denies everything when the event's resource is %s", async (_what, resource) => {
    // Prepare
    const { authorize, logger } = setup();
    const event = {
      ...eventFor(accessToken(key), "POST /ajax-api/2.0/mlflow/runs/search"),
      resource,
    } as unknown as APIGatewayRequestAuthorizerEvent;
    // Act
    const result = await authorize(event);
    // Assess
    expect(result.policyDocument.Statement.every((s) => s.Effect === "Deny")).toBe(true);
    expect(logger.records()).toMatchObject([{ decision: "deny", reason: "malformed-resource" }]);
  });

  it("scopes the policy to the methodArn's API: any region, account and stage", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key)));
    // Assess
    expect(
      decisionFor(
        result,
        "POST /ajax-api/2.0/mlflow/runs/search",
        "arn:aws:execute-api:eu-west-1:210987654321:abc123defg/prod/",
      ),
    ).toBe("Allow");
    expect(
      decisionFor(
        result,
        "POST /ajax-api/2.0/mlflow/runs/search",
        "arn:aws:execute-api:us-east-1:123456789012:abc123defg/dev/",
      ),
    ).toBe("Allow");
    expect(
      decisionFor(
        result,
        "POST /ajax-api/2.0/mlflow/runs/search",
        "arn:aws:execute-api:us-east-1:123456789012:otherapi00/prod/",
      ),
    ).not.toBe("Allow");
  });

  it("gives an admin every route of the UI, including admin ones", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, { "cognito:groups": ["admins"] })));
    // Assess
    expect(result.context?.groups).toBe("admins");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/delete")).toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/webhooks")).toBe("Allow");
    expect(decisionFor(result, "DELETE /ajax-api/2.0/mlflow/registered-models/delete")).toBe("Allow");
  });

  it("lets a model approver promote and register models, but not delete them or write runs", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, { "cognito:groups": ["model-approvers"] })));
    // Assess
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/model-versions/transition-stage")).toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/registered-models/create")).toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
    expect(decisionFor(result, "DELETE /ajax-api/2.0/mlflow/registered-models/delete")).not.toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/delete")).not.toBe("Allow");
  });

  it("unites several groups: readers + model-approvers may transition stages", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, { "cognito:groups": ["readers", "model-approvers"] })));
    // Assess
    expect(result.context?.groups).toBe("model-approvers,readers");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/model-versions/transition-stage")).toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
  });

  it("ignores unknown groups beside a known one", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, { "cognito:groups": ["superusers", "readers"] })));
    // Assess
    expect(result.context?.groups).toBe("readers");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/delete")).not.toBe("Allow");
  });

  it("reads a lowercase authorization header", async () => {
    // Prepare
    const { authorize } = setup();
    const event = requestEvent({ headers: { authorization: `Bearer ${accessToken(key)}` } });
    // Act
    const result = await authorize(event);
    // Assess
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
  });
});

describe("createAuthorizer: 401", () => {
  const otherKey = createSigningKey();
  const valid = (): string => accessToken(key);
  const withPayload = (token: string, claims: Record<string, unknown>): string => {
    const [header, , signature] = token.split(".");
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
  };

  it.each<[string, () => APIGatewayRequestAuthorizerEvent, string]>([
    ["no Authorization header", () => requestEvent(), "missing-token"],
    [
      "an id token",
      () => bearer(signJwt({ alg: "RS256", kid: key.kid }, idClaims(), key.privateKey)),
      "CognitoJwtInvalidTokenUseError",
    ],
    ["an expired token", () => bearer(accessToken(key, { exp: now() - 5 })), "JwtExpiredError"],
    [
      "a token not valid before a future time",
      () => bearer(accessToken(key, { nbf: now() + 600 })),
      "JwtNotBeforeError",
    ],
    [
      "another issuer",
      () => bearer(accessToken(key, { iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" })),
      "JwtInvalidIssuerError",
    ],
    [
      "another app client",
      () => bearer(accessToken(key, { client_id: "someoneelsesclient" })),
      "CognitoJwtInvalidClientIdError",
    ],
    [
      "alg none without a signature",
      () => bearer(signJwt({ alg: "none", kid: key.kid }, accessClaims(), undefined)),
      "malformed-token",
    ],
    [
      "alg none with a signature",
      () =>
        bearer(
          withPayload(signJwt({ alg: "none", kid: key.kid }, {}, undefined) + valid().split(".")[2], accessClaims()),
        ),
      "JwtInvalidSignatureAlgorithmError",
    ],
    [
      "HS256 signed with the public key as secret",
      () => bearer(signHs256WithPublicKey({ kid: key.kid }, accessClaims(), key)),
      "JwtInvalidSignatureAlgorithmError",
    ],
    [
      "a tampered payload",
      () => bearer(withPayload(valid(), accessClaims({ "cognito:groups": ["admins"] }))),
      "JwtInvalidSignatureError",
    ],
    [
      "a signature of another key",
      () => bearer(signJwt({ alg: "RS256", kid: key.kid }, accessClaims(), otherKey.privateKey)),
      "JwtInvalidSignatureError",
    ],
    ["no kid", () => bearer(signJwt({ alg: "RS256" }, accessClaims(), key.privateKey)), "JwtWithoutValidKidError"],
    [
      "an oversized Authorization header",
      () => bearer(`${"a".repeat(20)}.${"b".repeat(9000)}.${"c".repeat(20)}`),
      "token-too-large",
    ],
    [
      "two Authorization headers",
      () =>
        requestEvent({
          headers: { Authorization: `Bearer ${valid()}` },
          multiValueHeaders: { Authorization: [`Bearer ${valid()}`, `Bearer ${valid()}`] },
        }),
      "duplicate-authorization",
    ],
    ["a Basic credential", () => requestEvent({ authorization: "Basic YWxpY2U6cGFzc3dvcmQ=" }), "not-bearer"],
  ])("rejects %s", async (_, makeEvent, reason) => {
    // Prepare
    const { authorize, logger } = setup();
    // Act
    const outcome = authorize(makeEvent());
    // Assess
    await expectUnauthorized(outcome);
    expect(logger.records()).toEqual([
      {
        level: "INFO",
        message: "authorizer decision",
        decision: "unauthorized",
        reason,
        methodArn: `${METHOD_ARN_PREFIX}POST/ajax-api/2.0/mlflow/runs/search`,
        requestId: "req-0001",
      },
    ]);
  });

  it("rejects an event that is not an authorizer event at all", async () => {
    // Prepare
    const { authorize } = setup();
    // Act
    const outcome = authorize(null as unknown as APIGatewayRequestAuthorizerEvent);
    // Assess
    await expectUnauthorized(outcome);
  });

  it("rejects tokens of an unknown kid, fetching the JWKS at most once however many arrive", async () => {
    // Prepare
    const { authorize, fetches, logger } = setup();
    const stranger = createSigningKey("not-in-the-jwks");
    const events = Array.from({ length: 25 }, () => bearer(accessToken(stranger)));
    // Act
    const concurrent = await Promise.all(events.slice(0, 10).map((e) => rejectionOf(authorize(e))));
    const sequential: unknown[] = [];
    for (const e of events.slice(10)) sequential.push(await rejectionOf(authorize(e)));
    // Assess
    for (const e of [...concurrent, ...sequential]) expect((e as Error).message).toBe("Unauthorized");
    expect(fetches()).toBeLessThanOrEqual(1);
    expect(new Set(logger.records().map((r) => r.reason))).toEqual(
      new Set(["KidNotFoundInJwksError", "WaitPeriodNotYetEndedJwkError"]),
    );
  });

  it("still accepts tokens of a known kid while an unknown kid is in the penalty box", async () => {
    // Prepare
    const { authorize } = setup();
    await rejectionOf(authorize(bearer(accessToken(createSigningKey("unknown")))));
    // Act
    const result = await authorize(bearer(accessToken(key)));
    // Assess
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
  });
});

describe("createAuthorizer: 403", () => {
  const denyAll = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:*:*:abc123defg/*/*" }],
  };

  it.each<[string, Record<string, unknown>]>([
    ["no groups claim", { "cognito:groups": undefined }],
    ["only an unknown group", { "cognito:groups": ["superusers"] }],
    ["an empty groups claim", { "cognito:groups": [] }],
    ["groups that are not a list", { "cognito:groups": "admins" }],
    ["groups that are not all strings", { "cognito:groups": ["admins", 7] }],
  ])("denies everything to a valid token with %s", async (_, claims) => {
    // Prepare
    const { authorize, logger } = setup();
    // Act
    const result = await authorize(bearer(accessToken(key, claims)));
    // Assess
    expect(result.policyDocument).toEqual(denyAll);
    expect(result.principalId).toBe(SUB);
    expect(result.context).toEqual({ username: "alice", groups: "", tokenUse: "access" });
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("ExplicitDeny");
    expect(logger.records()).toMatchObject([
      { decision: "deny", reason: "no-known-group", principal: SUB, groups: [] },
    ]);
  });

  it.each(["not-an-arn", `${METHOD_ARN_PREFIX}`.replace("123456789012", "12345"), ""])(
    "denies everything for the malformed methodArn %j",
    async (methodArn) => {
      // Prepare
      const { authorize, logger } = setup();
      const event = { ...bearer(accessToken(key, { "cognito:groups": ["admins"] })), methodArn };
      // Act
      const result = await authorize(event);
      // Assess
      expect(result.policyDocument).toEqual({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: "*" }],
      });
      expect(logger.records()).toMatchObject([{ decision: "deny", reason: "malformed-method-arn", principal: SUB }]);
    },
  );

  it("denies everything, and logs an error, when something fails after the token was verified", async () => {
    // Prepare
    const failing = Object.create(policySet) as PolicySet;
    failing.authorizerAnswer = () => {
      throw new TypeError("compile exploded");
    };
    const { authorize, logger } = setup({ policySet: failing });
    // Act
    const result = await authorize(bearer(accessToken(key, { "cognito:groups": ["admins"] })));
    // Assess
    expect(result.policyDocument).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "execute-api:Invoke", Resource: "*" }],
    });
    expect(logger.records()).toMatchObject([
      { level: "ERROR", decision: "deny", reason: "TypeError", error: "compile exploded", principal: SUB },
    ]);
  });

  it("keeps its decisions when the logger itself throws", async () => {
    // Prepare
    const broken: DecisionLogger = {
      info: () => {
        throw new Error("log sink down");
      },
      error: () => {
        throw new Error("log sink down");
      },
    };
    const { authorize } = setup({ logger: broken });
    // Act
    const allowed = await authorize(bearer(accessToken(key)));
    const unauthorized = authorize(requestEvent());
    // Assess
    expect(decisionFor(allowed, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
    await expectUnauthorized(unauthorized);
  });
});

describe("createAuthorizer: logs", () => {
  it("writes one line per decision with fixed keys", async () => {
    // Prepare
    const { authorize, logger } = setup();
    // Act
    await authorize(bearer(accessToken(key, { "cognito:groups": ["readers", "ghosts"] })));
    // Assess
    expect(logger.records()).toEqual([
      {
        level: "INFO",
        message: "authorizer decision",
        decision: "allow",
        principal: SUB,
        username: "alice",
        groups: ["readers"],
        methodArn: `${METHOD_ARN_PREFIX}POST/ajax-api/2.0/mlflow/runs/search`,
        requestId: "req-0001",
      },
    ]);
  });

  it("explains the request that invoked it, in the gateway's reason codes, while the answer still covers every request of its key", async () => {
    // Prepare: a reader's first request is one readers may not make
    const { authorize, logger } = setup();
    const event = eventFor(accessToken(key), "POST /ajax-api/2.0/mlflow/runs/delete");
    // Act
    const result = await authorize(event);
    // Assess
    expect(logger.records()).toMatchObject([{ decision: "deny", reason: "not-allowed", groups: ["readers"] }]);
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/delete")).not.toBe("Allow");
    expect(decisionFor(result, "POST /ajax-api/2.0/mlflow/runs/search")).toBe("Allow");
  });

  it("never contains a token or its signature, whatever the outcome", async () => {
    // Prepare
    const { authorize, logger } = setup();
    const tokens = [
      accessToken(key),
      accessToken(key, { exp: now() - 5 }),
      accessToken(key, { "cognito:groups": ["nobody"] }),
      accessToken(createSigningKey("unknown"), {}),
      signHs256WithPublicKey({ kid: key.kid }, accessClaims(), key),
    ];
    const events = [
      ...tokens.map(bearer),
      { ...bearer(tokens[0]!), methodArn: "garbage" },
      requestEvent({ headers: { Authorization: `Bearer ${tokens[0]}`, authorization: `Bearer ${tokens[1]}` } }),
      requestEvent({ authorization: `Token ${tokens[0]}` }),
    ];
    // Act
    for (const e of events) await authorize(e).catch(() => undefined);
    // Assess
    expect(logger.lines).toHaveLength(events.length);
    const output = logger.lines.join("\n");
    for (const t of tokens) {
      expect(output).not.toContain(t);
      expect(output).not.toContain(t.split(".")[2]);
      expect(output).not.toContain(t.split(".")[1]);
    }
  });

  it("keeps the Lambda's JSON log lines free of tokens too", async () => {
    // Prepare
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const { authorize } = setup({ logger: createDecisionLog({ service: "mlflow-gate-authorizer" }) });
    const token = accessToken(key);
    const expired = accessToken(key, { exp: now() - 5 });
    // Act
    try {
      await authorize(bearer(token));
      await authorize(bearer(expired)).catch(() => undefined);
    } finally {
      spy.mockRestore();
    }
    // Assess
    const lines = written
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { level: "INFO", service: "mlflow-gate-authorizer", decision: "allow", principal: SUB, groups: ["readers"] },
      { level: "INFO", service: "mlflow-gate-authorizer", decision: "unauthorized", reason: "JwtExpiredError" },
    ]);
    for (const t of [token, expired]) expect(written.join("")).not.toContain(t.split(".")[2]);
  });
});
