// `mlflow-gate users` and `groups sync`: Cognito user and group administration, on a real pool or the local one.
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  GetGroupCommand,
  ListGroupsCommand,
  ListUsersCommand,
  ListUsersInGroupCommand,
  ResourceNotFoundException,
  UserNotFoundException,
  UsernameExistsException,
} from "@aws-sdk/client-cognito-identity-provider";
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { resolveDataDir } from "../../local/config";
import { PoolKey } from "../../local/user-pool-front";
import { CliFailure, CliUsageError } from "./cli-errors";
import { isLoopbackHost, REGION, USER_POOL_ID } from "../../authorizer/core/contract";

/** The pool the commands act on. */
export type PoolTarget =
  | {
      readonly kind: "local";
      readonly userPoolId: string;
      readonly region: string;
      readonly endpoint: string;
      readonly stackFile: string;
      /** The stack's pool key: the local pool's front refuses administrator actions not signed with it. */
      readonly adminKey: PoolKey;
    }
  | { readonly kind: "aws"; readonly userPoolId: string; readonly region: string; readonly profile?: string };

/** Cognito's pool id pattern: the region, "_", an id. The region part is where the pool lives. */
/** Cognito's user and group name pattern (1–128 printable characters, no whitespace). */
const COGNITO_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;
/** Pages of a listing read at most; a pool that answers more is misbehaving (a token that never ends). */
const MAX_PAGES = 10_000;

export function isCognitoName(name: string): boolean {
  return COGNITO_NAME.test(name);
}

/** Where the local stack writes its summary: `$MLFLOW_GATE_DATA/stack.json`, as local/config.ts resolves it. */
export function localStackFile(env: NodeJS.ProcessEnv, cwd: string): string {
  return join(resolveDataDir(env, cwd), "stack.json");
}

/**
 * Chooses the pool: `--user-pool-id` names a real one (its region is the id's prefix unless `--region`
 * says the same); otherwise the local stack's pool when its stack.json exists. Never guesses a real pool.
 */
export function resolvePoolTarget(
  options: { readonly userPoolId?: string; readonly region?: string; readonly profile?: string },
  stackFile: string,
  readStack: (file: string) => unknown | undefined,
): PoolTarget {
  if (options.userPoolId !== undefined) {
    const m = USER_POOL_ID.exec(options.userPoolId);
    if (!m)
      throw new CliUsageError(
        `--user-pool-id "${options.userPoolId}" is not a Cognito user pool id (like eu-west-1_AbCdEf123)`,
      );
    if (options.region !== undefined && !REGION.test(options.region))
      throw new CliUsageError(`--region "${options.region}" is not an AWS region`);
    if (options.region !== undefined && options.region !== m[1]) {
      throw new CliUsageError(`--region ${options.region} does not match the pool id, whose pool lives in ${m[1]}`);
    }
    return {
      kind: "aws",
      userPoolId: options.userPoolId,
      region: m[1] as string,
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
    };
  }
  if (options.region !== undefined || options.profile !== undefined) {
    throw new CliUsageError("--region and --profile apply to a real pool: give --user-pool-id too");
  }
  const stack = readStack(stackFile);
  if (stack === undefined) {
    throw new CliUsageError(
      `no user pool: give --user-pool-id for a pool in AWS, or start the local stack ("npm start") so that ${stackFile} exists; a stack started with another MLFLOW_GATE_DATA: set it here too`,
    );
  }
  const cognito = (stack as { cognito?: Record<string, unknown> } | null)?.cognito;
  const region = (stack as { region?: unknown } | null)?.region;
  if (typeof cognito?.endpoint !== "string" || typeof cognito.userPoolId !== "string" || typeof region !== "string") {
    throw new CliFailure([
      `mlflow-gate: ${stackFile}: not a local stack summary (cognito.endpoint, cognito.userPoolId and region are needed); restart the local stack`,
    ]);
  }
  const endpoint = new URL(cognito.endpoint);
  // The local pool takes fake credentials: it must never be anything but a loopback address.
  if (endpoint.protocol !== "http:" || !isLoopbackHost(endpoint.hostname)) {
    throw new CliFailure([`mlflow-gate: ${stackFile}: cognito.endpoint ${cognito.endpoint} is not a loopback address`]);
  }
  const key = cognito.adminKey as Partial<Record<keyof PoolKey, unknown>> | undefined;
  if (typeof key?.accessKeyId !== "string" || typeof key.secretAccessKey !== "string") {
    throw new CliFailure([
      `mlflow-gate: ${stackFile}: no pool key (cognito.adminKey), which the local pool needs for administrator actions; restart the local stack ("npm start") to write one`,
    ]);
  }
  const adminKey = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  return { kind: "local", userPoolId: cognito.userPoolId, region, endpoint: endpoint.origin, stackFile, adminKey };
}

/** Reads stack.json when it exists; undefined when it does not. */
export function readStackFile(file: string): unknown | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliFailure([`mlflow-gate: ${file}: not JSON (${(e as Error).message})`]);
  }
}

/** The SDK client for the target: the local pool with the stack's pool key, a real one with the default chain. */
export function createPoolClient(target: PoolTarget): CognitoIdentityProviderClient {
  if (target.kind === "local") {
    // Real credentials never go to the local pool: only the key its stack made.
    return new CognitoIdentityProviderClient({
      endpoint: target.endpoint,
      region: target.region,
      credentials: target.adminKey,
      maxAttempts: 1,
    });
  }
  return new CognitoIdentityProviderClient({
    region: target.region,
    ...(target.profile !== undefined ? { profile: target.profile } : {}),
  });
}

/** The part of the SDK client the commands use, so tests can stand in for a pool. */
export type PoolClient = Pick<CognitoIdentityProviderClient, "send">;

export function describeTarget(target: PoolTarget): string {
  return target.kind === "local" ? `local pool ${target.userPoolId} (${target.endpoint})` : `pool ${target.userPoolId}`;
}

/** How a new user first signs in. `none` only for an existing user (nothing to set). */
export type InitialPassword =
  /** A password the administrator chose (read from stdin), set as permanent. */
  | { readonly kind: "permanent"; readonly read: () => Promise<string> }
  /** Generated here; the user must change it at first sign-in. `deliver` stores it before the user exists. */
  | {
      readonly kind: "temporary";
      readonly generate: () => string;
      readonly deliver: (password: string) => void;
      readonly undeliver: () => void;
    }
  /** Cognito generates one and e-mails it (the administrator never sees it). */
  | { readonly kind: "invitation" }
  | { readonly kind: "none" };

export interface AddUserRequest {
  readonly username: string;
  readonly groups: readonly string[];
  readonly email?: string;
  readonly password: InitialPassword;
}

/** The user admin operations on one pool. Every message names the pool; nothing ever contains a password. */
export class UserAdmin {
  constructor(
    private readonly client: PoolClient,
    readonly target: PoolTarget,
  ) {}

  get poolId(): string {
    return this.target.userPoolId;
  }

  /** Sends one call; turns SDK and network errors into one clear line. */
  private async call<T>(what: () => Promise<T>, subject?: { user?: string; group?: string }): Promise<T> {
    try {
      return await what();
    } catch (e) {
      throw this.explain(e, subject);
    }
  }

  private explain(e: unknown, subject?: { user?: string; group?: string }): Error {
    if (e instanceof CliFailure || e instanceof CliUsageError) return e;
    const err = e as { name?: string; message?: string; code?: string; cause?: { code?: string } };
    const pool = describeTarget(this.target);
    if (e instanceof UserNotFoundException && subject?.user !== undefined)
      return new CliFailure([`mlflow-gate: user "${subject.user}" does not exist in ${pool}`]);
    if (e instanceof UsernameExistsException && subject?.user !== undefined)
      return new CliFailure([
        `mlflow-gate: user "${subject.user}" was created in ${pool} meanwhile; run the command again`,
      ]);
    if (e instanceof ResourceNotFoundException) {
      if (subject?.group !== undefined && /group/i.test(err.message ?? "")) {
        return new CliFailure([
          `mlflow-gate: group "${subject.group}" does not exist in ${pool}: run "mlflow-gate groups sync" first`,
        ]);
      }
      return new CliFailure([
        `mlflow-gate: ${pool} was not found${this.target.kind === "aws" ? ` in ${this.target.region}` : ""}: ${err.message}`,
      ]);
    }
    // The SDK wraps network errors; the errno code may only be in the message.
    const code =
      err.code ??
      err.cause?.code ??
      /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH)\b/.exec(err.message ?? "")?.[1];
    if (code !== undefined && ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH"].includes(code)) {
      return new CliFailure([
        this.target.kind === "local"
          ? `mlflow-gate: cannot reach the local user pool at ${this.target.endpoint} (${code}): is the local stack ("npm start") running?`
          : `mlflow-gate: cannot reach Cognito in ${this.target.region} (${code})`,
      ]);
    }
    if (err.name === "CredentialsProviderError")
      return new CliFailure([
        `mlflow-gate: no AWS credentials for ${pool}: ${err.message} (set --profile or AWS_PROFILE)`,
      ]);
    return new CliFailure([`mlflow-gate: ${pool}: ${err.name ?? "Error"}: ${err.message ?? String(e)}`]);
  }

  /** Follows pagination tokens until the last page; a token seen twice ends with an error, not a loop. */
  private async paginate<P>(
    fetchPage: (token: string | undefined) => Promise<P>,
    tokenOf: (page: P) => string | undefined,
  ): Promise<P[]> {
    const pages: P[] = [];
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await fetchPage(token);
      pages.push(page);
      token = tokenOf(page) || undefined;
      if (token !== undefined) {
        if (seen.has(token) || pages.length >= MAX_PAGES)
          throw new CliFailure([
            `mlflow-gate: ${describeTarget(this.target)} returned a pagination token that never ends`,
          ]);
        seen.add(token);
      }
    } while (token !== undefined);
    return pages;
  }

  async listGroupNames(): Promise<string[]> {
    const pages = await this.paginate(
      (NextToken) =>
        this.call(() =>
          this.client.send(
            new ListGroupsCommand({ UserPoolId: this.poolId, Limit: 60, ...(NextToken ? { NextToken } : {}) }),
          ),
        ),
      (p) => p.NextToken,
    );
    return pages
      .flatMap((p) => (p.Groups ?? []).map((g) => g.GroupName))
      .filter((g): g is string => g !== undefined)
      .sort();
  }

  async userExists(username: string): Promise<boolean> {
    try {
      await this.client.send(new AdminGetUserCommand({ UserPoolId: this.poolId, Username: username }));
      return true;
    } catch (e) {
      if (e instanceof UserNotFoundException) return false;
      throw this.explain(e, { user: username });
    }
  }

  /** The user's groups, sorted; an unknown user is an error. */
  async groupsOf(username: string): Promise<string[]> {
    const pages = await this.paginate(
      (NextToken) =>
        this.call(
          () =>
            this.client.send(
              new AdminListGroupsForUserCommand({
                UserPoolId: this.poolId,
                Username: username,
                Limit: 60,
                ...(NextToken ? { NextToken } : {}),
              }),
            ),
          { user: username },
        ),
      (p) => p.NextToken,
    );
    return pages
      .flatMap((p) => (p.Groups ?? []).map((g) => g.GroupName))
      .filter((g): g is string => g !== undefined)
      .sort();
  }

  /** Every group must exist in the pool before a user is put in it: checked before anything changes. */
  private async requirePoolGroups(groups: readonly string[]): Promise<void> {
    for (const group of groups)
      await this.call(() => this.client.send(new GetGroupCommand({ UserPoolId: this.poolId, GroupName: group })), {
        group,
      });
  }

  /**
   * Creates the user if missing (invitation suppressed unless asked) and adds them to the groups; an
   * existing user keeps their password and other groups. Returns what changed, one line each.
   */
  async addUser(req: AddUserRequest): Promise<string[]> {
    await this.requirePoolGroups(req.groups);
    const changes: string[] = [];
    const exists = await this.userExists(req.username);
    if (!exists) {
      changes.push(...(await this.createUser(req)));
    } else {
      changes.push(`user ${req.username} exists`);
      if (req.password.kind !== "none") changes.push(`password of ${req.username} left unchanged (the user exists)`);
      if (req.email !== undefined) changes.push(...(await this.ensureEmail(req.username, req.email)));
    }
    const current = new Set(await this.groupsOf(req.username));
    for (const group of req.groups) {
      if (current.has(group)) {
        changes.push(`${req.username} is already in ${group}`);
        continue;
      }
      await this.call(
        () =>
          this.client.send(
            new AdminAddUserToGroupCommand({ UserPoolId: this.poolId, Username: req.username, GroupName: group }),
          ),
        { user: req.username, group },
      );
      changes.push(`added ${req.username} to ${group}`);
    }
    return changes;
  }

  private async createUser(req: AddUserRequest): Promise<string[]> {
    const attributes =
      req.email !== undefined
        ? [
            { Name: "email", Value: req.email },
            { Name: "email_verified", Value: "true" },
          ]
        : [];
    const p = req.password;
    if (p.kind === "none") {
      throw new CliUsageError(
        `user ${req.username} does not exist: say how they first sign in with --password-stdin, --temporary-password --password-file FILE, or --send-invitation --email E`,
      );
    }
    // Read before anything is created, so a missing password leaves no half-made user.
    const permanent = p.kind === "permanent" ? await p.read() : undefined;
    const temporary = p.kind === "temporary" ? p.generate() : undefined;
    if (temporary !== undefined && p.kind === "temporary") p.deliver(temporary);
    try {
      await this.call(
        () =>
          this.client.send(
            new AdminCreateUserCommand({
              UserPoolId: this.poolId,
              Username: req.username,
              UserAttributes: attributes,
              ...(p.kind === "invitation" ? { DesiredDeliveryMediums: ["EMAIL"] } : { MessageAction: "SUPPRESS" }),
              // A chosen password goes in as the temporary one too: one the pool's policy refuses stops here, before the user exists.
              ...(temporary !== undefined || permanent !== undefined
                ? { TemporaryPassword: temporary ?? permanent }
                : {}),
            }),
          ),
        { user: req.username },
      );
    } catch (e) {
      if (p.kind === "temporary") p.undeliver();
      throw e;
    }
    const lines = [`created user ${req.username}${req.email !== undefined ? ` <${req.email}>` : ""}`];
    if (permanent !== undefined) {
      await this.call(
        () =>
          this.client.send(
            new AdminSetUserPasswordCommand({
              UserPoolId: this.poolId,
              Username: req.username,
              Password: permanent,
              Permanent: true,
            }),
          ),
        { user: req.username },
      );
      lines.push(`password of ${req.username} set from stdin (permanent)`);
    } else if (temporary !== undefined) {
      lines.push(
        `temporary password of ${req.username} written to the password file; they must change it at first sign-in`,
      );
    } else {
      lines.push(`Cognito e-mailed an invitation with a temporary password to ${req.email}`);
    }
    return lines;
  }

  private async ensureEmail(username: string, email: string): Promise<string[]> {
    const user = await this.call(
      () => this.client.send(new AdminGetUserCommand({ UserPoolId: this.poolId, Username: username })),
      { user: username },
    );
    const current = user.UserAttributes?.find((a) => a.Name === "email")?.Value;
    if (current === email) return [];
    await this.call(
      () =>
        this.client.send(
          new AdminUpdateUserAttributesCommand({
            UserPoolId: this.poolId,
            Username: username,
            UserAttributes: [
              { Name: "email", Value: email },
              { Name: "email_verified", Value: "true" },
            ],
          }),
        ),
      { user: username },
    );
    return [`email of ${username} set to ${email}`];
  }

  /** Makes the user's groups exactly `groups`. Returns what changed. */
  async setGroups(username: string, groups: readonly string[]): Promise<string[]> {
    const current = await this.groupsOf(username);
    await this.requirePoolGroups(groups);
    const want = new Set(groups);
    const changes: string[] = [];
    for (const group of groups) {
      if (current.includes(group)) continue;
      await this.call(
        () =>
          this.client.send(
            new AdminAddUserToGroupCommand({ UserPoolId: this.poolId, Username: username, GroupName: group }),
          ),
        { user: username, group },
      );
      changes.push(`added ${username} to ${group}`);
    }
    // Removals after additions: the user never passes through a moment with no group at all.
    for (const group of current) {
      if (want.has(group)) continue;
      await this.call(
        () =>
          this.client.send(
            new AdminRemoveUserFromGroupCommand({ UserPoolId: this.poolId, Username: username, GroupName: group }),
          ),
        { user: username, group },
      );
      changes.push(`removed ${username} from ${group}`);
    }
    if (changes.length === 0) changes.push(`${username} is already in exactly ${[...want].sort().join(", ")}`);
    return changes;
  }

  /** Removes the user; a user who does not exist is already as asked (said so, not an error). */
  async removeUser(username: string): Promise<string[]> {
    try {
      await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.poolId, Username: username }));
    } catch (e) {
      if (e instanceof UserNotFoundException)
        return [`${username} does not exist in ${describeTarget(this.target)}: nothing to remove`];
      throw this.explain(e, { user: username });
    }
    return [`removed user ${username}`];
  }

  /** Every user with status, e-mail and groups: ListUsers, plus one ListUsersInGroup per group (not one call per user). */
  async listUsers(): Promise<UserRow[]> {
    const pages = await this.paginate(
      (PaginationToken) =>
        this.call(() =>
          this.client.send(
            new ListUsersCommand({
              UserPoolId: this.poolId,
              Limit: 60,
              ...(PaginationToken ? { PaginationToken } : {}),
            }),
          ),
        ),
      (p) => p.PaginationToken,
    );
    const groupsByUser = new Map<string, string[]>();
    for (const group of await this.listGroupNames()) {
      const members = await this.paginate(
        (NextToken) =>
          this.call(
            () =>
              this.client.send(
                new ListUsersInGroupCommand({
                  UserPoolId: this.poolId,
                  GroupName: group,
                  Limit: 60,
                  ...(NextToken ? { NextToken } : {}),
                }),
              ),
            { group },
          ),
        (p) => p.NextToken,
      );
      for (const u of members.flatMap((p) => p.Users ?? [])) {
        if (u.Username === undefined) continue;
        groupsByUser.set(u.Username, [...(groupsByUser.get(u.Username) ?? []), group]);
      }
    }
    return pages
      .flatMap((p) => p.Users ?? [])
      .filter((u) => u.Username !== undefined)
      .map((u) => ({
        username: u.Username as string,
        status: u.UserStatus ?? "UNKNOWN",
        enabled: u.Enabled !== false,
        email: u.Attributes?.find((a) => a.Name === "email")?.Value ?? "",
        groups: (groupsByUser.get(u.Username as string) ?? []).sort(),
      }))
      .sort((a, b) => a.username.localeCompare(b.username));
  }

  /**
   * Creates the pool groups that have a group file and are missing, with the file's description.
   * Pool groups without a file are reported, never deleted: their members may still need them.
   * Existing groups are left alone (recreating one would empty it in cognito-local). `dryRun` lists
   * what would be created and changes nothing.
   */
  async syncGroups(
    files: readonly { readonly name: string; readonly description: string }[],
    options: { readonly dryRun?: boolean } = {},
  ): Promise<GroupSync> {
    const existing = new Set(await this.listGroupNames());
    const created: string[] = [];
    for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name))) {
      if (existing.has(f.name)) continue;
      if (options.dryRun) {
        created.push(f.name);
        continue;
      }
      // Cognito caps descriptions at 2048 characters.
      const description = `mlflow-gate: ${f.description}`.replace(/\s+/g, " ").trim().slice(0, 2048);
      await this.call(
        () =>
          this.client.send(
            new CreateGroupCommand({ UserPoolId: this.poolId, GroupName: f.name, Description: description }),
          ),
        { group: f.name },
      );
      created.push(f.name);
    }
    const names = new Set(files.map((f) => f.name));
    return {
      created,
      unchanged: [...existing].filter((g) => names.has(g)).sort(),
      withoutFile: [...existing].filter((g) => !names.has(g)).sort(),
    };
  }
}

export interface UserRow {
  readonly username: string;
  readonly status: string;
  readonly enabled: boolean;
  readonly email: string;
  readonly groups: readonly string[];
}

export interface GroupSync {
  readonly created: readonly string[];
  readonly unchanged: readonly string[];
  /** In the pool, no group file: they grant nothing (the authorizer knows only file groups) and are left in place. */
  readonly withoutFile: readonly string[];
}

/** A table with a header, columns padded, for `users list`. */
export function formatUserTable(rows: readonly UserRow[]): string[] {
  const table = [
    ["USER", "STATUS", "ENABLED", "GROUPS", "EMAIL"],
    ...rows.map((r) => [r.username, r.status, r.enabled ? "yes" : "no", r.groups.join(",") || "-", r.email || "-"]),
  ];
  const widths = (table[0] as string[]).map((_c, i) => Math.max(...table.map((r) => (r[i] as string).length)));
  return table.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd(),
  );
}
