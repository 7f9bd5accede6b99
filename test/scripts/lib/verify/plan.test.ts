import { loadPolicySet } from "../../../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../../../project/paths";
import {
  Answer,
  expectations,
  formatLine,
  guardReason,
  isAnsweredBehindGateway,
  isGatewayRefusal,
  probePath,
  runName,
  sampleRoutes,
  summaryLines,
} from "../../../../scripts/lib/verify/plan";

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const answer = (status: number, body: unknown): Answer => ({
  status,
  headers: {},
  body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
});

describe("sampleRoutes", () => {
  test("three routes of every authorized class on each surface, never a public route, never an artifact upload", () => {
    for (const surface of ["iam", "cognito"] as const) {
      const sample = sampleRoutes(policySet.catalog.routes, surface);
      const classes = new Set(sample.map((r) => r.class));
      expect([...classes].sort()).toEqual([
        "admin",
        "llm-gateway",
        "read",
        "registry-promote",
        "registry-write",
        "write",
      ]);
      for (const cls of classes) expect(sample.filter((r) => r.class === cls)).toHaveLength(3);
      expect(sample.every((r) => r.auth === surface)).toBe(true);
      expect(sample.filter((r) => r.method === "PUT" && r.path.includes("/mlflow-artifacts/artifacts/"))).toEqual([]);
    }
  });

  test("is the same every time (a run can be compared with the last)", () => {
    expect(sampleRoutes(policySet.catalog.routes, "iam")).toEqual(sampleRoutes(policySet.catalog.routes, "iam"));
  });
});

test("expectations follow the group files: readers are refused every sampled write, admins allowed all", () => {
  const reader = expectations(policySet, { kind: "sigv4", name: "r", group: "readers" });
  expect(reader.filter((e) => e.allowed).every((e) => e.route.class === "read")).toBe(true);
  expect(reader.filter((e) => e.route.class === "read").every((e) => e.allowed)).toBe(true);
  expect(expectations(policySet, { kind: "bearer", name: "a", group: "admins" }).every((e) => e.allowed)).toBe(true);
});

test("probePath fills one segment for {x} and two for {x+}: names that exist nowhere", () => {
  expect(probePath("/api/2.0/mlflow/logged-models/{model_id}")).toBe(
    "/api/2.0/mlflow/logged-models/mlflow-gate-verify-none",
  );
  expect(probePath("/api/2.0/mlflow-artifacts/presigned/{artifact_path+}")).toBe(
    "/api/2.0/mlflow-artifacts/presigned/mlflow-gate-verify-none/0",
  );
});

describe("reading an answer", () => {
  test.each([
    ["an authorizer's 403", answer(403, { message: "User is not authorized to access this resource" }), true],
    ["IAM's 403", answer(403, { Message: "User: arn:aws:iam::1:user/x is not authorized" }), true],
    ["a missing route", answer(403, { message: "Missing Authentication Token" }), true],
    ["401", answer(401, { message: "Unauthorized" }), true],
    ["MLflow's own 403", answer(403, { error_code: "PERMISSION_DENIED", message: "no" }), false],
    ["the guard's 400", answer(400, { error_code: "BAD_REQUEST", message: "no", reason: "dot-segment" }), false],
    ["an HTML 403", answer(403, "<html>"), false],
    ["200", answer(200, {}), false],
  ])("%s is the gateway's refusal: %s", (_, a, refused) => {
    expect(isGatewayRefusal(a)).toBe(refused);
  });

  test.each([
    [
      "the guard's refusal of the forged header",
      answer(400, { error_code: "BAD_REQUEST", reason: "identity-header-spelling" }),
      true,
    ],
    ["MLflow's own 404", answer(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: "no" }), true],
    ["a 500", answer(500, { error_code: "INTERNAL_ERROR" }), false],
    ["a 502 page", answer(502, "<html>bad gateway</html>"), false],
    ["a 429", answer(429, { error_code: "TOO_MANY", message: "slow" }), false],
    ["the gateway's refusal", answer(403, { message: "Forbidden" }), false],
  ])("an allowed probe answered with %s passed the gateway: %s", (_, a, behind) => {
    expect(isAnsweredBehindGateway(a)).toBe(behind);
  });

  test("the guard's reason code, only on its 400", () => {
    expect(guardReason(answer(400, { error_code: "BAD_REQUEST", reason: "dot-segment" }))).toBe("dot-segment");
    expect(guardReason(answer(400, { error_code: "INVALID_PARAMETER_VALUE" }))).toBeUndefined();
    expect(guardReason(answer(403, { reason: "x" }))).toBeUndefined();
  });
});

describe("the report", () => {
  test("one line per check, the details of a failure indented under it, skips apart", () => {
    expect(formatLine({ id: "a", ok: true, text: "fine", details: ["hidden"] })).toBe("PASS  a: fine");
    expect(formatLine({ id: "b", ok: false, text: "wrong", details: ["why"] })).toBe("FAIL  b: wrong\n        why");
    expect(formatLine({ id: "c", skipped: "no audit trail" })).toBe("SKIP  c: no audit trail");
  });

  test("ends with `N passed, N failed`; skips are said before and counted in neither", () => {
    const lines = [
      { id: "a", ok: true, text: "" },
      { id: "b", ok: false, text: "" },
      { id: "c", skipped: "x" },
    ];
    expect(summaryLines(lines)).toEqual(["1 skipped (see the SKIP lines: not counted)", "1 passed, 1 failed"]);
    expect(summaryLines([{ id: "a", ok: true, text: "" }])).toEqual(["1 passed, 0 failed"]);
  });
});

test("runName is verify's prefix, the time and a random part", () => {
  expect(runName(new Date("2026-12-05T08:39:48.123Z"), "b44b00")).toBe("mlflow-gate-verify-20261205T083948-b44b00");
});
