// A person's sign-in to a Cognito user pool for `mlflow-gate login`: SRP against a deployed pool (its app
// client allows nothing else), USER_PASSWORD_AUTH against the local pool (cognito-local has no SRP), the
// new-password challenge of a first sign-in, and the calls that renew and revoke a refresh token. Cognito's
// own JSON API (these calls are not signed): `call` sends one.
import { CliFailure } from "./cli-errors";
import { passwordVerifierResponses, PasswordVerifierChallenge, srpClient } from "./cognito-srp";

/** One call of Cognito's API (`AWSCognitoIdentityProviderService.<target>`): its JSON answer, or a CognitoError. */
export type CognitoCall = (target: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>;

export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Tokens {
  readonly accessToken: string;
  readonly idToken?: string;
  readonly refreshToken?: string;
  readonly expiresIn: number;
}

export interface SignInRequest {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly authFlow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
  /** Asked for when the pool requires a new password (a first sign-in with a temporary one). */
  readonly newPassword: () => Promise<string>;
  readonly now?: () => Date;
}

function tokensOf(answer: Record<string, unknown>): Tokens | undefined {
  const r = answer.AuthenticationResult as Record<string, unknown> | undefined;
  if (typeof r?.AccessToken !== "string") return undefined;
  return {
    accessToken: r.AccessToken,
    ...(typeof r.IdToken === "string" ? { idToken: r.IdToken } : {}),
    ...(typeof r.RefreshToken === "string" ? { refreshToken: r.RefreshToken } : {}),
    expiresIn: typeof r.ExpiresIn === "number" ? r.ExpiresIn : 3600,
  };
}

/** Cognito's refusal in one line naming the user, never the password. */
function refused(e: unknown, username: string): never {
  if (e instanceof CognitoError) {
    // cognito-local answers a wrong password with InvalidPasswordException, Cognito with NotAuthorizedException.
    if (
      e.type === "NotAuthorizedException" ||
      e.type === "UserNotFoundException" ||
      e.type === "InvalidPasswordException"
    )
      throw new CliFailure([`mlflow-gate: the user pool refused ${username}: ${e.message}`]);
    if (e.type === "PasswordResetRequiredException")
      throw new CliFailure([
        `mlflow-gate: ${username} must reset the password first (the UI's "Forgot your password?")`,
      ]);
    throw new CliFailure([`mlflow-gate: the user pool answered ${e.type}: ${e.message}`]);
  }
  throw e;
}

/** Signs in and answers the challenges mlflow-gate knows: PASSWORD_VERIFIER (SRP) and NEW_PASSWORD_REQUIRED. */
export async function signIn(call: CognitoCall, req: SignInRequest): Promise<Tokens> {
  try {
    const srp = req.authFlow === "USER_SRP_AUTH" ? srpClient() : undefined;
    let answer = await call("InitiateAuth", {
      AuthFlow: req.authFlow,
      ClientId: req.clientId,
      AuthParameters: srp
        ? { USERNAME: req.username, SRP_A: srp.A.toString(16) }
        : { USERNAME: req.username, PASSWORD: req.password },
    });
    for (let step = 0; step < 3; step++) {
      const tokens = tokensOf(answer);
      if (tokens) return tokens;
      const challenge = answer.ChallengeName;
      const parameters = (answer.ChallengeParameters ?? {}) as Record<string, string>;
      const session = typeof answer.Session === "string" ? { Session: answer.Session } : {};
      if (challenge === "PASSWORD_VERIFIER" && srp) {
        answer = await call("RespondToAuthChallenge", {
          ChallengeName: challenge,
          ClientId: req.clientId,
          ...session,
          ChallengeResponses: passwordVerifierResponses(
            req.userPoolId,
            req.password,
            srp,
            parameters as unknown as PasswordVerifierChallenge,
            req.now?.() ?? new Date(),
          ),
        });
      } else if (challenge === "NEW_PASSWORD_REQUIRED") {
        const newPassword = await req.newPassword();
        answer = await call("RespondToAuthChallenge", {
          ChallengeName: challenge,
          ClientId: req.clientId,
          ...session,
          ChallengeResponses: { USERNAME: parameters.USER_ID_FOR_SRP ?? req.username, NEW_PASSWORD: newPassword },
        }).catch((e: unknown) => {
          if (e instanceof CognitoError && e.type === "InvalidPasswordException")
            throw new CliFailure([`mlflow-gate: the new password does not meet the pool's policy: ${e.message}`]);
          throw e;
        });
      } else {
        throw new CliFailure([
          `mlflow-gate: the user pool asks ${req.username} for ${String(challenge)}, which mlflow-gate login does not answer: sign in with the UI`,
        ]);
      }
    }
    throw new CliFailure(["mlflow-gate: the user pool kept asking: sign in with the UI"]);
  } catch (e) {
    return refused(e, req.username);
  }
}

/** New tokens from a refresh token (REFRESH_TOKEN_AUTH); Cognito's refusal means: sign in again. */
export async function refreshTokens(call: CognitoCall, clientId: string, refreshToken: string): Promise<Tokens> {
  try {
    const tokens = tokensOf(
      await call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
    );
    if (!tokens) throw new CliFailure(["mlflow-gate: the user pool answered no tokens to the refresh token"]);
    return tokens;
  } catch (e) {
    if (e instanceof CognitoError && e.type === "NotAuthorizedException")
      throw new CliFailure([
        `mlflow-gate: the saved sign-in is no longer valid (${e.message}): run "mlflow-gate login" again`,
      ]);
    throw e;
  }
}

/** Cognito's JSON API over fetch, at `endpoint` (Cognito's regional one, or the local pool's). */
export function cognitoCall(endpoint: string, timeoutMs = 30_000): CognitoCall {
  return async (target, body) => {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `AWSCognitoIdentityProviderService.${target}`,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new CliFailure([`mlflow-gate: cannot reach the user pool at ${endpoint} (${cause})`]);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: said below
    }
    if (res.ok) return json;
    const type = String(json.__type ?? `HTTP ${res.status}`).replace(/^.*#/, "");
    throw new CognitoError(type, String(json.message ?? json.Message ?? text.slice(0, 200)));
  };
}

/** Cognito's regional endpoint of a pool id (`eu-west-1_AbC123`). */
export function cognitoEndpointOf(region: string): string {
  return `https://cognito-idp.${region}.amazonaws.com/`;
}
