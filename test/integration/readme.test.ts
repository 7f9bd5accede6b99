import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { REPO_ROOT } from "../../project/paths";
import { runProcess } from "../support/run-process";
import { freePortsEnv, startNpm, Started, stopNpm, untilReady } from "./support/npm-start";

// The README's "Try it" as a reader pastes it: every shell block, in order, in bash and in zsh, against
// `npm start` on its own data directory and ports (not .mlflow-gate, not 8080), so that the README cannot rot.

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

/** The shell blocks of the README's "Try it" section, in order. */
function tryItBlocks(markdown: string): string[] {
  const start = markdown.indexOf("\n## Try it");
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const shells = ["bash", ...(spawnSync("zsh", ["-c", "true"]).status === 0 ? ["zsh"] : [])];
const STRICT: Record<string, string> = { bash: "set -eo pipefail", zsh: "setopt ERR_EXIT PIPE_FAIL" };

let dataDir: string;
let stack: Started;
let gateway: string;

beforeAll(async () => {
  if (shells.length === 1)
    process.stderr.write("readme.test: no zsh on this machine, bash only (.ci/run installs it)\n");
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-readme-"));
  const env = await freePortsEnv();
  gateway = `http://127.0.0.1:${env.MLFLOW_GATE_PORT}`;
  stack = startNpm(dataDir, env);
  await untilReady(stack);
}, 240_000);
afterAll(async () => {
  await stopNpm(stack);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const runScript = (shell: string, script: string) =>
  runProcess(shell, ["-c", script], {
    // The sign-in `mlflow-gate login` saves goes to the test's own config directory, not the user's.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MLFLOW_GATE_DATA: dataDir,
      XDG_CONFIG_HOME: join(dataDir, "config"),
    },
    timeoutMs: 240_000,
  });

describe("the README's Try it", () => {
  test("has shell blocks, none with a comment line (zsh takes a pasted # line for a command)", () => {
    // Act
    const blocks = tryItBlocks(README);
    // Assess
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks.flatMap((b) => b.split("\n")).filter((l) => /^\s*#|\s#\s/.test(l))).toEqual([]);
  });

  test.each(shells)(
    "pasted into %s in order: every command works and shows what the text says",
    async (shell) => {
      // Act
      const r = await runScript(shell, [STRICT[shell], ...tryItBlocks(README)].join("\n"));
      // Assess
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
      const out = r.stdout;
      expect(out).toContain(`${gateway}\n`);
      expect(out).toMatch(/^reader {2}\S+$/m);
      expect(out).toContain("metrics.loss");
      // The reader's refused create, explained: by IAM (SigV4) twice, then by the authorizer (bearer mode).
      expect(
        out.match(/decided {2}by API Gateway \(IAM\): the caller's execute-api policy has no statement/g),
      ).toHaveLength(2);
      expect(out).toContain(
        "decided  by the Lambda authorizer: the policy it returned for the caller's groups has no statement",
      );
      expect(out).toContain('"experiments"');
      expect(out).toMatch(/"name": ?"demo"/);
      expect(out).toContain("DENY DeleteRun readers: no statement allows it (iam)");
      expect(out).toContain("ALLOW DeleteRun admins: allowed by * (iam)");
      expect(out).toMatch(/user\/mlflow-admin\s+CreateRun\s+200/);
      expect(out).toMatch(/^signed in as reader to the local pool /m);
      expect(out).toMatch(/^signed out reader: the refresh token is revoked/m);
    },
    300_000,
  );
});
