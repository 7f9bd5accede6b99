import { formatMethodArn } from "../../../authorizer/core/method-arn";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { compileApiModel } from "../../../gateway/api-model";
import { routePass } from "../../../gateway/passes/route";
import { readTarget, Target } from "../../../gateway/passes/target";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { TEST_STAGE, testApi } from "../support/test-gateway";

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const matcher = (method: string, path: string) => policySet.locate(method, path).route;
const api = compileApiModel(testApi(policySet, new URL("http://127.0.0.1:5000")));
const STAGE = TEST_STAGE;
const target = (url: string): Target => readTarget(url) as Target;

describe("routePass", () => {
  test("finds the definition's method, the catalog route, its surface and the methodArn of the decoded path", () => {
    // Act
    const r = routePass(api, matcher, STAGE, "POST", target("/ajax-api/2.0/mlflow/runs/search?x=1"));
    // Assess
    if (!("go" in r)) throw new Error("expected the request to go on");
    expect(r.go.method.resourcePath).toBe("/ajax-api/2.0/mlflow/runs/{proxy+}");
    expect(r.go.pathParameters).toEqual({ proxy: "search" });
    expect(r.go.route?.action).toBe("SearchRuns");
    expect(r.go.surface).toBe("cognito");
    expect(formatMethodArn(r.go.methodArn)).toBe(
      "arn:aws:execute-api:us-east-1:000000000000:mlflowgate/local/POST/ajax-api/2.0/mlflow/runs/search",
    );
  });

  test("a path the catalog does not list under a greedy resource goes on without a route, authorized by the method", () => {
    // Act
    const sdk = routePass(api, matcher, STAGE, "GET", target("/api/2.0/mlflow/runs/brand-new"));
    const ui = routePass(api, matcher, STAGE, "GET", target("/ajax-api/2.0/mlflow/runs/brand-new"));
    // Assess
    expect(sdk).toMatchObject({ go: { route: undefined, surface: "iam" } });
    expect(ui).toMatchObject({ go: { route: undefined, surface: "cognito" } });
  });

  test("a path the API has no resource for is 403 Missing Authentication Token", () => {
    expect(routePass(api, matcher, STAGE, "GET", target("/api/2.0/mlflow/brand-new"))).toMatchObject({
      stop: { answer: { status: 403, message: "Missing Authentication Token" } },
    });
  });

  test("an authorized method whose ARN would pass 1,600 bytes gets 414; at 1,600 it goes on", () => {
    // Prepare: an artifact path that brings the method ARN to exactly the limit, and one byte past it
    const prefix = "/api/2.0/mlflow-artifacts/artifacts/";
    const arnOf = (path: string) => formatMethodArn({ ...STAGE, method: "GET", path });
    const fill = 1600 - Buffer.byteLength(arnOf(prefix));
    const atLimit = `${prefix}${"a".repeat(fill)}`;
    // Act
    const ok = routePass(api, matcher, STAGE, "GET", target(atLimit));
    const tooLong = routePass(api, matcher, STAGE, "GET", target(`${atLimit}b`));
    // Assess
    expect(Buffer.byteLength(arnOf(atLimit))).toBe(1600);
    expect(ok).toMatchObject({ go: { surface: "iam" } });
    expect(tooLong).toMatchObject({ stop: { answer: { status: 414 }, reason: "method-arn-too-long" } });
  });

  test("the login shell's config is the one method without authorization; MLflow's public routes are not the API's", () => {
    expect(routePass(api, matcher, STAGE, "GET", target("/mlflow-gate-ui.json"))).toMatchObject({
      go: { surface: "none", method: { integration: { kind: "mock" } } },
    });
    for (const path of ["/health", "/version", "/", "/static-files/x.js"])
      expect(routePass(api, matcher, STAGE, "GET", target(path))).toMatchObject({ stop: { reason: "no-such-method" } });
  });

  test.each(["HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"])(
    "method %s has no API Gateway method: 403 Missing Authentication Token",
    (method) => {
      expect(routePass(api, matcher, STAGE, method, target("/ajax-api/2.0/mlflow/experiments/search"))).toEqual({
        stop: {
          answer: {
            status: 403,
            errorType: "MissingAuthenticationTokenException",
            message: "Missing Authentication Token",
          },
          decision: "deny",
          reason: "no-such-method",
        },
      });
    },
  );
});
