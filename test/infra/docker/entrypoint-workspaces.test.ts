// infra/docker/entrypoint.py with team workspaces, against the real MLflow of .venv (sqlite, loopback, a free
// port): `serve_with_workspaces` starts `mlflow server --enable-workspaces` as its child, creates the missing
// workspaces once MLflow answers, and on a restart creates none; a name MLflow refuses stops the task.
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { createServer, AddressInfo } from "net";
import { tmpdir } from "os";
import { delimiter, dirname, join } from "path";
import { MLFLOW_IMAGE_DIR } from "../../../infra/stacks/mlflow-vpc-stack";
import { VENV_PYTHON } from "../../../project/paths";

const dir = mkdtempSync(join(tmpdir(), "entrypoint-workspaces-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Run {
  readonly child: ChildProcess;
  /** Resolves with the entrypoint's own lines once one matches `until` (or the process ends). */
  readonly lines: (until: RegExp) => Promise<string[]>;
  readonly exited: Promise<number | null>;
}

/** `serve_with_workspaces` as main() calls it, with a sqlite store instead of the task's PostgreSQL URI. */
function serve(port: number, names: readonly string[]): Run {
  const script = [
    "import os, sys",
    `sys.path.insert(0, ${JSON.stringify(MLFLOW_IMAGE_DIR)})`,
    "import entrypoint",
    `argv = ["server", "--host", "127.0.0.1", "--port", "${port}", "--workers", "1", "--backend-store-uri", ${JSON.stringify(`sqlite:///${join(dir, "mlflow.db")}`)}, "--default-artifact-root", ${JSON.stringify(join(dir, "artifacts"))}]`,
    `entrypoint.serve_with_workspaces(argv, ${JSON.stringify(names)}, dict(os.environ))`,
  ].join("\n");
  const child = spawn(VENV_PYTHON, ["-c", script], {
    env: {
      ...process.env,
      // `mlflow` of .venv, as the image's PATH has it.
      PATH: `${dirname(VENV_PYTHON)}${delimiter}${process.env.PATH ?? ""}`,
      MLFLOW_DISABLE_TELEMETRY: "true",
      DO_NOT_TRACK: "true",
    },
  });
  let stderr = "";
  const waiters: { until: RegExp; resolve: (l: string[]) => void }[] = [];
  const own = () => stderr.split("\n").filter((l) => l.startsWith("mlflow-entrypoint: "));
  const check = () => {
    for (const w of [...waiters])
      if (own().some((l) => w.until.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(own());
      }
  };
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    check();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      for (const w of waiters.splice(0)) w.resolve(own());
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    lines: (until) => new Promise((resolve) => (waiters.push({ until, resolve }), check())),
  };
}

async function listWorkspaces(port: number): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/3.0/mlflow/workspaces`);
  const body = (await res.json()) as { workspaces: { name: string }[] };
  return body.workspaces.map((w) => w.name).sort();
}

describe("entrypoint.py with MLFLOW_GATE_WORKSPACES", () => {
  test("creates each missing workspace once MLflow is up, one line each; a restart creates none; SIGTERM reaches MLflow", async () => {
    // Act: the first start
    const port = await freePort();
    const first = serve(port, ["team-a", "team-b"]);
    const lines = await first.lines(/team workspaces ready|cannot set up/);
    // Assess
    expect(lines).toEqual([
      "mlflow-entrypoint: created workspace team-a",
      "mlflow-entrypoint: created workspace team-b",
      "mlflow-entrypoint: team workspaces ready: team-a, team-b (2 created)",
    ]);
    expect(await listWorkspaces(port)).toEqual(["default", "team-a", "team-b"]);
    first.child.kill("SIGTERM");
    expect(await first.exited).not.toBe(69);

    // Act: a restart on the same database
    const port2 = await freePort();
    const second = serve(port2, ["team-a", "team-b"]);
    const again = await second.lines(/team workspaces ready|cannot set up/);
    // Assess
    expect(again).toEqual(["mlflow-entrypoint: team workspaces ready: team-a, team-b (0 created)"]);
    expect(await listWorkspaces(port2)).toEqual(["default", "team-a", "team-b"]);
    second.child.kill("SIGTERM");
    await second.exited;
  }, 180_000);

  test("a workspace MLflow refuses stops MLflow and the task with exit 69 and a line saying why", async () => {
    // Act
    const port = await freePort();
    const run = serve(port, ["team-c", "Not_A_Team"]);
    const code = await run.exited;
    // Assess
    expect(code).toBe(69);
    const lines = await run.lines(/./);
    expect(lines).toContain("mlflow-entrypoint: created workspace team-c");
    expect(lines.at(-1)).toMatch(
      /^mlflow-entrypoint: cannot set up the team workspaces, stopping: MLflow refused to create workspace Not_A_Team \(400\): /,
    );
    // MLflow itself is gone with it.
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 120_000);
});
