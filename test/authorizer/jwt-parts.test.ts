import fc from "fast-check";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import { decomposeJwt } from "../../authorizer/jwt-parts";

// decomposeJwt must give exactly what aws-jwt-verify's decomposeUnverifiedJwt gives, parts or error, for any input:
// the authorizer's checks read these parts.

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");
const jwtOf = (header: string, payload: string, signature = "c2ln") => `${b64(header)}.${b64(payload)}.${signature}`;

/** What a decomposition gives: its parts, or its error's class and message. */
function outcome(decompose: (jwt: unknown) => unknown, jwt: unknown): unknown {
  try {
    return { parts: decompose(jwt) };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const same = (jwt: unknown) => expect(outcome(decomposeJwt, jwt)).toEqual(outcome(decomposeUnverifiedJwt, jwt));

describe("decomposeJwt", () => {
  test("a Cognito-like access token: the same parts", () => {
    const header = JSON.stringify({ kid: "k1", alg: "RS256" });
    const payload = JSON.stringify({
      sub: "a1b2",
      "cognito:groups": ["readers"],
      iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
      client_id: "c",
      token_use: "access",
      scope: "aws.cognito.signin.user.admin",
      exp: 2_000_000_000,
      iat: 1_900_000_000,
      jti: "j",
      username: "alice",
    });
    same(jwtOf(header, payload));
    expect(decomposeJwt(jwtOf(header, payload)).payload.username).toBe("alice");
  });

  test.each([
    ["__proto__ in the payload", '{"kid":"k"}', '{"__proto__":{"admin":true},"sub":"x"}'],
    ["constructor in the header", '{"kid":"k","constructor":{"x":1}}', '{"sub":"x"}'],
    ["an escape that spells __proto__", '{"kid":"k"}', '{"\\u005f_proto__":{"a":1},"sub":"x"}'],
    ["nested __proto__", '{"kid":"k"}', '{"a":{"__proto__":{"b":1}}}'],
    ["a payload that is an array", '{"kid":"k"}', "[1,2]"],
    ["a payload that is null", '{"kid":"k"}', "null"],
    ["a header alg that is a number", '{"alg":5}', '{"sub":"x"}'],
    ["a kid that is an object", '{"kid":{}}', '{"sub":"x"}'],
    ["exp as a string", '{"kid":"k"}', '{"exp":"1"}'],
    ["aud with a number", '{"kid":"k"}', '{"aud":["a",1]}'],
    ["scope as an array", '{"kid":"k"}', '{"scope":["a"]}'],
    ["not JSON", '{"kid":"k"', '{"sub":"x"}'],
  ])("%s: the library's outcome", (_case, header, payload) => {
    same(jwtOf(header, payload));
  });

  test.each([
    ["padding", `${b64('{"kid":"k"}')}==.${b64('{"sub":"x"}')}.c2ln`],
    ["two parts", `${b64('{"kid":"k"}')}.${b64('{"sub":"x"}')}`],
    ["an empty string", ""],
    ["not a string", 42],
    ["spaces", "a b.c.d"],
  ])("%s: the library's outcome", (_case, jwt) => {
    same(jwt);
  });

  test("any JSON header and payload: the library's outcome", () => {
    const text = fc.oneof(
      fc.json(),
      fc
        .dictionary(
          fc.oneof(
            fc.constantFrom("alg", "kid", "exp", "iss", "sub", "aud", "nbf", "iat", "scope", "jti", "__proto__"),
            fc.constantFrom("constructor", "cognito:groups", "username"),
            fc.string(),
          ),
          fc.jsonValue(),
        )
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(text, text, (header, payload) => {
        same(jwtOf(header, payload));
      }),
      { numRuns: 2000 },
    );
  });
});
