import { CliFailure } from "../../../scripts/lib/cli-errors";
import { CognitoCall, CognitoError, refreshTokens, signIn } from "../../../scripts/lib/cognito-login";
import { POOL_ID, srpServer, USER_ID } from "../support/srp-server";

// The sign-in's flow against a user pool computed here: SRP (InitiateAuth with SRP_A, the PASSWORD_VERIFIER
// challenge checked with SRP-6a's server equations), a first sign-in's NEW_PASSWORD_REQUIRED, and refusals.

const TOKENS = { AccessToken: "access", IdToken: "id", RefreshToken: "refresh", ExpiresIn: 3600 };

/** A pool of one user, `reader`, whose password is `password`; `mustChange` asks for a new one first. */
function pool(password: string, options: { mustChange?: boolean } = {}) {
  const server = srpServer(password);
  const calls: string[] = [];
  let A = 0n;
  let mustChange = options.mustChange === true;
  const call: CognitoCall = async (target, body) => {
    calls.push(target);
    const params = (body.AuthParameters ?? body.ChallengeResponses) as Record<string, string>;
    if (target === "InitiateAuth" && body.AuthFlow === "USER_SRP_AUTH") {
      A = BigInt(`0x${params.SRP_A}`);
      return { ChallengeName: "PASSWORD_VERIFIER", ChallengeParameters: server.challenge, Session: "s1" };
    }
    if (target === "RespondToAuthChallenge" && body.ChallengeName === "PASSWORD_VERIFIER") {
      if (params.PASSWORD_CLAIM_SIGNATURE !== server.expectedSignature(A, params.TIMESTAMP as string))
        throw new CognitoError("NotAuthorizedException", "Incorrect username or password.");
      if (mustChange)
        return {
          ChallengeName: "NEW_PASSWORD_REQUIRED",
          ChallengeParameters: { USER_ID_FOR_SRP: USER_ID },
          Session: "s2",
        };
      return { AuthenticationResult: TOKENS };
    }
    if (target === "RespondToAuthChallenge" && body.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      expect([body.Session, params.USERNAME, params.NEW_PASSWORD]).toEqual(["s2", USER_ID, "a new one"]);
      mustChange = false;
      return { AuthenticationResult: TOKENS };
    }
    throw new CognitoError("InvalidParameterException", `unexpected ${target}`);
  };
  return { call, calls };
}

const request = (password: string) => ({
  userPoolId: POOL_ID,
  clientId: "client",
  username: "reader",
  password,
  authFlow: "USER_SRP_AUTH" as const,
  newPassword: async () => "a new one",
});

describe("signIn", () => {
  test("SRP: the pool's PASSWORD_VERIFIER challenge is answered with a claim it accepts; the tokens come back", async () => {
    // Prepare
    const p = pool("s3cret pass");
    // Act
    const tokens = await signIn(p.call, request("s3cret pass"));
    // Assess
    expect(tokens).toEqual({ accessToken: "access", idToken: "id", refreshToken: "refresh", expiresIn: 3600 });
    expect(p.calls).toEqual(["InitiateAuth", "RespondToAuthChallenge"]);
  });

  test("a wrong password is the pool's refusal, naming the user and never the password", async () => {
    // Prepare
    const p = pool("s3cret pass");
    // Act
    const attempt = signIn(p.call, request("wrong pass"));
    // Assess
    await expect(attempt).rejects.toThrow(CliFailure);
    await expect(signIn(p.call, request("wrong pass"))).rejects.toThrow(
      "mlflow-gate: the user pool refused reader: Incorrect username or password.",
    );
  });

  test("a first sign-in answers NEW_PASSWORD_REQUIRED with the new password, in the same session", async () => {
    // Prepare
    const p = pool("temporary", { mustChange: true });
    // Act
    const tokens = await signIn(p.call, request("temporary"));
    // Assess
    expect(tokens.accessToken).toBe("access");
    expect(p.calls).toEqual(["InitiateAuth", "RespondToAuthChallenge", "RespondToAuthChallenge"]);
  });

  test("a challenge login does not answer (MFA) is one line saying to use the UI", async () => {
    // Prepare
    const call: CognitoCall = async () => ({ ChallengeName: "SOFTWARE_TOKEN_MFA", ChallengeParameters: {} });
    // Act / Assess
    await expect(signIn(call, { ...request("p"), authFlow: "USER_PASSWORD_AUTH" })).rejects.toThrow(
      "mlflow-gate: the user pool asks reader for SOFTWARE_TOKEN_MFA, which mlflow-gate login does not answer: sign in with the UI",
    );
  });
});

describe("refreshTokens", () => {
  test("a refresh token the pool refuses says to sign in again", async () => {
    // Prepare
    const call: CognitoCall = async () => {
      throw new CognitoError("NotAuthorizedException", "Refresh Token has been revoked");
    };
    // Act / Assess
    await expect(refreshTokens(call, "client", "r")).rejects.toThrow(
      'mlflow-gate: the saved sign-in is no longer valid (Refresh Token has been revoked): run "mlflow-gate login" again',
    );
  });
});
