// Where `mlflow-gate login` keeps a person's refresh token: one JSON file in the user's config directory
// ($XDG_CONFIG_HOME/mlflow-gate/logins.json, else ~/.config/...), readable by its owner only, one sign-in per
// app client. The plugin's bearer mode and `sign --bearer` read it; `logout` removes the entry.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "fs";
import { homedir } from "os";
import { dirname, join } from "path";
import { CliFailure } from "./cli-errors";

export const LOGINS_FILE_VERSION = 1;

/** One sign-in: enough to renew tokens (REFRESH_TOKEN_AUTH) without the password. */
export interface StoredLogin {
  readonly username: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
  /** The pool's endpoint when it is not Cognito's regional one (the local pool). */
  readonly endpoint?: string;
  readonly refreshToken: string;
  readonly savedAt: string;
}

interface LoginsFile {
  readonly version: number;
  readonly logins: Record<string, StoredLogin>;
}

/** The file, from the environment the CLI runs in. */
export function loginsFileOf(env: Readonly<Record<string, string | undefined>>): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), ".config");
  return join(base, "mlflow-gate", "logins.json");
}

function readLogins(file: string): LoginsFile {
  if (!existsSync(file)) return { version: LOGINS_FILE_VERSION, logins: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliFailure([`mlflow-gate: ${file} is not JSON (${(e as Error).message}): remove it and sign in again`]);
  }
  const logins = (parsed as { logins?: unknown } | null)?.logins;
  if (typeof logins !== "object" || logins === null || Array.isArray(logins))
    throw new CliFailure([`mlflow-gate: ${file} holds no "logins" object: remove it and sign in again`]);
  return { version: LOGINS_FILE_VERSION, logins: logins as Record<string, StoredLogin> };
}

/** Written whole to a file of mode 0600 beside it, then renamed over it: never readable by others, never half. */
function writeLogins(file: string, content: LoginsFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: "w" });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function storedLogin(file: string, clientId: string): StoredLogin | undefined {
  return readLogins(file).logins[clientId];
}

export function saveLogin(file: string, login: StoredLogin): void {
  const current = readLogins(file);
  writeLogins(file, { version: LOGINS_FILE_VERSION, logins: { ...current.logins, [login.clientId]: login } });
}

/** Removes the app client's sign-in; the one removed, or undefined when there was none. */
export function forgetLogin(file: string, clientId: string): StoredLogin | undefined {
  const current = readLogins(file);
  const gone = current.logins[clientId];
  if (gone === undefined) return undefined;
  const { [clientId]: _gone, ...rest } = current.logins;
  writeLogins(file, { version: LOGINS_FILE_VERSION, logins: rest });
  return gone;
}
