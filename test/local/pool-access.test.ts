import {
  decideFrontRequest,
  decideShellRequest,
  loopbackHosts,
  loopbackOrigins,
  poolActionOf,
  SHELL_ACTIONS,
  UNSIGNED_POOL_ACTIONS,
} from "../../local/pool-access";

const HOSTS = loopbackHosts("127.0.0.1", 9229);
const target = (action: string) => `AWSCognitoIdentityProviderService.${action}`;
const post = (action: string, extra: Partial<Parameters<typeof decideFrontRequest>[0]> = {}) =>
  decideFrontRequest(
    {
      method: "POST",
      path: "/",
      query: "",
      host: "127.0.0.1:9229",
      origin: undefined,
      target: target(action),
      ...extra,
    },
    HOSTS,
  );

describe("poolActionOf", () => {
  test.each([
    [target("InitiateAuth"), "InitiateAuth"],
    [target("AdminAddUserToGroup"), "AdminAddUserToGroup"],
    ["InitiateAuth", undefined],
    ["OtherService.InitiateAuth", undefined],
    [target("Initiate.Auth"), undefined],
    [target(""), undefined],
    [[target("InitiateAuth"), target("InitiateAuth")], undefined],
    [undefined, undefined],
  ])("%j names %s", (value, action) => {
    expect(poolActionOf(value)).toBe(action);
  });
});

describe("loopback names", () => {
  test("127.0.0.1 and localhost are one listener to a browser; another loopback address is only itself", () => {
    expect([...loopbackOrigins("127.0.0.1", 8080)]).toEqual(["http://127.0.0.1:8080", "http://localhost:8080"]);
    expect([...loopbackOrigins("localhost", 8080)]).toEqual(["http://127.0.0.1:8080", "http://localhost:8080"]);
    expect([...loopbackOrigins("127.0.0.2", 8080)]).toEqual(["http://127.0.0.2:8080"]);
    expect([...loopbackHosts("127.0.0.1", 9229)]).toEqual(["127.0.0.1:9229", "localhost:9229"]);
    // MLFLOW_GATE_HOST=LOCALHOST is a loopback name too; clients send it in lower case.
    expect([...loopbackHosts("LOCALHOST", 9229)]).toEqual(["127.0.0.1:9229", "localhost:9229"]);
  });
});

describe("decideFrontRequest: the pool's front", () => {
  test.each([...UNSIGNED_POOL_ACTIONS])("%s goes on unsigned", (action) => {
    expect(post(action)).toEqual({ forward: true, needsSignature: false });
  });

  test.each([
    "AdminAddUserToGroup",
    "AdminGetUser",
    "ListUsers",
    "CreateGroup",
    "SignUp",
    "GetTokensFromRefreshToken",
    "DeleteUserPool",
  ])("%s needs the pool key's signature", (action) => {
    expect(post(action)).toEqual({ forward: true, needsSignature: true });
  });

  test.each([
    ["a web page's Origin", { origin: "http://evil.example" }, 403, "browser-origin"],
    [
      "even the gateway's Origin (the page has its login endpoint)",
      { origin: "http://127.0.0.1:8080" },
      403,
      "browser-origin",
    ],
    ["a rebound DNS name", { host: "evil.example:9229" }, 403, "host"],
    ["another port in Host", { host: "127.0.0.1:9230" }, 403, "host"],
    ["no Host", { host: undefined }, 403, "host"],
    ["a target that is not Cognito's", { target: "AmazonSSM.GetParameter" }, 400, "target"],
    ["two targets", { target: [target("InitiateAuth"), target("AdminGetUser")] }, 400, "target"],
    ["a POST elsewhere than /", { path: "/oauth2/token" }, 405, "method"],
    [
      "a query (where a presigned signature, valid for days, would ride)",
      { query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k" },
      400,
      "query",
    ],
    ["an OPTIONS preflight without Origin", { method: "OPTIONS" }, 405, "method"],
  ] as const)("%s is refused", (_, extra, status, reason) => {
    expect(post("InitiateAuth", extra)).toMatchObject({ forward: false, refusal: { status, reason } });
  });

  test("the Host is compared case-insensitively, as DNS names are", () => {
    expect(post("InitiateAuth", { host: "LOCALHOST:9229" })).toEqual({ forward: true, needsSignature: false });
  });

  test.each([
    ["/health", true],
    ["/local_AbC123/.well-known/jwks.json", true],
    ["/local_AbC123/.well-known/openid-configuration", true],
    ["/oauth2/authorize", false],
    ["/local_AbC123/.well-known/../jwks.json", false],
    ["/", false],
  ])("GET %s is public: %s", (path, allowed) => {
    const d = decideFrontRequest(
      { method: "GET", path, query: "", host: "127.0.0.1:9229", origin: undefined, target: undefined },
      HOSTS,
    );
    expect(d.forward).toBe(allowed);
  });
});

describe("decideShellRequest: the sign-in page's pass-through", () => {
  const GATEWAY = new Set(["http://127.0.0.1:8080"]);
  const shell = (method: string, origin: string | undefined, action?: string) =>
    decideShellRequest({ method, origin, target: action === undefined ? undefined : target(action) }, GATEWAY);

  test.each([...SHELL_ACTIONS])("%s from the gateway's page goes on, with CORS for that page", (action) => {
    expect(shell("POST", "http://127.0.0.1:8080", action)).toEqual({
      kind: "forward",
      action,
      origin: "http://127.0.0.1:8080",
    });
  });

  test("a client that is no web page may sign in too (it sends no Origin)", () => {
    expect(shell("POST", undefined, "InitiateAuth")).toEqual({
      kind: "forward",
      action: "InitiateAuth",
      origin: undefined,
    });
  });

  test("the gateway's page's preflight is answered here", () => {
    expect(shell("OPTIONS", "http://127.0.0.1:8080")).toEqual({ kind: "preflight", origin: "http://127.0.0.1:8080" });
  });

  test.each(["http://evil.example", "null", "http://127.0.0.1:8081"])(
    "a page of %s is refused without CORS, whatever it asks",
    (origin) => {
      for (const [method, action] of [
        ["POST", "InitiateAuth"],
        ["OPTIONS", undefined],
        ["POST", "AdminAddUserToGroup"],
      ] as const)
        expect(shell(method, origin, action)).toMatchObject({
          kind: "refuse",
          origin: undefined,
          refusal: { status: 403, reason: "foreign-origin" },
        });
    },
  );

  test.each(["AdminAddUserToGroup", "ListUsers", "AdminGetUser", "SignUp", "GetUser"])(
    "%s is not an action of the sign-in page: refused, readable by the gateway's page",
    (action) => {
      expect(shell("POST", "http://127.0.0.1:8080", action)).toMatchObject({
        kind: "refuse",
        origin: "http://127.0.0.1:8080",
        refusal: { status: 400, reason: "action" },
      });
    },
  );

  test("a GET is refused", () => {
    expect(shell("GET", undefined)).toMatchObject({ kind: "refuse", refusal: { status: 405 } });
  });
});
