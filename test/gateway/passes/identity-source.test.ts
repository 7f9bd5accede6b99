import { parseIdentitySources } from "../../../gateway/api-model";
import { identitySourcePass, identitySourceValues } from "../../../gateway/passes/identity-source";
import { readTarget, Target } from "../../../gateway/passes/target";

// What the gateway answers before it reads a body: the headers and query alone decide (no network).

/** A request's head: its method, headers (rawHeaders as sent, headers as Node lower-cases them), target, resource. */
function head(
  pairs: [string, string][],
  url = "/api/2.0/mlflow/runs/search",
  method = "POST",
  resourcePath = "/ajax-api/2.0/mlflow/runs/{proxy+}",
) {
  const req = {
    method,
    rawHeaders: pairs.flat(),
    headers: Object.fromEntries(pairs.map(([name, value]) => [name.toLowerCase(), value])),
    socket: { remoteAddress: "::ffff:10.1.2.3" },
  };
  return { req, target: readTarget(url) as Target, resourcePath };
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
      const r = identitySourcePass(head(pairs, "/ajax-api/2.0/mlflow/runs/search"), "cognito");
      // Assess
      expect(r).toEqual({ stop: { answer: UNAUTHORIZED, decision: "unauthorized", reason: "no-token" } });
    },
  );

  test("a Cognito route with a token goes on to the body and the authorizer, whatever the token", () => {
    const request = head([["Authorization", "Bearer not-even-a-jwt"]], "/ajax-api/2.0/mlflow/runs/search");
    expect(identitySourcePass(request, "cognito")).toBeUndefined();
  });

  test("an IAM route with neither an Authorization header nor a presigned query: 403 Missing Authentication Token", () => {
    // Act
    const r = identitySourcePass(
      head([["Content-Type", "application/json"]], "/api/2.0/mlflow/runs/search?x=1"),
      "iam",
    );
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
      expect(identitySourcePass(head(pairs, `/api/2.0/mlflow/runs/search${query}`), "iam")).toBeUndefined();
    },
  );

  test("a public route needs no credentials", () => {
    expect(identitySourcePass(head([], "/health"), "none")).toBeUndefined();
  });

  test.each([
    ["the header missing", [], "?token=t"],
    ["the header empty", [["X-Token", ""]], "?token=t"],
    ["the query parameter missing", [["X-Token", "t"]], "?other=t"],
    ["the query parameter empty", [["X-Token", "t"]], "?token="],
    ["the query parameter without a value", [["X-Token", "t"]], "?token"],
  ] as [string, [string, string][], string][])(
    "an authorizer with a header and a query parameter among its sources, %s: 401, whatever the others",
    (_name, pairs, query) => {
      // Prepare
      const sources = parseIdentitySources(
        "method.request.header.X-Token, method.request.querystring.token, context.httpMethod",
      );
      // Act
      const r = identitySourcePass(head(pairs, `/ajax-api/2.0/mlflow/runs/search${query}`), "cognito", sources);
      // Assess
      expect(r).toEqual({ stop: { answer: UNAUTHORIZED, decision: "unauthorized", reason: "no-token" } });
    },
  );

  test("a stage variable as identity source is always missing: the emulator's stage has none", () => {
    const request = head([["Authorization", "Bearer t"]], "/ajax-api/2.0/mlflow/runs/search");
    expect(identitySourcePass(request, "cognito", parseIdentitySources("stageVariables.v"))).toMatchObject({
      stop: { answer: UNAUTHORIZED },
    });
  });
});

describe("identitySourceValues", () => {
  test("the deployed sources: the token, the request's own verb, the matched resource's template", () => {
    // Act
    const values = identitySourceValues(
      parseIdentitySources("method.request.header.Authorization, context.httpMethod, context.resourcePath"),
      head([["authorization", "Bearer t"]], "/ajax-api/2.0/mlflow/runs/search", "POST"),
    );
    // Assess
    expect(values).toEqual(["Bearer t", "POST", "/ajax-api/2.0/mlflow/runs/{proxy+}"]);
  });

  test("a header's first value in any case, a query parameter's last, the path and the source address", () => {
    // Act
    const values = identitySourceValues(
      parseIdentitySources(
        "method.request.header.X-Token, method.request.querystring.q, context.path, context.identity.sourceIp",
      ),
      head(
        [
          ["x-token", "first"],
          ["X-Token", "second"],
        ],
        "/ajax-api/2.0/mlflow/runs/search?q=a&q=b",
      ),
    );
    // Assess
    expect(values).toEqual(["first", "b", "/ajax-api/2.0/mlflow/runs/search", "10.1.2.3"]);
  });
});
