// The `users` and `groups` commands of `mlflow-gate`: thin I/O around scripts/lib/user-admin.ts.
import { fchmodSync, existsSync, openSync, closeSync, writeSync, unlinkSync } from "fs";
import { generatePassword } from "../local/user-pool";
import { readGroupFiles } from "../authorizer/load-policies";
import type { CliIo, Command, Context } from "./lib/command";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { teamGroupNames } from "./lib/team-groups";
import { requireProfile } from "./lib/aws-profile";
import { readHidden, readPipe } from "./lib/password-input";
import {
  createPoolClient,
  describeTarget,
  formatUserTable,
  InitialPassword,
  isCognitoName,
  localStackFile,
  readStackFile,
  resolvePoolTarget,
  UserAdmin,
} from "./lib/user-admin";

const POOL_OPTIONS = ["user-pool-id", "region", "profile"] as const;
/** Cognito accepts passwords of up to 256 characters. */
const MAX_PASSWORD_LENGTH = 256;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const TOKEN_NOTE =
  "note: tokens already issued keep their groups until they expire (the access token's lifetime, 1 h by default, plus up to 5 min of the gateway's authorizer cache); the user's next sign-in or token refresh gets the new groups";

async function withPool<T>(ctx: Context, act: (admin: UserAdmin, describe: string) => Promise<T>): Promise<T> {
  const env = ctx.io.env ?? process.env;
  const target = resolvePoolTarget(
    {
      ...(ctx.values["user-pool-id"] !== undefined ? { userPoolId: ctx.values["user-pool-id"] } : {}),
      ...(ctx.values.region !== undefined ? { region: ctx.values.region } : {}),
      ...(ctx.values.profile !== undefined ? { profile: ctx.values.profile } : {}),
    },
    localStackFile(env, process.cwd()),
    readStackFile,
  );
  const profile = target.kind === "aws" ? (target.profile ?? (process.env.AWS_PROFILE || undefined)) : undefined;
  if (profile !== undefined) await requireProfile(profile, process.env);
  // The README says once that the SDK's 2027 releases need Node 22; a warning on every admin command is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = createPoolClient(target);
  try {
    return await act(new UserAdmin(client, target), describeTarget(target));
  } finally {
    client.destroy();
  }
}

/** The group files' names and descriptions; a broken file stops the command (its group would be unknown). */
function loadGroupNames(ctx: Context): { name: string; description: string }[] {
  const read = readGroupFiles(ctx.groupsDir);
  if (read.problems.length > 0) throw new CliFailure(read.problems);
  return read.files.map((f) => ({ name: f.name, description: f.description }));
}

/**
 * Group names on the command line must have a group file or be named by a team file: a typo would otherwise grant
 * nothing, silently.
 */
function requireGroupFiles(ctx: Context, groups: readonly string[]): void {
  const known = [...new Set([...loadGroupNames(ctx).map((f) => f.name), ...teamGroupNames(ctx.teamsDir)])].sort();
  const unknown = groups.find((g) => !known.includes(g));
  if (unknown !== undefined) throw new CliUsageError(`unknown group "${unknown}" (known groups: ${known.join(", ")})`);
}

function requireUsername(name: string | undefined, command: string): string {
  if (name === undefined) throw new CliUsageError(`${command} needs USER`);
  if (!isCognitoName(name))
    throw new CliUsageError(`"${name}" is not a Cognito user name (1 to 128 printable characters, no spaces)`);
  return name;
}

function noMoreArgs(ctx: Context, used: number): void {
  const extra = ctx.args[used];
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`);
}

const out = (ctx: Context, lines: readonly string[]) => {
  for (const l of lines) ctx.io.stdout.write(`${l}\n`);
};

// ---------------------------------------------------------------------------------------------------
// Passwords: read from stdin, or generated into a 0600 file. Never printed, never logged.

export async function readPasswordFromStdin(io: CliIo, username: string): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  const password = stdin.isTTY
    ? await readHidden(io, stdin, `Password for ${username} (not echoed): `)
    : await readPipe(stdin);
  if (password === "") throw new CliFailure([`mlflow-gate: no password on stdin for ${username}`]);
  if (/[\r\n]/.test(password))
    throw new CliFailure(["mlflow-gate: stdin holds more than one line; give the password alone"]);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new CliFailure([`mlflow-gate: the password is longer than ${MAX_PASSWORD_LENGTH} characters`]);
  return password;
}

/**
 * Creates the file exclusively (never overwrites, never follows a planted symlink) with mode 0600
 * and writes the password: only its owner can read it, and it reaches no terminal, log or history.
 */
export function writeSecretFile(file: string, secret: string): void {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new CliFailure([
        `mlflow-gate: ${file} exists; the password file is never overwritten: remove it or choose another`,
      ]);
    throw new CliFailure([`mlflow-gate: cannot create ${file} (${code ?? (e as Error).message})`]);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
}

/** The initial password mode from the options, checked without any I/O. */
export function initialPasswordOption(values: Context["values"]): "permanent" | "temporary" | "invitation" | "none" {
  const chosen = (["password-stdin", "temporary-password", "send-invitation"] as const).filter((o) => values[o]);
  if (chosen.length > 1) throw new CliUsageError(`--${chosen[0]} and --${chosen[1]} exclude each other`);
  if (values["password-file"] !== undefined && !values["temporary-password"])
    throw new CliUsageError("--password-file goes with --temporary-password");
  if (values["temporary-password"] && values["password-file"] === undefined) {
    throw new CliUsageError(
      "--temporary-password needs --password-file FILE (created with mode 0600): the password is never printed",
    );
  }
  if (values["send-invitation"] && values.email === undefined)
    throw new CliUsageError("--send-invitation needs --email: Cognito e-mails the invitation");
  if (values.email !== undefined && !EMAIL.test(values.email))
    throw new CliUsageError(`--email "${values.email}" is not an e-mail address`);
  return values["password-stdin"]
    ? "permanent"
    : values["temporary-password"]
      ? "temporary"
      : values["send-invitation"]
        ? "invitation"
        : "none";
}

// ---------------------------------------------------------------------------------------------------
// Commands

async function usersAdd(ctx: Context): Promise<number> {
  const username = requireUsername(ctx.args[0], "users add");
  noMoreArgs(ctx, 1);
  const groups = [...new Set(ctx.values.group ?? [])];
  if (groups.length === 0) throw new CliUsageError("missing --group");
  const mode = initialPasswordOption(ctx.values);
  requireGroupFiles(ctx, groups);
  const file = ctx.values["password-file"];
  if (file !== undefined && existsSync(file))
    throw new CliFailure([
      `mlflow-gate: ${file} exists; the password file is never overwritten: remove it or choose another`,
    ]);
  const password: InitialPassword =
    mode === "permanent"
      ? { kind: "permanent", read: () => readPasswordFromStdin(ctx.io, username) }
      : mode === "temporary"
        ? {
            kind: "temporary",
            generate: () => generatePassword(),
            deliver: (p) => writeSecretFile(file as string, p),
            undeliver: () => {
              try {
                unlinkSync(file as string);
              } catch {
                // already gone
              }
            },
          }
        : { kind: mode };
  const changes = await withPool(ctx, (admin) => {
    // cognito-local "delivers" invitations to its own log: the password would be lost, or end up in a log.
    if (mode === "invitation" && admin.target.kind === "local")
      throw new CliUsageError(
        "the local pool sends no e-mail: use --password-stdin or --temporary-password --password-file FILE",
      );
    return admin.addUser({
      username,
      groups,
      password,
      ...(ctx.values.email !== undefined ? { email: ctx.values.email } : {}),
    });
  });
  out(ctx, changes);
  if (mode === "temporary" && changes.some((c) => c.startsWith("temporary password"))) {
    ctx.io.stderr.write(
      `hand ${file} to ${username} over a private channel, then delete it; it is a one-time password\n`,
    );
  }
  return 0;
}

async function usersList(ctx: Context): Promise<number> {
  noMoreArgs(ctx, 0);
  const rows = await withPool(ctx, (admin) => admin.listUsers());
  out(ctx, formatUserTable(rows));
  return 0;
}

async function usersGroups(ctx: Context): Promise<number> {
  const username = requireUsername(ctx.args[0], "users groups");
  noMoreArgs(ctx, 1);
  const groups = await withPool(ctx, (admin) => admin.groupsOf(username));
  out(ctx, groups);
  if (groups.length === 0)
    ctx.io.stderr.write(`${username} is in no group: the gateway refuses them everything (403)\n`);
  return 0;
}

async function usersSetGroups(ctx: Context): Promise<number> {
  const username = requireUsername(ctx.args[0], "users set-groups");
  const groups = [...new Set(ctx.args.slice(1))];
  if (groups.length === 0)
    throw new CliUsageError(
      `users set-groups needs at least one group (to take every right away, "users remove ${username}")`,
    );
  requireGroupFiles(ctx, groups);
  const changes = await withPool(ctx, (admin) => admin.setGroups(username, groups));
  out(ctx, changes);
  if (changes.some((c) => /^(added|removed) /.test(c))) ctx.io.stderr.write(`${TOKEN_NOTE}\n`);
  return 0;
}

async function usersRemove(ctx: Context): Promise<number> {
  const username = requireUsername(ctx.args[0], "users remove");
  noMoreArgs(ctx, 1);
  out(ctx, await withPool(ctx, (admin) => admin.removeUser(username)));
  ctx.io.stderr.write(
    `note: ${username}'s refresh tokens no longer work; an access token already issued stays valid until it expires\n`,
  );
  return 0;
}

async function groupsSync(ctx: Context): Promise<number> {
  noMoreArgs(ctx, 0);
  const files = loadGroupNames(ctx);
  const dryRun = ctx.values["dry-run"] === true;
  const { sync, describe, poolId } = await withPool(ctx, async (admin, describe) => ({
    sync: await admin.syncGroups(files, { dryRun }),
    describe,
    poolId: admin.poolId,
  }));
  for (const g of sync.created) ctx.io.stdout.write(`${dryRun ? "would create" : "created"} group ${g}\n`);
  if (sync.unchanged.length > 0) ctx.io.stdout.write(`already in the pool: ${sync.unchanged.join(", ")}\n`);
  for (const g of sync.withoutFile) {
    ctx.io.stdout.write(
      `pool group ${g} has no group file: left in place; it grants nothing through mlflow-gate (to delete it: aws cognito-idp delete-group --user-pool-id ${poolId} --group-name ${g})\n`,
    );
  }
  ctx.io.stdout.write(
    `groups sync${dryRun ? " --dry-run" : ""}: ${describe}: ${sync.created.length} ${dryRun ? "to create" : "created"}, ${sync.unchanged.length} unchanged, ${sync.withoutFile.length} without a file\n`,
  );
  return 0;
}

export const usersCommands: readonly Command[] = [
  {
    name: "users add",
    options: [
      "group",
      "email",
      "password-stdin",
      "temporary-password",
      "password-file",
      "send-invitation",
      ...POOL_OPTIONS,
    ],
    run: usersAdd,
  },
  { name: "users list", options: [...POOL_OPTIONS], run: usersList },
  { name: "users groups", options: [...POOL_OPTIONS], run: usersGroups },
  { name: "users set-groups", options: [...POOL_OPTIONS], run: usersSetGroups },
  { name: "users remove", options: [...POOL_OPTIONS], run: usersRemove },
  { name: "groups sync", options: ["dry-run", ...POOL_OPTIONS], run: groupsSync },
];
