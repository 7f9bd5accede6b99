import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { loadPolicySet } from "../../../authorizer/load-policies";
import {
  buildAuthorizerEvent,
  createCognitoAuthorization,
  identityOfResult,
} from "../../../gateway/passes/authorize-cognito";
import { routePass, RoutedRequest } from "../../../gateway/passes/route";
import { readTarget, Target } from "../../../gateway/passes/target";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { compileApiModel, parseIdentitySources } from "../../../gateway/api-model";
import { TEST_STAGE, testApi } from "../support/test-gateway";

// The authorize pass with stand-in authorizers: what API Gateway does around the Lambda (the real module
// runs in server.test.ts and the integration tests).

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const api = compileApiModel(testApi(policySet, new URL("http://127.0.0.1:5000")));
const STAGE = TEST_STAGE;
const PREFIX = "arn:aws:execute-api:*:*:mlflowgate/*/";

const answerOf = (
  statements: { Effect: string; Resource: string }[],
  groups = "readers",
): APIGatewayAuthorizerResult => ({
  principalId: "sub-1",
  policyDocument: {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      ...s,
      Action: "execute-api:Invoke",
    })) as APIGatewayAuthorizerResult["policyDocument"]["Statement"],
  },
  context: { username: "alice", groups },
});

function setup(authorizer: (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>) {
  const events: APIGatewayRequestAuthorizerEvent[] = [];
  const authorize = createCognitoAuthorization({
    policySet,
    authorizer: (event) => {
      events.push(event);
      return authorizer(event);
    },
    cacheTtlMs: 300_000,
    now: () => 0,
  });
  return { authorize, events };
}

/** A request with these raw headers, as the passes before hand it over. */
function request(method: string, url: string, rawHeaders: string[]) {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] ??= rawHeaders[i + 1]!;
  const target = readTarget(url) as Target;
  const routed = routePass(api, (m, p) => policySet.locate(m, p).route, STAGE, method, target);
  if (!("go" in routed)) throw new Error("expected a route");
  return [{ req: { method, headers, rawHeaders }, target, requestId: "req-1" }, routed.go as RoutedRequest] as const;
}

const allowSearch = answerOf([{ Effect: "Allow", Resource: `${PREFIX}POST/ajax-api/2.0/mlflow/runs/search` }]);

describe("createCognitoAuthorization", () => {
  test("the authorizer's policy decides; its answer is cached (another path under the same resource and verb) and evaluated per request", async () => {
    // Prepare
    const { authorize, events } = setup(async () => allowSearch);
    const auth = ["Authorization", "Bearer t1"];
    // Act
    const search = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", auth));
    const del = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/delete", auth));
    // Assess
    expect(search).toEqual({ go: { principal: "sub-1", username: "alice", groups: ["readers"] } });
    expect(del).toMatchObject({
      stop: { answer: { status: 403, errorType: "AccessDeniedException" }, decision: "deny", reason: "not-allowed" },
      identity: { principal: "sub-1" },
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.methodArn).toBe(
      "arn:aws:execute-api:us-east-1:000000000000:mlflowgate/local/POST/ajax-api/2.0/mlflow/runs/search",
    );
  });

  test("the cache is keyed by every identity source: the token, the verb and the resource", async () => {
    // Prepare
    const { authorize, events } = setup(async () => allowSearch);
    const auth = ["Authorization", "Bearer t1"];
    // Act: under the same {proxy+} resource and verb, another path; then another verb; then another resource
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/delete", auth));
    await authorize(...request("GET", "/ajax-api/2.0/mlflow/runs/get", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/experiments/search", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["Authorization", "Bearer t2"]));
    await authorize(...request("GET", "/ajax-api/2.0/mlflow/runs/get", auth));
    // Assess
    expect(events.map((e) => [e.httpMethod, e.resource])).toEqual([
      ["POST", "/ajax-api/2.0/mlflow/runs/{proxy+}"],
      ["GET", "/ajax-api/2.0/mlflow/runs/{proxy+}"],
      ["POST", "/ajax-api/2.0/mlflow/experiments/{proxy+}"],
      ["POST", "/ajax-api/2.0/mlflow/runs/{proxy+}"],
    ]);
  });

  test("identity sources of the definition's own: a query parameter missing is a 401 without a call; its value keys the cache", async () => {
    // Prepare
    const events: APIGatewayRequestAuthorizerEvent[] = [];
    const authorize = createCognitoAuthorization({
      policySet,
      authorizer: async (event) => (events.push(event), allowSearch),
      cacheTtlMs: 300_000,
      identitySources: parseIdentitySources("method.request.header.Authorization, method.request.querystring.t"),
      now: () => 0,
    });
    const auth = ["Authorization", "Bearer t1"];
    // Act
    const missing = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search?t=1", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search?t=1", auth));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search?t=2", auth));
    // Assess
    expect(missing).toMatchObject({ stop: { answer: { status: 401 }, reason: "no-token" } });
    expect(events.map((e) => e.queryStringParameters)).toEqual([{ t: "1" }, { t: "2" }]);
  });

  test("a Deny statement that matches: 403 with API Gateway's explicit-deny message", async () => {
    // Prepare
    const { authorize } = setup(async () => answerOf([{ Effect: "Deny", Resource: `${PREFIX}*` }], ""));
    // Act
    const r = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["authorization", "Bearer t"]));
    // Assess
    expect(r).toMatchObject({
      stop: {
        answer: { status: 403, message: "User is not authorized to access this resource with an explicit deny" },
        reason: "no-known-group",
      },
    });
  });

  test("no Authorization header, or an empty one: 401 without calling the authorizer (the verb and resource are always there)", async () => {
    // Prepare
    const { authorize, events } = setup(async () => allowSearch);
    // Act
    const none = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", []));
    const empty = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["Authorization", ""]));
    // Assess
    for (const r of [none, empty])
      expect(r).toMatchObject({ stop: { answer: { status: 401 }, decision: "unauthorized", reason: "no-token" } });
    expect(events).toHaveLength(0);
  });

  // API Gateway's identity source is the Authorization header; with two, the emulator keys the cache on
  // the first. Either way the caller holds both tokens, and the guard refuses two credentials.
  test("two Authorization headers: the authorizer refuses them on a miss; a cached first value decides on a hit", async () => {
    // Prepare
    const { authorize, events } = setup(async (event) => {
      const values = Object.entries(event.multiValueHeaders ?? {}).flatMap(([n, v]) =>
        n.toLowerCase() === "authorization" ? (v ?? []) : [],
      );
      if (values.length > 1) throw new Error("Unauthorized");
      return allowSearch;
    });
    const pair = ["authorization", "Bearer t1", "Authorization", "Bearer t2"];
    // Act
    const miss = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", pair));
    await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["authorization", "Bearer t1"]));
    const hit = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", pair));
    // Assess
    expect(miss).toMatchObject({ stop: { answer: { status: 401 }, reason: "authorizer-unauthorized" } });
    expect(hit).toMatchObject({ go: { principal: "sub-1", username: "alice" } });
    expect(events).toHaveLength(2);
  });

  test("the authorizer's Unauthorized is a 401 and not cached; any other failure is a 403", async () => {
    // Prepare
    let failure = new Error("Unauthorized");
    const { authorize, events } = setup(async () => {
      throw failure;
    });
    const args = request("POST", "/ajax-api/2.0/mlflow/runs/search", ["authorization", "Bearer t"]);
    // Act
    const first = await authorize(...args);
    failure = new Error("boom");
    const second = await authorize(...args);
    // Assess
    expect(first).toMatchObject({
      stop: { answer: { status: 401 }, decision: "unauthorized", reason: "authorizer-unauthorized" },
    });
    expect(second).toMatchObject({ stop: { answer: { status: 403 }, decision: "deny", reason: "authorizer-error" } });
    expect(events).toHaveLength(2);
  });

  test("a policy the evaluator cannot read: 403 unreadable-policy, never an allow", async () => {
    // Prepare
    const conditional = answerOf([{ Effect: "Allow", Resource: "*" }]);
    (conditional.policyDocument.Statement[0] as unknown as Record<string, unknown>).Condition = { Bool: {} };
    const { authorize } = setup(async () => conditional);
    // Act
    const r = await authorize(...request("POST", "/ajax-api/2.0/mlflow/runs/search", ["authorization", "Bearer t"]));
    // Assess
    expect(r).toMatchObject({
      stop: { answer: { status: 403 }, reason: "unreadable-policy" },
      identity: { principal: "sub-1" },
    });
  });
});

describe("buildAuthorizerEvent", () => {
  test("the method's resource and path parameters, every header and query parameter as sent, the request context", () => {
    // Prepare
    const [{ req, target }, routed] = request("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=1&x=a&x=b", [
      "Authorization",
      "Bearer a",
      "X-Two",
      "1",
      "X-Two",
      "2",
    ]);
    // Act
    const e = buildAuthorizerEvent(req, target, routed, "req-9");
    // Assess
    expect(e).toMatchObject({
      type: "REQUEST",
      methodArn: "arn:aws:execute-api:us-east-1:000000000000:mlflowgate/local/GET/ajax-api/2.0/mlflow/experiments/get",
      resource: "/ajax-api/2.0/mlflow/experiments/{proxy+}",
      httpMethod: "GET",
      path: "/ajax-api/2.0/mlflow/experiments/get",
      pathParameters: { proxy: "get" },
      headers: { Authorization: "Bearer a", "X-Two": "2" },
      multiValueHeaders: { Authorization: ["Bearer a"], "X-Two": ["1", "2"] },
      queryStringParameters: { experiment_id: "1", x: "b" },
      multiValueQueryStringParameters: { experiment_id: ["1"], x: ["a", "b"] },
      requestContext: {
        requestId: "req-9",
        stage: "local",
        apiId: "mlflowgate",
        resourcePath: "/ajax-api/2.0/mlflow/experiments/{proxy+}",
      },
    });
  });
});

describe("identityOfResult", () => {
  test("the principal, and the username and groups of the context; no groups is none", () => {
    expect(identityOfResult(allowSearch)).toEqual({ principal: "sub-1", username: "alice", groups: ["readers"] });
    expect(identityOfResult({ ...allowSearch, context: { groups: "" } })).toEqual({
      principal: "sub-1",
      username: undefined,
      groups: [],
    });
  });
});
