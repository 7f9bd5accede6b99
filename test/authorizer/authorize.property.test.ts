import fc from "fast-check";
import { createAuthorizer, DecisionLogger } from "../../authorizer/authorize";
import { parseMethodArn } from "../../authorizer/core/method-arn";
import { authorizerScope } from "../../authorizer/core/policy-set";
import { parsePolicyDocument } from "../../authorizer/core/evaluate";
import { loadPolicySet } from "../../authorizer/load-policies";
import { createTokenVerifier } from "../../authorizer/token";
import { CATALOG_FILE, GROUPS_DIR } from "../../scripts/lib/mlflow-env";
import { accessClaims, CLIENT_ID, createSigningKey, ISSUER, JWKS_URI, jwksOf, METHOD_ARN_PREFIX, requestEvent, seededJwksCache, signJwt } from "./support/tokens";

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
  verifier: createTokenVerifier({ issuer: ISSUER, jwksUri: JWKS_URI, clientIds: [CLIENT_ID] }, seededJwksCache(jwksOf(key))),
  logger,
});

async function outcomeOf(event: unknown): Promise<{ rejected: unknown } | { result: Awaited<ReturnType<typeof authorize>> }> {
  try {
    return { result: await authorize(event as Parameters<typeof authorize>[0]) };
  } catch (rejected) {
    return { rejected };
  }
}

const isUnauthorized = (e: unknown) => e instanceof Error && e.message === "Unauthorized";
const methodArns = fc.oneof(
  fc.constantFrom(`${METHOD_ARN_PREFIX}GET/ajax-api/2.0/mlflow/experiments/get`, `${METHOD_ARN_PREFIX}POST/graphql`, `${METHOD_ARN_PREFIX}DELETE/`),
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
          headers: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom("Authorization", "authorization", "AUTHORIZATION", "X-Other"), fc.oneof(fc.string(), fc.constant("Bearer a.b.c"), fc.anything()))),
          multiValueHeaders: fc.oneof(fc.constant(null), fc.constant(undefined), fc.dictionary(fc.constantFrom("Authorization", "authorization"), fc.array(fc.string()))),
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
        fc.record({ groups: groupClaims, username: fc.anything(), extra: fc.dictionary(fc.string(), fc.jsonValue()), methodArn: methodArns }),
        async ({ groups, username, extra, methodArn }) => {
          // Prepare: a genuine signature over random claims
          const token = signJwt({ alg: "RS256", kid: key.kid }, { ...extra, ...accessClaims({ "cognito:groups": groups, username }) }, key.privateKey);
          // Act
          const outcome = await outcomeOf({ ...requestEvent({ authorization: `Bearer ${token}` }), methodArn });
          // Assess
          if ("rejected" in outcome) {
            expect(isUnauthorized(outcome.rejected)).toBe(true);
            return;
          }
          const { policyDocument, context } = outcome.result;
          expect(() => parsePolicyDocument(policyDocument)).not.toThrow();
          const known = Array.isArray(groups) && groups.every((g) => typeof g === "string") ? policySet.knownGroups(groups) : [];
          const allows = policyDocument.Statement.some((s) => s.Effect === "Allow");
          if (allows) {
            expect(policyDocument).toEqual(policySet.authorizerPolicy(known, authorizerScope(parseMethodArn(methodArn))));
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
