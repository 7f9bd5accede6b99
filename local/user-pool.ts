import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  InitiateAuthCommand,
  InvalidPasswordException,
  ListGroupsCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
  UpdateUserPoolClientCommand,
  type UpdateUserPoolClientCommandInput,
  UserNotFoundException,
  type UserPoolClientType,
} from "@aws-sdk/client-cognito-identity-provider";
import { ChildProcess, spawn } from "child_process";
import { randomInt } from "crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "fs";
import { Agent } from "http";
import { tmpdir } from "os";
import { connect } from "net";
import { dirname, join } from "path";
import { LogSink } from "../common/log";
import { killOnExit, stopProcessGroup, tailOf, waitForHttp } from "./processes";
import { generatePoolKey, PoolKey, startUserPoolFront, UserPoolFront } from "./user-pool-front";

export interface UserPoolOptions {
  /** Where its processes' pid files go (`<data>/run`), for the next stack to stop leftovers; @default none */
  readonly runDir?: string;
  /** Holds cognito-local's state (`.cognito/`) and `pool.json`; created if missing, kept across restarts. */
  readonly stateDir: string;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** One Cognito group per group file. */
  readonly groups: readonly string[];
  /** Created on first start with generated passwords; each one's group must be in `groups`. */
  readonly demoUsers: readonly { username: string; group: string }[];
  /**
   * Lifetime of access and ID tokens. Cognito itself accepts 300 to 86400; cognito-local honours any
   * value, so browser tests can use a few seconds.
   * @default 3600 (Cognito's default; cognito-local's own would be 24 h)
   */
  readonly accessTokenValiditySeconds?: number;
  /**
   * The region SDK clients name when calling the pool. cognito-local ignores it (its pool ids start
   * with `local_`), but every SDK client needs one.
   * @default "us-east-1"
   */
  readonly region?: string;
  /** How long cognito-local may take to answer /health. @default 15000 */
  readonly readyTimeoutMs?: number;
  /** Progress lines; never passwords or tokens. @default no logging */
  readonly log?: (line: string) => void;
  /** The front's refusals, as JSON lines; @default not logged */
  readonly events?: LogSink;
}

export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly group: string;
}

export interface RunningUserPool {
  /** The pool's front (user-pool-front.ts): the endpoint of SDK clients, of the UI's login and of the tokens' issuer. */
  readonly endpoint: string;
  /** Signs administrator actions (SigV4, service `cognito-idp`): the front refuses them without it. */
  readonly adminKey: PoolKey;
  readonly userPoolId: string;
  /** The app client: no secret, USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH. */
  readonly clientId: string;
  /** Exactly the `iss` of the pool's tokens. */
  readonly issuer: string;
  /** `<issuer>/.well-known/jwks.json`, served by cognito-local. */
  readonly jwksUri: string;
  readonly region: string;
  readonly users: readonly DemoUser[];
  /** A confirmed user with a generated password in `groups` (none for a group-less user); not saved in pool.json. */
  createUser(username: string, groups: readonly string[]): Promise<DemoUser>;
  /** USER_PASSWORD_AUTH; a wrong password or unknown user rejects with NotAuthorizedException, as Cognito does. */
  login(username: string, password: string): Promise<LoginTokens>;
  /** REFRESH_TOKEN_AUTH: new access and ID tokens, no new refresh token. */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  stop(): Promise<void>;
}

export interface RefreshedTokens {
  readonly accessToken: string;
  readonly idToken: string;
  /** Seconds the access token is valid for. */
  readonly expiresIn: number;
}

export interface LoginTokens extends RefreshedTokens {
  readonly refreshToken: string;
}

/** What `<stateDir>/pool.json` holds: enough to find the same pool, client and demo passwords again. */
export interface SavedPool {
  readonly userPoolId: string;
  readonly clientId: string;
  /** Demo user name → password. */
  readonly passwords: Readonly<Record<string, string>>;
}

export const DEFAULT_ACCESS_TOKEN_VALIDITY_SECONDS = 3600;
const DEFAULT_REGION = "us-east-1";
const POOL_NAME = "mlflow-gate";
const CLIENT_NAME = "mlflow-gate-ui";
const REFRESH_TOKEN_VALIDITY_DAYS = 30;
/** Cognito's pattern for user and group names (1–128 printable characters, no whitespace). */
const COGNITO_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;
/** cognito-local never calls AWS; nothing from the parent's environment (credentials, DEBUG) reaches it. */
const COGNITO_LOCAL_ENV_KEEP = ["PATH", "TMPDIR"];
/** Linux's limit for a Unix socket's path is 108 bytes: a longer state directory gets a socket in a private temp directory. */
const MAX_SOCKET_PATH = 100;

const PASSWORD_LENGTH = 24;
const PASSWORD_CLASSES = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "-_.@%+="] as const;
/** The policy the pool declares. cognito-local stores it but does not enforce it; generated passwords satisfy it. */
const PASSWORD_POLICY = {
  MinimumLength: 16,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 1,
};

/** A random password with every character class of the policy (no look-alike characters, shell-safe symbols). */
export function generatePassword(length = PASSWORD_LENGTH): string {
  const all = PASSWORD_CLASSES.join("");
  const chars = PASSWORD_CLASSES.map((c) => c[randomInt(c.length)] as string);
  while (chars.length < length) chars.push(all[randomInt(all.length)] as string);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join("");
}

/** Every problem of the options, listed together; an empty list when they are usable. */
export function validateUserPoolOptions(options: UserPoolOptions): string[] {
  const problems: string[] = [];
  if (!(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535))
    problems.push(`port must be an integer from 0 to 65535, not ${options.port}`);
  for (const g of options.groups) if (!COGNITO_NAME.test(g)) problems.push(`group "${g}" is not a Cognito group name`);
  const groups = new Set(options.groups);
  const seen = new Set<string>();
  for (const u of options.demoUsers) {
    if (!COGNITO_NAME.test(u.username)) problems.push(`demo user "${u.username}" is not a Cognito user name`);
    if (seen.has(u.username)) problems.push(`demo user "${u.username}" is listed twice`);
    seen.add(u.username);
    if (!groups.has(u.group))
      problems.push(`demo user "${u.username}" is in group "${u.group}", which is not one of the groups`);
  }
  const validity = options.accessTokenValiditySeconds;
  if (validity !== undefined && !(Number.isInteger(validity) && validity >= 1 && validity <= 86_400)) {
    problems.push(`accessTokenValiditySeconds must be an integer from 1 to 86400, not ${validity}`);
  }
  return problems;
}

/**
 * cognito-local's `.cognito/config.json`: plain user names, an issuer on the front's address, and a Unix
 * socket to listen on (Node's listen takes a path where a port would be), which no web page can reach.
 */
export function buildCognitoLocalConfig(issuerDomain: string, socketPath: string): object {
  return {
    UserPoolDefaults: { UsernameAttributes: [] },
    TokenConfig: { IssuerDomain: issuerDomain },
    ServerConfig: { hostname: "localhost", port: socketPath, https: false, development: false },
  };
}

/** Whether something answers on a Unix socket: a running cognito-local, or a stale file left by one that died. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** Where cognito-local listens: in the pool's state directory (0700) when the path fits, else in a private temp directory. */
async function poolSocket(stateDir: string): Promise<{ readonly path: string; remove(): void }> {
  const inState = join(stateDir, "cognito-local.sock");
  if (inState.length <= MAX_SOCKET_PATH) {
    if (existsSync(inState) && lstatSync(inState).isSocket()) {
      // Another stack's pool is running on this state: leave it alone.
      if (await socketAnswers(inState))
        throw new Error(`${stateDir} is the state of a user pool that is running: stop the other stack first`);
      // A socket left by a stack that died: cognito-local cannot listen where it is.
      rmSync(inState);
    }
    return { path: inState, remove: () => rmSync(inState, { force: true }) };
  }
  const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-pool-"));
  chmodSync(dir, 0o700);
  return { path: join(dir, "cognito-local.sock"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A user's password as cognito-local stores it (`.cognito/db/<pool id>.json`, the layout its README documents,
 * in the 0700 state directory); undefined when the user or the file is not there.
 */
export function storedPassword(stateDir: string, userPoolId: string, username: string): string | undefined {
  try {
    const db = JSON.parse(readFileSync(join(stateDir, ".cognito", "db", `${userPoolId}.json`), "utf8")) as {
      Users?: Record<string, { Username?: unknown; Password?: unknown }>;
    };
    const users = Object.values(db.Users ?? {});
    const user = users.find((u) => u.Username === username);
    return typeof user?.Password === "string" ? user.Password : undefined;
  } catch {
    return undefined;
  }
}

/** Narrows the parsed contents of pool.json; throws naming what is wrong. */
export function parseSavedPool(value: unknown): SavedPool {
  const v = value as Partial<Record<keyof SavedPool, unknown>> | null;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a JSON object");
  if (typeof v.userPoolId !== "string" || v.userPoolId === "") throw new Error("userPoolId is missing");
  if (typeof v.clientId !== "string" || v.clientId === "") throw new Error("clientId is missing");
  const passwords = v.passwords as unknown;
  if (typeof passwords !== "object" || passwords === null || Array.isArray(passwords))
    throw new Error("passwords is not an object");
  for (const [name, p] of Object.entries(passwords))
    if (typeof p !== "string" || p === "") throw new Error(`password of "${name}" is not a string`);
  return { userPoolId: v.userPoolId, clientId: v.clientId, passwords: { ...(passwords as Record<string, string>) } };
}

function loadSavedPool(file: string): SavedPool | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return parseSavedPool(JSON.parse(readFileSync(file, "utf8")));
  } catch (e) {
    throw new Error(`${file} is not a saved user pool (${(e as Error).message}); delete it to create a new pool`);
  }
}

/** Written whole and renamed into place, readable by the owner only: it holds passwords. */
function savePool(file: string, pool: SavedPool): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(pool, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** cognito-local's CLI entry, from its package.json rather than a hard-coded path. */
function cognitoLocalBin(): string {
  const manifest = require.resolve("cognito-local/package.json");
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.["cognito-local"];
  if (bin === undefined) throw new Error(`${manifest} names no bin`);
  return join(dirname(manifest), bin);
}

/**
 * Runs cognito-local's own CLI with `cwd` = stateDir, which is where it keeps `.cognito/` (config
 * and one JSON file per pool). A child process rather than composing its internals in this process:
 * its only stable surface is the CLI and the `.cognito/` layout its README documents.
 */
async function startCognitoLocal(
  stateDir: string,
  front: UserPoolFront,
  socketPath: string,
  readyTimeoutMs: number,
  runDir: string | undefined,
): Promise<ChildProcess> {
  const configDir = join(stateDir, ".cognito");
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(configDir, "config.json"),
    `${JSON.stringify(buildCognitoLocalConfig(front.endpoint, socketPath), null, 2)}\n`,
    { mode: 0o600 },
  );
  const env: NodeJS.ProcessEnv = { AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1" };
  for (const key of COGNITO_LOCAL_ENV_KEEP) if (process.env[key] !== undefined) env[key] = process.env[key];
  const child = spawn(process.execPath, [cognitoLocalBin()], {
    cwd: stateDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  // Its lines are kept only to explain a failed start: at info level they carry no request bodies.
  killOnExit(child, runDir !== undefined ? { runDir, name: "cognito-local" } : undefined);
  const why = tailOf(child);
  try {
    // Through the front, which answers 503 until cognito-local listens on its socket.
    await waitForHttp(`${front.endpoint}/health`, child, readyTimeoutMs, why);
  } catch (e) {
    await stopProcessGroup(child);
    throw new Error(`cognito-local ${(e as Error).message}`);
  }
  return child;
}

const isMissing = (e: unknown) => e instanceof ResourceNotFoundException || e instanceof UserNotFoundException;

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

/**
 * The app client's settings, sent whole on create and on every update: Cognito's UpdateUserPoolClient
 * resets what it is not given (cognito-local keeps it), so both end the same.
 */
function appClientSettings(
  validitySeconds: number,
): Omit<UpdateUserPoolClientCommandInput, "UserPoolId" | "ClientId"> & { ClientName: string } {
  return {
    ClientName: CLIENT_NAME,
    ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    PreventUserExistenceErrors: "ENABLED",
    EnableTokenRevocation: true,
    AccessTokenValidity: validitySeconds,
    IdTokenValidity: validitySeconds,
    RefreshTokenValidity: REFRESH_TOKEN_VALIDITY_DAYS,
    TokenValidityUnits: { AccessToken: "seconds", IdToken: "seconds", RefreshToken: "days" },
  };
}

/**
 * Makes the pool match the options: reuses the saved pool and client when cognito-local still has
 * them (else creates both and forgets the old passwords), creates missing groups and demo users, and
 * sets each demo user's saved password, so the passwords printed are the ones that work.
 */
async function reconcilePool(
  cognito: CognitoIdentityProviderClient,
  saved: SavedPool | undefined,
  options: UserPoolOptions,
  validitySeconds: number,
  log: (line: string) => void,
): Promise<SavedPool> {
  let userPoolId = saved?.userPoolId;
  let passwords: Record<string, string> = { ...(saved?.passwords ?? {}) };
  if (
    userPoolId === undefined ||
    !(await exists(() => cognito.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }))))
  ) {
    if (userPoolId !== undefined)
      log(`saved user pool ${userPoolId} is gone from cognito-local's state: creating a new one`);
    const created = await cognito.send(
      new CreateUserPoolCommand({
        PoolName: POOL_NAME,
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        Policies: { PasswordPolicy: PASSWORD_POLICY },
        MfaConfiguration: "OFF",
      }),
    );
    userPoolId = created.UserPool?.Id as string;
    passwords = {};
    log(`created user pool ${userPoolId}`);
  }
  const poolId = userPoolId;

  const settings = appClientSettings(validitySeconds);
  let clientId = saved?.userPoolId === poolId ? saved.clientId : undefined;
  let client: UserPoolClientType | undefined;
  if (clientId !== undefined) {
    try {
      client = (await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId })))
        .UserPoolClient;
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
  if (client === undefined) {
    clientId = (
      await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, GenerateSecret: false, ...settings }))
    ).UserPoolClient?.ClientId as string;
    log(`created app client ${clientId}`);
  } else if (client.AccessTokenValidity !== validitySeconds || client.TokenValidityUnits?.AccessToken !== "seconds") {
    await cognito.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...settings }));
    log(`access token lifetime set to ${validitySeconds} s`);
  }

  // CreateGroup of an existing group would empty it in cognito-local: only missing groups are created.
  const existing = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await cognito.send(new ListGroupsCommand({ UserPoolId: poolId, Limit: 60, NextToken: nextToken }));
    for (const g of page.Groups ?? []) if (g.GroupName !== undefined) existing.add(g.GroupName);
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  for (const group of options.groups) {
    if (existing.has(group)) continue;
    await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
    log(`created group ${group}`);
  }

  // One request at a time: cognito-local rewrites the whole pool file on each change.
  for (const user of options.demoUsers) {
    const known = await exists(() =>
      cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: user.username })),
    );
    if (!known) {
      await cognito.send(
        new AdminCreateUserCommand({ UserPoolId: poolId, Username: user.username, MessageAction: "SUPPRESS" }),
      );
      log(`created user ${user.username} (${user.group})`);
    }
    const password = passwords[user.username] ?? generatePassword();
    passwords[user.username] = password;
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: user.username,
        Password: password,
        Permanent: true,
      }),
    );
    // Exactly its group: a demo user moved to another group file loses the rights of the old one.
    const memberOf = (
      (await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: user.username }))).Groups ??
      []
    ).map((g) => g.GroupName);
    for (const group of memberOf) {
      if (group === undefined || group === user.group) continue;
      await cognito.send(
        new AdminRemoveUserFromGroupCommand({ UserPoolId: poolId, Username: user.username, GroupName: group }),
      );
      log(`removed user ${user.username} from group ${group}`);
    }
    if (!memberOf.includes(user.group))
      await cognito.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: user.username, GroupName: user.group }),
      );
  }
  return { userPoolId: poolId, clientId: clientId as string, passwords };
}

/** The claims of a token this pool just issued (no verification: only its own `exp - iat` is read). */
function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** cognito-local's results carry no ExpiresIn; the token itself says how long it lives. */
function lifetimeOf(accessToken: string, expiresIn: number | undefined): number {
  if (expiresIn !== undefined) return expiresIn;
  const { exp, iat } = claimsOf(accessToken);
  return typeof exp === "number" && typeof iat === "number" ? exp - iat : 0;
}

/**
 * Starts cognito-local with its state in `stateDir`, listening on a Unix socket there, behind its front on
 * `host:port` (user-pool-front.ts), and makes sure it holds the pool, app client, groups and demo users of
 * the options; administrator actions are signed with a key made for this run. Pool id, client id and demo passwords are kept
 * in `<stateDir>/pool.json` (0600), so a restart finds the same users with the same passwords.
 */
export async function startUserPool(options: UserPoolOptions): Promise<RunningUserPool> {
  const problems = validateUserPoolOptions(options);
  if (problems.length > 0) throw new Error(`invalid user pool options: ${problems.join("; ")}`);
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? DEFAULT_REGION;
  const validitySeconds = options.accessTokenValiditySeconds ?? DEFAULT_ACCESS_TOKEN_VALIDITY_SECONDS;
  const log = options.log ?? (() => undefined);

  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  // cognito-local keeps passwords in plain text under this directory.
  chmodSync(options.stateDir, 0o700);
  const poolFile = join(options.stateDir, "pool.json");
  const saved = loadSavedPool(poolFile);

  const adminKey = generatePoolKey();
  const socket = await poolSocket(options.stateDir);
  // The pool's id is known once the pool is reconciled; until then no sign-in can need a stored password.
  const known: { poolId?: string } = {};
  const front = await startUserPoolFront({
    host,
    port: options.port,
    socketPath: socket.path,
    region,
    key: adminKey,
    passwordOf: (username) =>
      known.poolId === undefined ? undefined : storedPassword(options.stateDir, known.poolId, username),
    ...(options.events !== undefined ? { log: options.events } : {}),
  }).catch((e: NodeJS.ErrnoException) => {
    socket.remove();
    throw new Error(
      e.code === "EADDRINUSE"
        ? `port ${options.port} on ${host} is in use`
        : `cannot listen on ${host}:${options.port} (${e.code ?? e.message})`,
    );
  });
  let child: ChildProcess;
  try {
    child = await startCognitoLocal(
      options.stateDir,
      front,
      socket.path,
      options.readyTimeoutMs ?? 15_000,
      options.runDir,
    );
  } catch (e) {
    await front.stop();
    socket.remove();
    throw e;
  }
  const running = child;
  const endpoint = front.endpoint;
  const cognito = adminClient(endpoint, region, adminKey);
  const stop = async () => {
    cognito.destroy();
    await front.stop();
    await stopProcessGroup(running);
    socket.remove();
  };

  let pool: SavedPool;
  try {
    pool = await reconcilePool(cognito, saved, options, validitySeconds, log);
    savePool(poolFile, pool);
  } catch (e) {
    await stop();
    throw e;
  }
  const { userPoolId, clientId } = pool;
  known.poolId = userPoolId;
  const issuer = `${endpoint}/${userPoolId}`;
  return {
    endpoint,
    userPoolId,
    clientId,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    region,
    adminKey,
    users: options.demoUsers.map((u) => ({
      username: u.username,
      group: u.group,
      password: pool.passwords[u.username] as string,
    })),
    ...userPoolOperations(cognito, userPoolId, clientId),
    stop,
  };
}

/** What a caller does with a running pool: sign users in, refresh their tokens, create users. */
export type UserPoolOperations = Pick<RunningUserPool, "login" | "refresh" | "createUser">;

/**
 * The operations of the pool `userPoolId` behind `cognito`: for the stack that started it, and for
 * whoever reaches a running one by its endpoint (connectUserPool).
 */
function userPoolOperations(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  clientId: string,
): UserPoolOperations {
  const login = async (username: string, password: string): Promise<LoginTokens> => {
    try {
      const r = await cognito.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );
      const a = r.AuthenticationResult;
      if (!a?.AccessToken || !a.IdToken || !a.RefreshToken)
        throw new Error(`login of ${username} answered ${r.ChallengeName ?? "no tokens"}`);
      return {
        accessToken: a.AccessToken,
        idToken: a.IdToken,
        refreshToken: a.RefreshToken,
        expiresIn: lifetimeOf(a.AccessToken, a.ExpiresIn),
      };
    } catch (e) {
      // cognito-local answers a wrong password with InvalidPasswordException, Cognito with NotAuthorizedException.
      if (e instanceof InvalidPasswordException)
        throw new NotAuthorizedException({ message: "Incorrect username or password.", $metadata: e.$metadata });
      throw e;
    }
  };

  const refresh = async (refreshToken: string): Promise<RefreshedTokens> => {
    const r = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
    );
    const a = r.AuthenticationResult;
    if (!a?.AccessToken || !a.IdToken) throw new Error("refresh answered no tokens");
    return { accessToken: a.AccessToken, idToken: a.IdToken, expiresIn: lifetimeOf(a.AccessToken, a.ExpiresIn) };
  };

  const createUser = async (username: string, groups: readonly string[]): Promise<DemoUser> => {
    const password = generatePassword();
    await cognito.send(
      new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: username, MessageAction: "SUPPRESS" }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
    for (const group of groups)
      await cognito.send(
        new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: group }),
      );
    return { username, password, group: groups.join(",") };
  };

  return { login, refresh, createUser };
}

/**
 * An SDK client of the pool's front that signs with the pool key; never a real AWS endpoint or real credentials.
 * One attempt per call (a pool that is down says so at once), so no kept-alive sockets: a reused socket the front
 * closes as an idle one just as a call goes out would fail that call with ECONNRESET, and a loopback connection per
 * call costs nothing that matters for these few calls.
 */
export function adminClient(endpoint: string, region: string, key: PoolKey): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region,
    credentials: key,
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
  });
}

/** The operations of a pool another process runs (its endpoint, ids and key from the stack's summary). */
export function connectUserPool(
  endpoint: string,
  region: string,
  userPoolId: string,
  clientId: string,
  adminKey: PoolKey,
): UserPoolOperations & {
  close(): void;
} {
  const cognito = adminClient(endpoint, region, adminKey);
  return { ...userPoolOperations(cognito, userPoolId, clientId), close: () => cognito.destroy() };
}
