import {
  inspectHeaders,
  isClientAddressHeader,
  isGuardOnlyHeader,
  presignParameterOf,
  stripRequestHeaderCookies,
} from "../../guard/request-headers";

const MAPPED = [
  "x-mlflow-gate-request-id",
  "r-1",
  "x-mlflow-gate-auth",
  "cognito",
  "x-mlflow-gate-principal",
  "sub-1",
  "x-mlflow-gate-username",
  "alice",
  "x-mlflow-gate-groups",
  "readers",
  "x-mlflow-gate-method",
  "GET",
  "x-mlflow-gate-path",
  "/ajax-api/2.0/mlflow/experiments/search",
  "x-mlflow-gate-source-ip",
  "203.0.113.9",
];

describe("inspectHeaders", () => {
  test("reads the identity API Gateway mapped, in the contract's spelling", () => {
    // Act
    const r = inspectHeaders([...MAPPED, "Authorization", "-", "Content-Type", "application/json"]);

    // Assess
    expect(r).toEqual({
      ok: true,
      identity: {
        requestId: "r-1",
        auth: "cognito",
        principal: "sub-1",
        username: "alice",
        groups: "readers",
        method: "GET",
        path: "/ajax-api/2.0/mlflow/experiments/search",
        sourceIp: "203.0.113.9",
      },
    });
  });

  // A client's own identity header next to the mapped one: API Gateway matches names case-sensitively.
  test.each(["X-Mlflow-Gate-Groups", "X-MLFLOW-GATE-GROUPS", "x-MLflow-gate-groups"])(
    "refuses a forged %s beside the mapped header",
    (name) => {
      expect(inspectHeaders([...MAPPED, name, "admins"])).toEqual({
        ok: false,
        problem: "identity-header-spelling",
        header: name,
      });
    },
  );

  test("refuses a second copy of the mapped source address, or one in another spelling", () => {
    for (const name of ["x-mlflow-gate-source-ip", "X-Mlflow-Gate-Source-Ip"]) {
      expect(inspectHeaders([...MAPPED, name, "127.0.0.1"])).toMatchObject({ ok: false, header: name });
    }
  });

  test("refuses a second copy of a mapped header, and any name of ours the contract does not have", () => {
    expect(inspectHeaders([...MAPPED, "x-mlflow-gate-groups", "admins"])).toMatchObject({
      ok: false,
      problem: "identity-header-repeated",
    });
    expect(inspectHeaders([...MAPPED, "x-mlflow-gate-role", "admin"])).toMatchObject({
      ok: false,
      problem: "identity-header-spelling",
    });
  });

  test("refuses two credentials of one kind (two tokens, two session tokens, two dates) in any letter case", () => {
    const pairs: [string, string][] = [
      ["Authorization", "authorization"],
      ["X-Amz-Security-Token", "x-amz-security-token"],
      ["X-Amz-Date", "X-AMZ-DATE"],
    ];
    for (const [a, b] of pairs) {
      expect(inspectHeaders([...MAPPED, a, "Bearer x", b, "Bearer y"])).toMatchObject({
        ok: false,
        problem: "two-credentials",
      });
    }
  });

  // API Gateway replaces a header case-sensitively: a client that writes x-amz-security-token in lower
  // case has its token arrive beside the API's '-'. One credential: accepted (and dropped before MLflow).
  test("accepts the API's '-' beside one client copy in another letter case", () => {
    expect(inspectHeaders([...MAPPED, "X-Amz-Security-Token", "-", "x-amz-security-token", "IQoJ..."])).toMatchObject({
      ok: true,
    });
  });

  test("refuses method overrides and a client's workspace header", () => {
    expect(inspectHeaders(["X-HTTP-Method-Override", "DELETE"])).toMatchObject({ problem: "method-override" });
    expect(inspectHeaders(["X-MLflow-Workspace", "team-b"])).toMatchObject({ problem: "workspace-header" });
  });
});

describe("presignParameterOf", () => {
  test("finds SigV4 query credentials in any letter case or encoding", () => {
    expect(presignParameterOf("X-Amz-Signature=abc&x=1")).toBe("X-Amz-Signature");
    expect(presignParameterOf("a=1&x-amz-credential=AKIA")).toBe("x-amz-credential");
    expect(presignParameterOf("X%2DAmz%2DSecurity%2DToken=t")).toBe("X%2DAmz%2DSecurity%2DToken");
    expect(presignParameterOf("max_results=5&filter=X-Amz-Signature")).toBeUndefined();
    expect(presignParameterOf("")).toBeUndefined();
  });
});

test("identity and credential headers stop at the guard; others go on to MLflow", () => {
  expect(isGuardOnlyHeader("x-mlflow-gate-principal")).toBe(true);
  expect(isGuardOnlyHeader("authorization")).toBe(true);
  expect(isGuardOnlyHeader("x-amz-content-sha256")).toBe(true);
  expect(isGuardOnlyHeader("content-type")).toBe(false);
});

test("every client address header is recognised, in any letter case: Forwarded, X-Real-IP, X-Forwarded-*", () => {
  const names = ["Forwarded", "X-Real-IP", "X-Forwarded-For", "x-forwarded-for", "X-FORWARDED-FOR", "X-Forwarded-Host"];
  for (const name of [
    ...names,
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Client-Cert",
  ]) {
    expect(isClientAddressHeader(name.toLowerCase())).toBe(true);
  }
  for (const name of ["x-forwarded", "forwarded-for", "x-real-ip-extra", "x-mlflow-gate-source-ip", "content-type"]) {
    expect(isClientAddressHeader(name)).toBe(false);
  }
});

describe("the mapped team header", () => {
  test("read once, in the contract's spelling; another spelling or a second copy is refused", () => {
    expect(inspectHeaders(["x-mlflow-gate-workspace", "team-a"])).toEqual({
      ok: true,
      identity: { workspace: "team-a" },
    });
    expect(inspectHeaders(["X-Mlflow-Gate-Workspace", "team-a"])).toMatchObject({
      problem: "identity-header-spelling",
    });
    expect(inspectHeaders(["x-mlflow-gate-workspace", "team-a", "x-mlflow-gate-workspace", "team-b"])).toMatchObject({
      problem: "identity-header-repeated",
    });
  });

  test.each(["X-MLFLOW-WORKSPACE", "x-mlflow-workspace", "X-Mlflow-Workspace"])(
    "a client's MLflow workspace header is refused: %s",
    (name) => {
      expect(inspectHeaders([name, "team-b"])).toMatchObject({ problem: "workspace-header" });
    },
  );
});

describe("stripRequestHeaderCookies", () => {
  test("drops the cookies MLflow's UI turns into headers, in any letter case, and keeps the others", () => {
    expect(stripRequestHeaderCookies("mlflow-request-header-X-MLFLOW-WORKSPACE=team-b")).toBeUndefined();
    expect(
      stripRequestHeaderCookies("a=1; MLflow-Request-Header-Authorization=Bearer x;b=2 ;  mlflow-request-header-x=y"),
    ).toBe("a=1; b=2");
    expect(stripRequestHeaderCookies("session=abc")).toBe("session=abc");
    expect(stripRequestHeaderCookies(" ; ")).toBeUndefined();
  });
});
