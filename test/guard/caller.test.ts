import { isRequestId, readCaller } from "../../guard/caller";

const IAM = {
  requestId: "r",
  auth: "iam",
  principal: "arn:aws:sts::123456789012:assumed-role/SageMakerRole/job-7",
  username: "arn:aws:sts::123456789012:assumed-role/SageMakerRole/job-7",
  groups: "(iam)",
  sourceIp: "203.0.113.9",
};
const COGNITO = {
  requestId: "r",
  auth: "cognito",
  principal: "sub-1",
  username: "alice",
  groups: "readers,model-approvers",
  sourceIp: "2001:db8::7",
};

describe("readCaller", () => {
  test("a SigV4 caller is named by its ARN's resource part: role and session kept", () => {
    expect(readCaller(IAM)).toEqual({
      ok: true,
      caller: {
        surface: "iam",
        principal: IAM.principal,
        username: IAM.principal,
        groups: [],
        name: "assumed-role/SageMakerRole/job-7",
        sourceIp: "203.0.113.9",
      },
    });
    const user = "arn:aws:iam::123456789012:user/mlflow-admin";
    expect(readCaller({ ...IAM, principal: user, username: user })).toMatchObject({
      ok: true,
      caller: { name: "user/mlflow-admin" },
    });
  });

  test("a Cognito user is named by their username, with their groups", () => {
    expect(readCaller(COGNITO)).toEqual({
      ok: true,
      caller: {
        surface: "cognito",
        principal: "sub-1",
        username: "alice",
        groups: ["readers", "model-approvers"],
        name: "alice",
        sourceIp: "2001:db8::7",
      },
    });
  });

  test("no identity, part of one, or one that is not as the API maps it is refused", () => {
    expect(readCaller({})).toMatchObject({ ok: false, problem: "identity-missing" });
    expect(readCaller({ auth: "cognito", principal: "s" })).toMatchObject({
      ok: false,
      problem: "identity-incomplete",
    });
    for (const bad of [
      { ...IAM, principal: "mlflow-admin", username: "mlflow-admin" },
      { ...IAM, groups: "admins" },
      { ...IAM, username: "someone-else" },
      { ...COGNITO, username: "" },
      { ...COGNITO, username: "a\nb" },
      { ...COGNITO, principal: "a,b" },
      { ...COGNITO, auth: "none" },
    ]) {
      expect(readCaller(bad)).toMatchObject({ ok: false, problem: "identity-malformed" });
    }
  });

  // The source address becomes MLflow's X-Forwarded-For: anything but one IP address is refused.
  test("no source address is an incomplete identity; one that is not an IP address is refused", () => {
    const { sourceIp: _, ...withoutSource } = COGNITO;
    expect(readCaller(withoutSource)).toEqual({
      ok: false,
      problem: "identity-incomplete",
      detail: "missing sourceIp",
    });
    for (const sourceIp of [
      "",
      "localhost",
      "1.2.3",
      "127.0.0.1, 203.0.113.9",
      " 203.0.113.9",
      "fe80::1%eth0",
      "01.2.3.4",
    ]) {
      expect(readCaller({ ...COGNITO, sourceIp })).toMatchObject({ ok: false, problem: "source-ip-malformed" });
      expect(readCaller({ ...IAM, sourceIp })).toMatchObject({ ok: false, problem: "source-ip-malformed" });
    }
    for (const sourceIp of ["10.0.1.23", "127.0.0.1", "::1", "2001:db8::7"]) {
      expect(readCaller({ ...COGNITO, sourceIp })).toMatchObject({ ok: true, caller: { sourceIp } });
    }
  });

  test("a mapped request id must be one id: API Gateway's shape, or a UUID", () => {
    for (const requestId of ["AbCdEfGhIjKlMnO=", "3f1c2a9e-8b7d-4c6e-9a1b-2c3d4e5f6a7b"]) {
      expect(isRequestId(requestId)).toBe(true);
      expect(readCaller({ ...COGNITO, requestId })).toMatchObject({ ok: true });
    }
    for (const requestId of ["", "a b", "a,b", "a\nb", "x".repeat(129), "é"]) {
      expect(isRequestId(requestId)).toBe(false);
      expect(readCaller({ ...IAM, requestId })).toEqual({
        ok: false,
        problem: "identity-malformed",
        detail: "the request id is not an id",
      });
    }
  });
});
