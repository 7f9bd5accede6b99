// The `login` and `logout` commands of `mlflow-gate`: a person signs in to the user pool once, and the plugin's
// bearer mode and `sign --bearer` use the refresh token kept in the user's config directory (login-store.ts).
import type { Command, Context } from "./lib/command";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { cognitoCall, CognitoError, cognitoEndpointOf, signIn } from "./lib/cognito-login";
import { localClientId } from "./lib/bearer-token";
import { forgetLogin, loginsFileOf, saveLogin, storedLogin } from "./lib/login-store";
import { readHidden, readPipe } from "./lib/password-input";
import { isCognitoName, localStackFile, readStackFile, resolvePoolTarget } from "./lib/user-admin";

/** The pool to sign in to: `--user-pool-id` and `--client-id` name a deployed one, else the local stack's. */
interface LoginTarget {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
  readonly endpoint: string;
  /** The local pool (cognito-local) has no SRP; a deployed app client has nothing else. */
  readonly local: boolean;
}

function targetOf(ctx: Context): LoginTarget {
  const env = ctx.io.env ?? process.env;
  const { "user-pool-id": userPoolId, "client-id": clientId, region } = ctx.values;
  if (userPoolId !== undefined || clientId !== undefined) {
    if (userPoolId === undefined || clientId === undefined)
      throw new CliUsageError("a deployed pool needs both --user-pool-id and --client-id (the stack's outputs)");
    if (!/^[\w+]{1,128}$/.test(clientId)) throw new CliUsageError(`--client-id "${clientId}" is not an app client id`);
    const pool = resolvePoolTarget({ userPoolId, ...(region !== undefined ? { region } : {}) }, "", () => undefined);
    return { userPoolId, clientId, region: pool.region, endpoint: cognitoEndpointOf(pool.region), local: false };
  }
  const pool = resolvePoolTarget({}, localStackFile(env, process.cwd()), readStackFile);
  if (pool.kind !== "local") throw new CliUsageError("no local stack");
  return {
    userPoolId: pool.userPoolId,
    clientId: localClientId(env),
    region: pool.region,
    endpoint: pool.endpoint,
    local: true,
  };
}

/** The password (and a new one, on a first sign-in): two lines of a pipe, or prompts on a terminal. */
async function passwords(
  ctx: Context,
  username: string,
): Promise<{ password: string; newPassword: () => Promise<string> }> {
  const stdin = ctx.io.stdin ?? process.stdin;
  if (stdin.isTTY) {
    const password = await readHidden(ctx.io, stdin, `Password for ${username} (not echoed): `);
    return {
      password,
      newPassword: async () => {
        const one = await readHidden(ctx.io, stdin, `The pool asks ${username} for a new password (not echoed): `);
        const two = await readHidden(ctx.io, stdin, "The new password again: ");
        if (one !== two) throw new CliFailure(["mlflow-gate: the two new passwords differ; nothing was changed"]);
        return one;
      },
    };
  }
  if (ctx.values["password-stdin"] !== true)
    throw new CliUsageError("no terminal to ask the password on: give it on stdin with --password-stdin");
  const [password = "", next, ...rest] = (await readPipe(stdin)).split(/\r?\n/);
  if (password === "") throw new CliFailure([`mlflow-gate: no password on stdin for ${username}`]);
  if (rest.length > 0)
    throw new CliFailure(["mlflow-gate: stdin holds more than two lines (the password, then a new one)"]);
  return {
    password,
    newPassword: async () => {
      if (next === undefined || next === "")
        throw new CliFailure([
          `mlflow-gate: the pool asks ${username} for a new password: give it as a second line on stdin`,
        ]);
      return next;
    },
  };
}

async function login(ctx: Context): Promise<number> {
  const [username, ...rest] = ctx.args;
  if (username === undefined) throw new CliUsageError("login needs USER");
  if (rest.length > 0) throw new CliUsageError(`unexpected argument "${rest[0]}"`);
  if (!isCognitoName(username)) throw new CliUsageError(`"${username}" is not a Cognito user name`);
  const target = targetOf(ctx);
  const { password, newPassword } = await passwords(ctx, username);
  const tokens = await signIn(cognitoCall(target.endpoint), {
    userPoolId: target.userPoolId,
    clientId: target.clientId,
    username,
    password,
    authFlow: target.local ? "USER_PASSWORD_AUTH" : "USER_SRP_AUTH",
    newPassword,
  });
  if (tokens.refreshToken === undefined) throw new CliFailure(["mlflow-gate: the user pool gave no refresh token"]);
  const file = loginsFileOf(ctx.io.env ?? process.env);
  saveLogin(file, {
    username,
    userPoolId: target.userPoolId,
    clientId: target.clientId,
    region: target.region,
    ...(target.local ? { endpoint: target.endpoint } : {}),
    refreshToken: tokens.refreshToken,
    savedAt: new Date().toISOString(),
  });
  ctx.io.stdout.write(
    `signed in as ${username} to ${target.local ? "the local pool " : "pool "}${target.userPoolId} (app client ${target.clientId}); the refresh token is in ${file} (mode 0600)\n`,
  );
  return 0;
}

async function logout(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw new CliUsageError(`unexpected argument "${ctx.args[0]}"`);
  const file = loginsFileOf(ctx.io.env ?? process.env);
  const clientId = ctx.values["client-id"] ?? targetOf(ctx).clientId;
  const saved = storedLogin(file, clientId);
  if (saved === undefined) {
    ctx.io.stdout.write(`no sign-in saved for app client ${clientId}: nothing to do\n`);
    return 0;
  }
  const endpoint = saved.endpoint ?? cognitoEndpointOf(saved.region);
  let revoked = "revoked";
  try {
    await cognitoCall(endpoint)("RevokeToken", { Token: saved.refreshToken, ClientId: saved.clientId });
  } catch (e) {
    // A pool that cannot revoke (cognito-local) still loses the token here; a pool that did not answer keeps it.
    if (!(e instanceof CognitoError)) throw e;
    if (saved.endpoint === undefined)
      throw new CliFailure([`mlflow-gate: the user pool did not revoke the token: ${e.message}`]);
    revoked = `not revoked (the local pool answered ${e.type})`;
  }
  forgetLogin(file, clientId);
  ctx.io.stdout.write(`signed out ${saved.username}: the refresh token is ${revoked} and removed from ${file}\n`);
  return 0;
}

export const loginCommands: Command[] = [
  { name: "login", options: ["password-stdin", "user-pool-id", "client-id", "region"], run: login },
  { name: "logout", options: ["user-pool-id", "client-id", "region"], run: logout },
];
