import { mkdtempSync, readFileSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { cliEnv, runCliProcess } from "../scripts/support/run-cli";
import { pluginOps, startTestStack, TestStack } from "./support/stack";

// `mlflow-gate login` against the local pool as a person runs it (bin/mlflow-gate.js), then the saved sign-in
// used by the plugin's bearer mode (the real MLflow SDK, no password or token in its environment) and by
// `sign --bearer`, and `logout`, after which the token is refused.

let t: TestStack;
let config: string;

beforeAll(async () => {
  t = await startTestStack();
  config = mkdtempSync(join(tmpdir(), "mlflow-gate-login-"));
}, 240_000);
afterAll(async () => {
  await t?.stop();
  if (config) rmSync(config, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}) =>
  cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir, XDG_CONFIG_HOME: config, ...extra });
const cli = (args: string[], stdin = "") => runCliProcess(args, { env: env(), stdin });
const password = (username: string) => t.stack.summary.demoUsers.find((u) => u.username === username)!.password;
const loginsFile = () => join(config, "mlflow-gate", "logins.json");

describe("mlflow-gate login", () => {
  test("signs the reader in, keeps the refresh token in a 0600 file, and prints no secret", async () => {
    // Act
    const r = await cli(["login", "reader", "--password-stdin"], `${password("reader")}\n`);
    // Assess
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `signed in as reader to the local pool ${t.stack.summary.cognito.userPoolId} (app client ${t.stack.summary.cognito.clientId}); the refresh token is in ${loginsFile()} (mode 0600)\n`,
    );
    expect(statSync(loginsFile()).mode & 0o777).toBe(0o600);
    const saved = readFileSync(loginsFile(), "utf8");
    expect(saved).not.toContain(password("reader"));
    const token = (JSON.parse(saved) as { logins: Record<string, { refreshToken: string }> }).logins[
      t.stack.summary.cognito.clientId
    ]!.refreshToken;
    expect(token.length).toBeGreaterThan(20);
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  test("the plugin's bearer mode uses the saved sign-in: the reader reads, and may not write", async () => {
    // Act: no client id, endpoint, user, password or token in the SDK's environment; AWS's files point nowhere.
    const r = await pluginOps(
      t.stack,
      "unused",
      [
        ["search", "search_experiments", {}],
        ["create", "create_experiment", { name: "login-bearer" }],
      ],
      {
        AWS_PROFILE: undefined,
        AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
        AWS_CONFIG_FILE: "/nonexistent",
        MLFLOW_GATE_AUTH_MODE: "bearer",
        XDG_CONFIG_HOME: config,
      },
    );
    // Assess
    expect(r.search).toMatchObject({ ok: true });
    expect(r.create).toMatchObject({ ok: false, error: expect.stringContaining("PERMISSION_DENIED") });
  });

  test("sign --bearer sends the reader's token: a read is 200, a write 403 (exit 3)", async () => {
    // Act
    const read = await runCliProcess(
      ["sign", "--bearer", `${t.stack.summary.gatewayUrl}/ajax-api/2.0/mlflow/experiments/search?max_results=1`],
      { env: env() },
    );
    const write = await runCliProcess(
      [
        "sign",
        "--bearer",
        "-d",
        '{"name":"x"}',
        `${t.stack.summary.gatewayUrl}/ajax-api/2.0/mlflow/experiments/create`,
      ],
      { env: env() },
    );
    // Assess
    expect([read.code, read.stderr]).toEqual([0, "HTTP 200 OK\n"]);
    expect([write.code, write.stderr]).toEqual([3, "HTTP 403 Forbidden\n"]);
  });

  test("a wrong password: exit 1, one line naming the user, nothing saved over the sign-in", async () => {
    // Prepare
    const before = readFileSync(loginsFile(), "utf8");
    // Act
    const r = await cli(["login", "reader", "--password-stdin"], "not the password\n");
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mlflow-gate: the user pool refused reader: .+\n$/);
    expect(r.stderr).not.toContain("not the password");
    expect(readFileSync(loginsFile(), "utf8")).toBe(before);
  });

  test("a first sign-in with a temporary password takes the new one from the second line", async () => {
    // Prepare: a user whose password must be changed at first sign-in.
    const passwordFile = join(config, "carol.password");
    const add = await runCliProcess(
      ["users", "add", "carol-login", "--group", "readers", "--temporary-password", "--password-file", passwordFile],
      { env: env() },
    );
    expect(add.code).toBe(0);
    const temporary = readFileSync(passwordFile, "utf8").trim();
    // Act
    const r = await cli(["login", "carol-login", "--password-stdin"], `${temporary}\nA-new-Passw0rd!-for-carol\n`);
    const again = await cli(["login", "carol-login", "--password-stdin"], "A-new-Passw0rd!-for-carol\n");
    // Assess
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(again.code).toBe(0);
    await runCliProcess(["users", "remove", "carol-login"], { env: env() });
  });

  test("logout revokes the token (the pool refuses it afterwards) and forgets it; a second logout has nothing to do", async () => {
    // Prepare
    await cli(["login", "reader", "--password-stdin"], `${password("reader")}\n`);
    const token = (
      JSON.parse(readFileSync(loginsFile(), "utf8")) as { logins: Record<string, { refreshToken: string }> }
    ).logins[t.stack.summary.cognito.clientId]!.refreshToken;
    // Act
    const out = await cli(["logout"]);
    const again = await cli(["logout"]);
    // Assess
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`signed out reader: the refresh token is revoked and removed from ${loginsFile()}\n`);
    await expect(t.stack.userPool.refresh(token)).rejects.toThrow();
    expect(again.stdout).toBe(`no sign-in saved for app client ${t.stack.summary.cognito.clientId}: nothing to do\n`);
  });
});
