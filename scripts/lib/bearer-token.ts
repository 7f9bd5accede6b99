// An access token from the sign-in `mlflow-gate login` saved: for `sign --bearer`.
import { CliFailure } from "./cli-errors";
import { cognitoCall, cognitoEndpointOf, refreshTokens } from "./cognito-login";
import { loginsFileOf, storedLogin } from "./login-store";
import { localStackFile, readStackFile } from "./user-admin";

/** The local stack's app client: the one `login` and `logout` use without --client-id. */
export function localClientId(env: NodeJS.ProcessEnv): string {
  const stackFile = localStackFile(env, process.cwd());
  const clientId = (readStackFile(stackFile) as { cognito?: { clientId?: unknown } } | undefined)?.cognito?.clientId;
  if (typeof clientId !== "string")
    throw new CliFailure([
      `mlflow-gate: no local stack at ${stackFile} to take the app client from: give --client-id, or start the stack (MLFLOW_GATE_DATA)`,
    ]);
  return clientId;
}

/** A fresh access token of the saved sign-in of `clientId` (REFRESH_TOKEN_AUTH); never printed. */
export async function accessTokenFromLogin(env: NodeJS.ProcessEnv, clientId: string): Promise<string> {
  const file = loginsFileOf(env);
  const saved = storedLogin(file, clientId);
  if (saved === undefined)
    throw new CliFailure([
      `mlflow-gate: no sign-in saved for app client ${clientId} in ${file}: run "mlflow-gate login USER" first`,
    ]);
  const call = cognitoCall(saved.endpoint ?? cognitoEndpointOf(saved.region));
  return (await refreshTokens(call, saved.clientId, saved.refreshToken)).accessToken;
}
