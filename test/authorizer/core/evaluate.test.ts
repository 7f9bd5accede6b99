import { arnMatches, evaluatePolicies, parsePolicyDocument } from "../../../authorizer/core/evaluate";
import { UnsupportedPolicyError } from "../../../authorizer/core/errors";

const PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod";
const arn = (verbPath: string) => `${PREFIX}/${verbPath}`;
const allow = (...resources: string[]) => ({ Effect: "Allow", Action: "execute-api:Invoke", Resource: resources });
const deny = (...resources: string[]) => ({ Effect: "Deny", Action: "execute-api:Invoke", Resource: resources });

describe("evaluatePolicies", () => {
  test("an Allow that matches allows; nothing that matches is an implicit deny", () => {
    const doc = { Version: "2012-10-17", Statement: [allow(arn("GET/api/*"))] };
    expect(
      evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("GET/api/2.0/mlflow/runs/get")).decision,
    ).toBe("Allow");
    expect(
      evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("POST/api/2.0/mlflow/runs/create"))
        .decision,
    ).toBe("ImplicitDeny");
  });

  test("an explicit Deny wins over any Allow, in any order and across documents", () => {
    const allowAll = parsePolicyDocument({ Statement: [allow(`${PREFIX}/*`)] });
    const denyOne = parsePolicyDocument({ Statement: deny(arn("POST/api/2.0/mlflow/runs/delete")) });
    expect(
      evaluatePolicies([allowAll, denyOne], "execute-api:Invoke", arn("POST/api/2.0/mlflow/runs/delete")).decision,
    ).toBe("ExplicitDeny");
    expect(
      evaluatePolicies([denyOne, allowAll], "execute-api:Invoke", arn("POST/api/2.0/mlflow/runs/delete")).decision,
    ).toBe("ExplicitDeny");
    expect(
      evaluatePolicies([denyOne, allowAll], "execute-api:Invoke", arn("POST/api/2.0/mlflow/runs/create")).decision,
    ).toBe("Allow");
  });

  test("actions match case-insensitively with wildcards; resources case-sensitively", () => {
    const doc = { Statement: [{ Effect: "Allow", Action: "Execute-API:*", Resource: arn("GET/api/x") }] };
    expect(evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("GET/api/x")).decision).toBe("Allow");
    expect(evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("GET/API/x")).decision).toBe(
      "ImplicitDeny",
    );
    expect(evaluatePolicies([parsePolicyDocument(doc)], "s3:GetObject", arn("GET/api/x")).decision).toBe(
      "ImplicitDeny",
    );
  });

  test("ARN components are matched one by one; the last keeps its colons", () => {
    expect(arnMatches("arn:aws:execute-api:*:*:abcdef1234/prod/GET/*", arn("GET/a:b/c"))).toBe(true);
    expect(
      arnMatches(
        "arn:aws:execute-api:*:*:abcdef1234/prod/GET/*",
        "arn:aws:execute-api:us-east-1:123456789012:other/prod/GET/x",
      ),
    ).toBe(false);
    expect(arnMatches("arn:aws:execute-api:eu-*:*:*", arn("GET/x"))).toBe(false);
    expect(arnMatches("*", arn("GET/x"))).toBe(true);
    expect(arnMatches("not-an-arn", arn("GET/x"))).toBe(false);
  });

  test("NotResource and NotAction invert their match", () => {
    const doc = {
      Statement: [
        { Effect: "Allow", Action: "execute-api:Invoke", NotResource: arn("DELETE/*") },
        { Effect: "Deny", NotAction: "execute-api:Invoke", Resource: "*" },
      ],
    };
    expect(evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("GET/x")).decision).toBe("Allow");
    expect(evaluatePolicies([parsePolicyDocument(doc)], "execute-api:Invoke", arn("DELETE/x")).decision).toBe(
      "ImplicitDeny",
    );
    expect(evaluatePolicies([parsePolicyDocument(doc)], "execute-api:ManageConnections", arn("GET/x")).decision).toBe(
      "ExplicitDeny",
    );
  });

  test("features it does not implement are refused, never guessed", () => {
    const withCondition = {
      Statement: [{ ...allow("*"), Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }],
    };
    expect(() => evaluatePolicies([parsePolicyDocument(withCondition)], "execute-api:Invoke", arn("GET/x"))).toThrow(
      UnsupportedPolicyError,
    );
    expect(() => parsePolicyDocument({ Statement: [{ Effect: "Maybe", Action: "*", Resource: "*" }] })).toThrow(
      UnsupportedPolicyError,
    );
    expect(() => parsePolicyDocument({ Statement: [{ Effect: "Allow", Resource: "*" }] })).toThrow(
      UnsupportedPolicyError,
    );
    expect(() => parsePolicyDocument({ Version: "2008-10-17", Statement: [] })).toThrow(UnsupportedPolicyError);
    expect(() => parsePolicyDocument(null)).toThrow(UnsupportedPolicyError);
  });
});
