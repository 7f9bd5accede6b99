import { identitySourcePass } from "../../../gateway/passes/identity-source";
import { readTarget, Target } from "../../../gateway/passes/target";

// What the gateway answers before it reads a body: the headers and query alone decide (no network).

/** A request's head: its headers (rawHeaders as sent, headers as Node lower-cases them) and its target. */
function head(pairs: [string, string][], url = "/api/2.0/mlflow/runs/search") {
  const req = {
    rawHeaders: pairs.flat(),
    headers: Object.fromEntries(pairs.map(([name, value]) => [name.toLowerCase(), value])),
  };
  return { req, target: readTarget(url) as Target };
}

const UNAUTHORIZED = { status: 401, errorType: "UnauthorizedException", message: "Unauthorized" };
const MISSING_TOKEN = {
  status: 403,
  errorType: "MissingAuthenticationTokenException",
  message: "Missing Authentication Token",
};

describe("identitySourcePass", () => {
  test.each([
    ["no Authorization header", []],
    ["an empty Authorization header", [["Authorization", ""]]],
  ] as [string, [string, string][]][])(
    "a Cognito route with %s: 401 Unauthorized, as API Gateway answers without calling the authorizer",
    (_name, pairs) => {
      // Act
      const { req, target } = head(pairs, "/ajax-api/2.0/mlflow/runs/search");
      const r = identitySourcePass(req, target, "cognito");
      // Assess
      expect(r).toEqual({ stop: { answer: UNAUTHORIZED, decision: "unauthorized", reason: "no-token" } });
    },
  );

  test("a Cognito route with a token goes on to the body and the authorizer, whatever the token", () => {
    const { req, target } = head([["Authorization", "Bearer not-even-a-jwt"]], "/ajax-api/2.0/mlflow/runs/search");
    expect(identitySourcePass(req, target, "cognito")).toBeUndefined();
  });

  test("an IAM route with neither an Authorization header nor a presigned query: 403 Missing Authentication Token", () => {
    // Act
    const { req, target } = head([["Content-Type", "application/json"]], "/api/2.0/mlflow/runs/search?x=1");
    const r = identitySourcePass(req, target, "iam");
    // Assess
    expect(r).toEqual({ stop: { answer: MISSING_TOKEN, decision: "deny", reason: "no-signature" } });
  });

  test.each([
    ["an Authorization header in any spelling", [["aUtHoRiZaTiOn", "AWS4-HMAC-SHA256 ..."]], ""],
    ["an empty Authorization header (SigV4 refuses it, after the body)", [["Authorization", ""]], ""],
    ["a presigned query", [], "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"],
    ["a presigned query in another case", [], "?x-amz-credential=AKIA"],
  ] as [string, [string, string][], string][])(
    "an IAM route with %s goes on: SigV4 needs the body",
    (_name, pairs, query) => {
      const { req, target } = head(pairs, `/api/2.0/mlflow/runs/search${query}`);
      expect(identitySourcePass(req, target, "iam")).toBeUndefined();
    },
  );

  test("a public route needs no credentials", () => {
    const { req, target } = head([], "/health");
    expect(identitySourcePass(req, target, "none")).toBeUndefined();
  });
});
