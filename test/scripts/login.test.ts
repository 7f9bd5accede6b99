import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { cliEnv, runCli } from "./support/run-cli";

// `mlflow-gate login` and `logout` before anything is sent: what they refuse, and where they look.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-login-cli-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = () => cliEnv({ MLFLOW_GATE_DATA: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") });

describe("login and logout, refused before anything is sent", () => {
  test.each([
    [["login"], "login needs USER"],
    [["login", "a b"], '"a b" is not a Cognito user name'],
    [
      ["login", "alice", "--user-pool-id", "eu-west-1_AbC123"],
      "a deployed pool needs both --user-pool-id and --client-id",
    ],
    [["login", "alice", "--client-id", "abc"], "a deployed pool needs both --user-pool-id and --client-id"],
    [
      ["login", "alice", "--user-pool-id", "eu-west-1_AbC123", "--client-id", "a/b"],
      '--client-id "a/b" is not an app client id',
    ],
    [
      ["login", "alice", "--user-pool-id", "pool", "--client-id", "abc"],
      '--user-pool-id "pool" is not a Cognito user pool id',
    ],
    [
      ["login", "alice", "--user-pool-id", "eu-west-1_AbC123", "--client-id", "abc"],
      "no terminal to ask the password on: give it on stdin with --password-stdin",
    ],
  ])("%j: exit 2, %s", async (args, message) => {
    // Act
    const r = await runCli(args, { env: env() });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test("without a local stack or --user-pool-id, login names the data directory and MLFLOW_GATE_DATA", async () => {
    // Act
    const r = await runCli(["login", "alice", "--password-stdin"], { env: env(), stdin: "pw\n" });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `so that ${join(dir, "data", "stack.json")} exists; a stack started with another MLFLOW_GATE_DATA`,
    );
  });

  test("three lines on stdin are refused before the pool is called", async () => {
    // Act
    const r = await runCli(
      ["login", "alice", "--password-stdin", "--user-pool-id", "eu-west-1_AbC123", "--client-id", "abc"],
      {
        env: env(),
        stdin: "one\ntwo\nthree\n",
      },
    );
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("mlflow-gate: stdin holds more than two lines (the password, then a new one)\n");
  });

  test("logout with nothing saved has nothing to do", async () => {
    // Act
    const r = await runCli(["logout", "--client-id", "abc"], { env: env() });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("no sign-in saved for app client abc: nothing to do\n");
  });
});
