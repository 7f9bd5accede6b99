import fc from "fast-check";
import { createAuthorizer, DecisionLogger } from "../../authorizer/authorize";
import { parseMethodArn } from "../../authorizer/core/method-arn";
import { authorizerScope } from "../../authorizer/core/policy-set";
import { parsePolicyDocument } from "../../authorizer/core/evaluate";
import { loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import {
  accessClaims,
  createSigningKey,
  METHOD_ARN_PREFIX,
  requestEvent,
  signJwt,
  seededVerifier,
} from "./support/tokens";

// Properties over random input: whatever arrives, the authorizer answers 401 (rejects with exactly
// "Unauthorized") or returns a well-formed policy that grants no more than the token's known groups.

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const key = createSigningKey();
const lines: string[] = [];
const logger: DecisionLogger = {
  info: (m, a) => void lines.push(JSON.stringify({ m, ...a })),
  error: (m, a) => void lines.push(JSON.stringify({ m, ...a })),
};
const authorize = createAuthorizer({
  config: { maxTokenBytes: 8192 },
  policySet,
  verifier: seededVerifier(key),
  logger,
});

async function outcomeOf(
  event: unknown,
): Promise<{ rejected: unknown } | { result: Awaited<ReturnType<typeof authorize>> }> {
  try {
    return { result: await authorize(event as Parameters<typeof authorize>[0]) };
  } catch (rejected) {
    return { rejected };
  }
}

const isUnauthorized = (e: unknown) => e instanceof Error && e.message === "Unauthorized";
const methodArns = fc.oneof(
  fc.constantFrom(
    `${METHOD_ARN_PREFIX}GET/ajax-api/2.0/mlflow/experiments/get`,
    `${METHOD_ARN_PREFIX}POST/graphql`,
    `${METHOD_ARN_PREFIX}DELETE/`,
  ),
  fc.string().map((s) => `${METHOD_ARN_PREFIX}${s}`),
  fc.anything(),
);
const groupClaims = fc.oneof(
  fc.subarray(["admins", "readers", "model-approvers", "ghosts", "readers,admins", "ADMINS", ""]),
  fc.anything(),
);

describe("authorizer properties", () => {
  beforeEach(() => {
    lines.length = 0;
  });

  test("any event without a validly signed token is a 401", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          headers: fc.oneof(
            fc.constant(null),
            fc.dictionary(
              fc.constantFrom("Authorization", "authorization", "AUTHORIZATION", "X-Other"),
              fc.oneof(fc.string(), fc.constant("Bearer a.b.c"), fc.anything()),
            ),
          ),
          multiValueHeaders: fc.oneof(
            fc.constant(null),
            fc.constant(undefined),
            fc.dictionary(fc.constantFrom("Authorization", "authorization"), fc.array(fc.string())),
          ),
          methodArn: methodArns,
        }),
        async (event) => {
          const outcome = await outcomeOf({ type: "REQUEST", ...event });
          expect("rejected" in outcome && isUnauthorized(outcome.rejected)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("a validly signed token with any claims gets 401, or a policy no wider than its known groups", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          groups: groupClaims,
          username: fc.anything(),
          extra: fc.dictionary(fc.string(), fc.jsonValue()),
          methodArn: methodArns,
        }),
        async ({ groups, username, extra, methodArn }) => {
          // Prepare: a genuine signature over random claims
          const token = signJwt(
            { alg: "RS256", kid: key.kid },
            { ...extra, ...accessClaims({ "cognito:groups": groups, username }) },
            key.privateKey,
          );
          // Act
          const outcome = await outcomeOf({ ...requestEvent({ authorization: `Bearer ${token}` }), methodArn });
          // Assess
          if ("rejected" in outcome) {
            expect(isUnauthorized(outcome.rejected)).toBe(true);
            return;
          }
          const { policyDocument, context } = outcome.result;
          expect(() => parsePolicyDocument(policyDocument)).not.toThrow();
          const known =
            Array.isArray(groups) && groups.every((g) => typeof g === "string") ? policySet.knownGroups(groups) : [];
          const allows = policyDocument.Statement.some((s) => s.Effect === "Allow");
          if (allows) {
            const arn = parseMethodArn(methodArn);
            expect(policyDocument).toEqual(
              policySet.authorizerAnswer(known, authorizerScope(arn), { method: arn.method, resource: "/{proxy+}" }),
            );
            expect(context?.groups).toBe(known.join(","));
          } else {
            expect(policyDocument.Statement.every((s) => s.Effect === "Deny")).toBe(true);
          }
          expect(lines.join("\n")).not.toContain(token.split(".")[2]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("authorizer properties: damaged tokens and arbitrary events", () => {
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  /** The three segments decoded to bytes; tokens that decode alike carry the same signed content. */
  const decoded = (token: string): string =>
    token
      .split(".")
      .map((s) => Buffer.from(s, "base64url").toString("hex"))
      .join(".");

  type Mutation = (token: string) => string;
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.nat().map(
      (n): Mutation =>
        (tok) =>
          tok.slice(0, n % tok.length),
    ),
    fc.tuple(fc.nat(), fc.constantFrom(...B64URL)).map(
      ([n, c]): Mutation =>
        (tok) =>
          `${tok.slice(0, n % tok.length)}${c}${tok.slice((n % tok.length) + 1)}`,
    ),
    fc.nat().map(
      (n): Mutation =>
        (tok) =>
          `${tok.slice(0, n % tok.length)}${tok.slice((n % tok.length) + 1)}`,
    ),
    fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 4 })).map(
      ([n, s]): Mutation =>
        (tok) =>
          `${tok.slice(0, n % tok.length)}${s}${tok.slice(n % tok.length)}`,
    ),
    fc.constantFrom<Mutation>(
      (tok) => tok.split(".").slice(0, 2).join(".") + ".",
      (tok) => {
        const [h, p, s] = tok.split(".");
        return `${p}.${h}.${s}`;
      },
      (tok) => `${tok}.${tok.split(".")[2]}`,
      (tok) => `${tok}==`,
      (tok) => tok.replace(/\./g, ".."),
      (tok) => ` ${tok} `,
      (tok) =>
        tok
          .split(".")
          .map((s) => Buffer.from(s, "base64url").toString("base64"))
          .join("."),
    ),
  );

  test("a validly signed admin token, truncated, garbled or re-spliced, is a 401 unless it still decodes to the same token", async () => {
    const original = signJwt(
      { alg: "RS256", kid: key.kid },
      accessClaims({ "cognito:groups": ["admins"] }),
      key.privateKey,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        // Prepare
        const token = mutations.reduce((tok, m) => m(tok), original);
        // Act
        const outcome = await outcomeOf(requestEvent({ authorization: `Bearer ${token}` }));
        // Assess: a 401, or (base64url's unused trailing bits) the very token it was
        if ("rejected" in outcome) expect(isUnauthorized(outcome.rejected)).toBe(true);
        else expect(decoded(token.trim())).toBe(decoded(original));
      }),
      { numRuns: 500, seed: 2026 },
    );
  });

  test("any value at all as the event, or any field of it replaced, is a 401 without a valid token", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              type: fc.anything(),
              methodArn: methodArns,
              headers: fc.anything(),
              multiValueHeaders: fc.anything(),
              requestContext: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
        async (event) => {
          const outcome = await outcomeOf(event);
          expect("rejected" in outcome && isUnauthorized(outcome.rejected)).toBe(true);
        },
      ),
      { numRuns: 500, seed: 7 },
    );
  });
});
