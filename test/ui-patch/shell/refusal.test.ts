import { refusalOf } from "../../../ui-patch/shell/refusal";

describe("refusalOf: the guard's reason for the banner", () => {
  test("a 403 the guard wrote gives its message, without the guard's signature", () => {
    const body = JSON.stringify({
      error_code: "PERMISSION_DENIED",
      message: "mlflow-gate: policies/groups/model-approvers.yaml allows no promotion to Production",
    });
    expect(refusalOf(403, body)).toBe("policies/groups/model-approvers.yaml allows no promotion to Production");
  });

  test("API Gateway's 403, other statuses, other codes, bad or oversized bodies give nothing", () => {
    expect(refusalOf(403, JSON.stringify({ message: "User is not authorized to access this resource" }))).toBe(
      undefined,
    );
    expect(refusalOf(400, JSON.stringify({ error_code: "PERMISSION_DENIED", message: "x" }))).toBe(undefined);
    expect(refusalOf(403, JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "x" }))).toBe(undefined);
    expect(refusalOf(403, JSON.stringify({ error_code: "PERMISSION_DENIED", message: 3 }))).toBe(undefined);
    expect(refusalOf(403, JSON.stringify({ error_code: "PERMISSION_DENIED", message: "x".repeat(1001) }))).toBe(
      undefined,
    );
    expect(refusalOf(403, "<html>")).toBe(undefined);
    expect(refusalOf(403, "null")).toBe(undefined);
  });
});
