import { PolicySet } from "../../../authorizer/core/policy-set";
import type { AccessLogEntry } from "../../../gateway/answer";
import type { AuditRecord } from "../../../guard/audit";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { explainRequest, findRequest, lastRefused } from "../../../scripts/lib/why";

let set: PolicySet;
beforeAll(() => {
  set = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
});

const entry = (over: Partial<AccessLogEntry>): AccessLogEntry => ({
  time: "2026-12-06T00:00:00.000Z",
  level: "warn",
  component: "gateway",
  event: "request",
  requestId: "r-1",
  extendedRequestId: "x-1",
  method: "POST",
  path: "/api/2.0/mlflow/experiments/create",
  resourcePath: "/api/2.0/mlflow/experiments/{proxy+}",
  surface: "iam",
  action: "CreateExperiment",
  principal: "mlflow-reader",
  groups: ["readers"],
  decision: "deny",
  reason: "not-allowed",
  status: 403,
  latencyMs: 1,
  ...over,
});

const decidedLine = (lines: string[]) => lines.find((l) => l.startsWith("decided"));

describe("findRequest and lastRefused", () => {
  test("a request is found by its requestId, its extendedRequestId or its authorizer call's id; the last refused one is the latest 4xx/5xx", () => {
    // Prepare
    const a = entry({
      requestId: "a",
      extendedRequestId: "xa",
      authorizer: { cached: false, status: 200, latencyMs: 1, requestId: "la" },
    });
    const b = entry({ requestId: "b", extendedRequestId: "xb", status: 200, decision: "allow" });
    // Act / Assess
    expect([findRequest([a, b], "a"), findRequest([a, b], "xa"), findRequest([a, b], "la")]).toEqual([a, a, a]);
    expect(findRequest([a, b], "zz")).toBeUndefined();
    expect(lastRefused([a, b])).toBe(a);
    expect(lastRefused([b])).toBeUndefined();
  });
});

describe("explainRequest: the enforcement point that decided", () => {
  test("an IAM denial: API Gateway, with the rule of today's files", () => {
    // Act
    const lines = explainRequest({ entry: entry({}), set });
    // Assess
    expect(decidedLine(lines)).toBe(
      "decided  by API Gateway (IAM): the caller's execute-api policy has no statement that allows it",
    );
    expect(lines.at(-1)).toMatch(/^rule {5}today's policy files deny it: no statement allows it/);
  });

  test("a decision today's files no longer give is said to have changed", () => {
    // Act: logged as a denial, but admins are allowed today.
    const lines = explainRequest({ entry: entry({ groups: ["admins"] }), set });
    // Assess
    expect(lines.at(-1)).toBe('         the request was decided "deny": the policy files have changed since');
  });

  test("a Cognito denial is the authorizer's; an Unauthorized is too; an unsigned or unknown method is API Gateway's", () => {
    // Act / Assess
    expect(decidedLine(explainRequest({ entry: entry({ surface: "cognito", username: "reader" }) }))).toMatch(
      /^decided {2}by the Lambda authorizer: the policy it returned/,
    );
    expect(
      decidedLine(
        explainRequest({ entry: entry({ decision: "unauthorized", reason: "authorizer-unauthorized", status: 401 }) }),
      ),
    ).toMatch(/^decided {2}by the Lambda authorizer: the authorizer answered Unauthorized/);
    expect(decidedLine(explainRequest({ entry: entry({ reason: "no-signature" }) }))).toMatch(
      /^decided {2}by API Gateway: this route takes SigV4-signed requests/,
    );
    expect(decidedLine(explainRequest({ entry: entry({ reason: "no-such-method" }) }))).toMatch(
      /^decided {2}by API Gateway: the API has no method/,
    );
    expect(
      decidedLine(explainRequest({ entry: entry({ surface: "cognito", reason: "unknown-route", method: "DELETE" }) })),
    ).toMatch(
      /^decided {2}by the Lambda authorizer: the policy it returned for the caller's groups allows nothing here/,
    );
    expect(decidedLine(explainRequest({ entry: entry({ reason: "something-new" }) }))).toBe(
      "decided  by API Gateway: deny (something-new)",
    );
  });

  test("past API Gateway: the guard's refusal with its message, else MLflow's own answer, else allowed", () => {
    // Prepare
    const passed = entry({ decision: "allow", reason: undefined, status: 400 });
    const audit = { decision: "refused", reason: "dot-segment" } as AuditRecord;
    // Act / Assess
    expect(decidedLine(explainRequest({ entry: passed, audit }))).toBe(
      "decided  by the guard, after API Gateway let it through: dot-segment: the path may not contain '.' or '..' segments",
    );
    expect(decidedLine(explainRequest({ entry: passed }))).toBe(
      "decided  by MLflow: API Gateway let it through; MLflow answered 400 (its answer's message says why)",
    );
    expect(decidedLine(explainRequest({ entry: { ...passed, status: 200 } }))).toBe("decided  allowed");
  });
});
