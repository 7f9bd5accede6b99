import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { CliFailure, CliUsageError } from "../../scripts/lib/cli-errors";
import { PassThrough, Readable } from "stream";
import { initialPasswordOption, readPasswordFromStdin, writeSecretFile } from "../../scripts/users";
import { runCli } from "./support/run-cli";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-users-unit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("initialPasswordOption", () => {
  test.each([
    [{ "password-stdin": true }, "permanent"],
    [{ "temporary-password": true, "password-file": "p" }, "temporary"],
    [{ "send-invitation": true, email: "a@example.com" }, "invitation"],
    [{}, "none"],
  ])("%j is %s", (values, mode) => {
    // Act / Assess
    expect(initialPasswordOption(values)).toBe(mode);
  });

  test.each([
    [
      { "password-stdin": true, "temporary-password": true, "password-file": "p" },
      "--password-stdin and --temporary-password exclude each other",
    ],
    [
      { "temporary-password": true },
      "--temporary-password needs --password-file FILE (created with mode 0600): the password is never printed",
    ],
    [{ "password-file": "p" }, "--password-file goes with --temporary-password"],
    [{ "send-invitation": true }, "--send-invitation needs --email"],
    [{ email: "not-an-address" }, '--email "not-an-address" is not an e-mail address'],
  ])("%j is a usage error", (values, message) => {
    // Act / Assess
    expect(() => initialPasswordOption(values)).toThrow(CliUsageError);
    expect(() => initialPasswordOption(values)).toThrow(message);
  });
});

describe("readPasswordFromStdin", () => {
  const io = () => {
    const err: string[] = [];
    return { err, io: { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } } };
  };
  const pipe = (text: string) => Object.assign(Readable.from([Buffer.from(text)]), { isTTY: false });

  test("from a pipe: the whole input, one trailing line break dropped", async () => {
    // Act / Assess
    await expect(readPasswordFromStdin({ ...io().io, stdin: pipe("p a$$ word\r\n") }, "ann")).resolves.toBe(
      "p a$$ word",
    );
    await expect(readPasswordFromStdin({ ...io().io, stdin: pipe("pw") }, "ann")).resolves.toBe("pw");
  });

  test.each([
    ["", "no password on stdin for ann"],
    ["\n", "no password on stdin for ann"],
    ["one\ntwo\n", "stdin holds more than one line"],
    ["x".repeat(257), "longer than 256 characters"],
  ])("from a pipe, %j is refused", async (text, message) => {
    // Act / Assess
    await expect(readPasswordFromStdin({ ...io().io, stdin: pipe(text) }, "ann")).rejects.toThrow(message);
  });

  test("on a terminal: one prompt on stderr, raw mode (no echo) while typing, backspace honoured, Enter ends", async () => {
    // Prepare
    const { io: cliIo, err } = io();
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: jest.fn() });
    // Act
    const read = readPasswordFromStdin({ ...cliIo, stdin: tty }, "ann");
    tty.write("secrx");
    tty.write("\u007fet\r");
    // Assess
    await expect(read).resolves.toBe("secret");
    expect(err.join("")).toBe("Password for ann (not echoed): \n");
    expect(tty.setRawMode.mock.calls).toEqual([[true], [false]]);
  });

  test("on a terminal, Ctrl-C cancels and leaves raw mode", async () => {
    // Prepare
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: jest.fn() });
    // Act
    const read = readPasswordFromStdin({ ...io().io, stdin: tty }, "ann");
    tty.write("sec\u0003");
    // Assess
    await expect(read).rejects.toThrow("cancelled");
    expect(tty.setRawMode).toHaveBeenLastCalledWith(false);
  });
});

describe("writeSecretFile", () => {
  test("creates the file with mode 0600 whatever the umask, holding the secret and a line break", () => {
    // Prepare
    const file = join(dir, "pw");
    const umask = process.umask(0o000);
    // Act
    try {
      writeSecretFile(file, "s3cret");
    } finally {
      process.umask(umask);
    }
    // Assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe("s3cret\n");
  });

  test("never overwrites a file, and never writes through a symlink planted at the path", () => {
    // Prepare
    const file = join(dir, "pw");
    writeFileSync(file, "old");
    const target = join(dir, "target");
    writeFileSync(target, "victim");
    const link = join(dir, "link");
    symlinkSync(target, link);
    // Act / Assess
    expect(() => writeSecretFile(file, "new")).toThrow(CliFailure);
    expect(() => writeSecretFile(link, "new")).toThrow("is never overwritten");
    expect(readFileSync(file, "utf8")).toBe("old");
    expect(readFileSync(target, "utf8")).toBe("victim");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe("mlflow-gate users and groups: command line", () => {
  test.each([
    [["users"], "missing users command (add, list, groups, set-groups, remove)"],
    [["users", "add", "--group", "readers"], "users add needs USER"],
    [["users", "add", "ann"], "missing --group"],
    [["users", "add", "ann", "bob", "--group", "readers"], 'unexpected argument "bob"'],
    [
      ["users", "add", "a n", "--group", "readers"],
      '"a n" is not a Cognito user name (1 to 128 printable characters, no spaces)',
    ],
    [
      ["users", "add", "ann", "--group", "nobody", "--password-stdin"],
      'unknown group "nobody" (known groups: admins, model-approvers, readers, release-managers, writers)',
    ],
    [
      ["users", "set-groups", "ann"],
      'users set-groups needs at least one group (to take every right away, "users remove ann")',
    ],
    [["users", "list", "--group", "readers"], 'option --group does not apply to "users list"'],
    [
      ["users", "list", "--region", "eu-west-1"],
      "--region and --profile apply to a real pool: give --user-pool-id too",
    ],
    [
      ["users", "list", "--user-pool-id", "nope"],
      '--user-pool-id "nope" is not a Cognito user pool id (like eu-west-1_AbCdEf123)',
    ],
    [["groups", "sync", "extra"], 'unexpected argument "extra"'],
  ])("%j exits 2 with one line", async (argv, message) => {
    // Act
    const r = await runCli(argv, { env: { MLFLOW_GATE_DATA: dir } });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mlflow-gate: ${message}; run "mlflow-gate --help"\n`);
    expect(r.stdout).toBe("");
  });

  test("with teams, a group the team files name is known: the command goes on to look for a pool", async () => {
    // Act
    const teamGroup = await runCli(
      [
        "--teams-dir",
        "policies/examples/teams",
        "users",
        "add",
        "ann",
        "--group",
        "team-a-writers",
        "--password-stdin",
      ],
      { env: { MLFLOW_GATE_DATA: dir } },
    );
    const withoutTeams = await runCli(["users", "add", "ann", "--group", "team-a-writers", "--password-stdin"], {
      env: { MLFLOW_GATE_DATA: dir },
    });
    // Assess
    expect(teamGroup.code).toBe(2);
    expect(teamGroup.stderr).toContain("no user pool: give --user-pool-id");
    expect(withoutTeams.stderr).toContain(
      'unknown group "team-a-writers" (known groups: admins, model-approvers, readers',
    );
  });

  test("with teams, an unknown group's message lists the group files and the team files' groups", async () => {
    // Act
    const r = await runCli(
      ["--teams-dir", "policies/examples/teams", "users", "add", "ann", "--group", "nobody", "--password-stdin"],
      { env: { MLFLOW_GATE_DATA: dir } },
    );
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'unknown group "nobody" (known groups: admins, model-approvers, readers, release-managers, team-a-model-approvers, team-a-readers, team-a-release-managers, team-a-writers, team-b-model-approvers, team-b-readers, team-b-release-managers, team-b-writers, writers)',
    );
  });

  test("without --user-pool-id and without a local stack, it says how to get a pool", async () => {
    // Act
    const r = await runCli(["users", "list"], { env: { MLFLOW_GATE_DATA: dir } });
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `no user pool: give --user-pool-id for a pool in AWS, or start the local stack ("npm start") so that ${join(dir, "stack.json")} exists; a stack started with another MLFLOW_GATE_DATA: set it here too`,
    );
  });

  test("a local stack that is not running: exit 1, one line saying to start it", async () => {
    // Prepare: a stack.json whose pool port has nothing listening.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    writeFileSync(
      join(dir, "stack.json"),
      JSON.stringify({
        region: "us-east-1",
        cognito: {
          endpoint: `http://127.0.0.1:${port}`,
          userPoolId: "local_x",
          clientId: "c",
          adminKey: { accessKeyId: "LOCALPOOLKEY", secretAccessKey: "s" },
        },
      }),
    );
    // Act
    const r = await runCli(["users", "list"], { env: { MLFLOW_GATE_DATA: dir } });
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `mlflow-gate: cannot reach the local user pool at http://127.0.0.1:${port} (ECONNREFUSED): is the local stack ("npm start") running?\n`,
    );
  });

  test("--help describes users, groups sync and sign", async () => {
    // Act
    const r = await runCli(["--help"]);
    // Assess
    for (const c of [
      "users add USER --group G",
      "users list",
      "users groups USER",
      "users set-groups USER G",
      "users remove USER",
      "groups sync",
      "sign [-X METHOD]",
    ])
      expect(r.stdout).toContain(c);
  });
});
