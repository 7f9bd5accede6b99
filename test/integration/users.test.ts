import {
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  ListGroupsCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { adminClient } from "../../local/user-pool";
import { GROUPS_DIR } from "../../project/paths";
import { cliEnv, runCli, runCliProcess } from "../scripts/support/run-cli";
import { bearerCall, startTestStack, TestStack } from "./support/stack";

// `mlflow-gate users` and `groups sync` against the real local pool (cognito-local), with the
// gateway and MLflow behind it deciding what the users' tokens may do.

let t: TestStack;
let env: NodeJS.ProcessEnv;
let work: string;
let pool: CognitoIdentityProviderClient;
const PASSWORD = "Correct-Horse-9-Battery";

beforeAll(async () => {
  // A stack of its own: it adds groups and users to the pool.
  t = await startTestStack({ private: true });
  env = { MLFLOW_GATE_DATA: t.config.dataDir };
  work = mkdtempSync(join(tmpdir(), "mlflow-gate-users-"));
  const c = t.stack.summary.cognito;
  pool = adminClient(c.endpoint, t.stack.summary.region, c.adminKey);
}, 240_000);
afterAll(async () => {
  pool?.destroy();
  await t?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const call = async (method: string, path: string, token: string, body?: unknown): Promise<number> =>
  (await bearerCall(t.stack, token, method, path, body)).status;

const registerModel = (token: string, name: string) =>
  call("POST", "/ajax-api/2.0/mlflow/registered-models/create", token, { name });
const createExperiment = (token: string, name: string) =>
  call("POST", "/ajax-api/2.0/mlflow/experiments/create", token, { name });
const searchExperiments = (token: string) =>
  call("GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=5", token);

describe("a user's life: add, sign in, change groups, remove", () => {
  let refreshToken: string;

  test("users add --password-stdin (run as a user would): the user signs in as a reader and is denied writes; the password is printed nowhere", async () => {
    // Act
    const r = await runCliProcess(
      ["users", "add", "alice", "--group", "readers", "--email", "alice@example.com", "--password-stdin"],
      { env: cliEnv(env), stdin: `${PASSWORD}\n` },
    );
    // Assess
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain("created user alice <alice@example.com>");
    expect(r.stdout).toContain("added alice to readers");
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    const tokens = await t.stack.userPool.login("alice", PASSWORD);
    refreshToken = tokens.refreshToken;
    expect(await searchExperiments(tokens.accessToken)).toBe(200);
    expect(await registerModel(tokens.accessToken, "alice-model")).toBe(403);
    expect(await createExperiment(tokens.accessToken, "alice-exp")).toBe(403);
  });

  test("adding the same user to the same group again changes nothing and says so; the password stays", async () => {
    // Act
    const r = await runCli(["users", "add", "alice", "--group", "readers", "--password-stdin"], {
      env,
      stdin: "another-password-1A!\n",
    });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "user alice exists",
      "password of alice left unchanged (the user exists)",
      "alice is already in readers",
      "",
    ]);
    await expect(t.stack.userPool.login("alice", PASSWORD)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  test("users set-groups to model-approvers: the old token keeps reader rights, a refreshed one may register models but still not create experiments", async () => {
    // Prepare
    const before = (await t.stack.userPool.refresh(refreshToken)).accessToken;
    // Act
    const r = await runCli(["users", "set-groups", "alice", "model-approvers"], { env });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual(["added alice to model-approvers", "removed alice from readers", ""]);
    expect(r.stderr).toContain("tokens already issued keep their groups until they expire");
    expect((await runCli(["users", "groups", "alice"], { env })).stdout).toBe("model-approvers\n");
    expect(await registerModel(before, "alice-model")).toBe(403);
    const after = (await t.stack.userPool.refresh(refreshToken)).accessToken;
    expect(await registerModel(after, "alice-model")).toBe(200);
    expect(await createExperiment(after, "alice-exp")).toBe(403);
    expect(await searchExperiments(after)).toBe(200);
  });

  test("users list shows every user with status, groups and e-mail", async () => {
    // Act
    const r = await runCli(["users", "list"], { env });
    // Assess
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(["USER", "STATUS", "ENABLED", "GROUPS", "EMAIL"]);
    expect(rows).toContainEqual(["alice", "CONFIRMED", "yes", "model-approvers", "alice@example.com"]);
    expect(rows).toContainEqual(["reader", "CONFIRMED", "yes", "readers", "-"]);
    expect(rows).toContainEqual(["admin", "CONFIRMED", "yes", "admins", "-"]);
  });

  test("users remove: the user is gone, their refresh token no longer works, and a second remove changes nothing and says so", async () => {
    // Act
    const r = await runCli(["users", "remove", "alice"], { env });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("removed user alice\n");
    await expect(t.stack.userPool.refresh(refreshToken)).rejects.toThrow();
    // Run again, it changes nothing and says so (exit 0), as every users command does.
    const again = await runCli(["users", "remove", "alice"], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^alice does not exist in local pool \S+ \(http:\/\/127\.0\.0\.1:\d+\): nothing to remove\n$/,
    );
    expect((await runCli(["users", "list"], { env })).stdout).not.toMatch(/^alice /m);
  });
});

describe("temporary passwords", () => {
  test("--temporary-password writes a one-time password to a new 0600 file only; signing in with it asks for a new password", async () => {
    // Prepare
    const file = join(work, "tina.password");
    // Act
    const r = await runCliProcess(
      ["users", "add", "tina", "--group", "readers", "--temporary-password", "--password-file", file],
      { env: cliEnv(env) },
    );
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("created user tina");
    expect(r.stderr).toContain(`hand ${file} to tina over a private channel`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, "utf8").trimEnd();
    expect(password).toMatch(/^\S{24}$/);
    expect(r.stdout + r.stderr).not.toContain(password);
    await expect(t.stack.userPool.login("tina", password)).rejects.toThrow(/NEW_PASSWORD_REQUIRED/);
    const list = await runCli(["users", "list"], { env });
    expect(list.stdout).toMatch(/^tina\s+FORCE_CHANGE_PASSWORD\s+yes\s+readers\s+-$/m);
  });

  test("an existing password file is never overwritten, and no user is created", async () => {
    // Prepare
    const file = join(work, "taken.password");
    writeFileSync(file, "keep me\n");
    // Act
    const r = await runCli(
      ["users", "add", "tom", "--group", "readers", "--temporary-password", "--password-file", file],
      { env },
    );
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is never overwritten");
    expect(readFileSync(file, "utf8")).toBe("keep me\n");
    expect((await runCli(["users", "groups", "tom"], { env })).code).toBe(1);
  });
});

describe("clear errors", () => {
  test("a group without a group file is a usage error listing the known groups, and nothing is created", async () => {
    // Act
    const r = await runCli(["users", "add", "bob", "--group", "reader", "--password-stdin"], { env, stdin: PASSWORD });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'mlflow-gate: unknown group "reader" (known groups: admins, model-approvers, readers, release-managers, writers); run "mlflow-gate --help"\n',
    );
    expect((await runCli(["users", "list"], { env })).stdout).not.toMatch(/^bob /m);
    const set = await runCli(["users", "set-groups", "reader", "admins", "auditors"], { env });
    expect(set.code).toBe(2);
    expect(set.stderr).toContain('unknown group "auditors"');
    expect((await runCli(["users", "groups", "reader"], { env })).stdout).toBe("readers\n");
  });

  test.each([[["users", "groups", "nobody"]], [["users", "set-groups", "nobody", "readers"]]])(
    "%j: an unknown user exits 1 naming the user and the pool",
    async (args) => {
      // Act
      const r = await runCli(args, { env });
      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^mlflow-gate: user "nobody" does not exist in local pool /);
      expect(r.stdout).toBe("");
    },
  );

  test("a new user without a way to sign in, or with an e-mail invitation the local pool cannot send, is refused before anything is created", async () => {
    // Act
    const r = await runCli(["users", "add", "carol", "--group", "readers"], { env });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "say how they first sign in with --password-stdin, --temporary-password --password-file FILE, or --send-invitation --email E",
    );
    expect((await runCli(["users", "groups", "carol"], { env })).code).toBe(1);
    const invited = await runCli(
      ["users", "add", "carol", "--group", "readers", "--email", "carol@example.com", "--send-invitation"],
      { env },
    );
    expect(invited.code).toBe(2);
    expect(invited.stderr).toContain(
      "the local pool sends no e-mail: use --password-stdin or --temporary-password --password-file FILE",
    );
    expect((await runCli(["users", "groups", "carol"], { env })).code).toBe(1);
  });
});

describe("groups sync", () => {
  test("creates groups that have a file, reports a pool group without one and leaves it; a second run changes nothing", async () => {
    // Prepare: a groups directory with one more group file, and a pool group that has none.
    const groupsDir = join(work, "groups");
    cpSync(GROUPS_DIR, groupsDir, { recursive: true });
    writeFileSync(join(groupsDir, "auditors.yaml"), "description: Auditors read everything.\nallow:\n  - class:read\n");
    await pool.send(
      new CreateGroupCommand({ UserPoolId: t.stack.summary.cognito.userPoolId, GroupName: "legacy-team" }),
    );
    // Act
    const dry = await runCli(["--groups-dir", groupsDir, "groups", "sync", "--dry-run"], { env });
    const groupsAfterDryRun = (
      await pool.send(new ListGroupsCommand({ UserPoolId: t.stack.summary.cognito.userPoolId }))
    ).Groups?.map((g) => g.GroupName);
    const first = await runCliProcess(["--groups-dir", groupsDir, "groups", "sync"], { env: cliEnv(env) });
    const second = await runCli(["--groups-dir", groupsDir, "groups", "sync"], { env });
    // Assess
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would create group auditors\n");
    expect(dry.stdout).toMatch(/^groups sync --dry-run: local pool .*: 1 to create, 5 unchanged, 1 without a file$/m);
    expect(groupsAfterDryRun).not.toContain("auditors");
    expect(first.code).toBe(0);
    expect(first.stdout.split("\n")).toEqual([
      "created group auditors",
      "already in the pool: admins, model-approvers, readers, release-managers, writers",
      expect.stringMatching(
        /^pool group legacy-team has no group file: left in place; it grants nothing through mlflow-gate \(to delete it: aws cognito-idp delete-group --user-pool-id \S+ --group-name legacy-team\)$/,
      ),
      expect.stringMatching(/^groups sync: local pool .*: 1 created, 5 unchanged, 1 without a file$/),
      "",
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/: 0 created, 6 unchanged, 1 without a file\n$/);
    const groups = (
      await pool.send(new ListGroupsCommand({ UserPoolId: t.stack.summary.cognito.userPoolId }))
    ).Groups?.map((g) => g.GroupName).sort();
    expect(groups).toEqual([
      "admins",
      "auditors",
      "legacy-team",
      "model-approvers",
      "readers",
      "release-managers",
      "writers",
    ]);
    // The demo users kept their groups: existing groups are never recreated (that would empty them).
    expect((await runCli(["users", "groups", "admin"], { env })).stdout).toBe("admins\n");
  });
});
