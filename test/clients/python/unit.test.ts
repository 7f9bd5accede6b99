import { API_GATEWAY } from "../../../authorizer/core/contract";
import { join } from "path";
import { ensureMlflowVenv } from "../../../project/mlflow-venv";
import { REPO_ROOT } from "../../../project/paths";
import { runPython } from "../../support/python";

// The Python plugin's own unit tests (clients/python/tests), with the interpreter of .venv where the
// plugin is installed; no stack and no network. The plugin against a real stack: test/integration/client-plugin.test.ts.

const PLUGIN_SOURCE = join(REPO_ROOT, "clients", "python", "src");

beforeAll(() => ensureMlflowVenv());

test("the plugin's unit tests pass (clients/python/tests: signing, bodies, other hosts, config, role assumption; no network)", async () => {
  const r = await runPython(["-m", "unittest", "discover", "-s", join("clients", "python", "tests")], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // This checkout's source, whichever checkout .venv's editable install points at (a git worktree shares .venv).
    PYTHONPATH: PLUGIN_SOURCE,
    PYTHONWARNINGS: "ignore",
    MLFLOW_DISABLE_TELEMETRY: "true",
  });
  expect({ code: r.code, tail: r.stderr.split("\n").slice(-4).join("\n") }).toMatchObject({
    code: 0,
    tail: expect.stringMatching(/^OK$/m),
  });
});

test("the plugin's idea of API Gateway's payload limit is the contract's, and its multipart threshold is below it", async () => {
  const r = await runPython(
    [
      "-c",
      "from mlflow_gate_auth.large_artifacts import API_PAYLOAD_LIMIT, MULTIPART_UPLOAD_MINIMUM; print(API_PAYLOAD_LIMIT, MULTIPART_UPLOAD_MINIMUM)",
    ],
    { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONWARNINGS: "ignore" },
  );
  const [limit, threshold] = r.stdout.trim().split(" ").map(Number);
  expect(limit).toBe(API_GATEWAY.maxPayloadBytes);
  expect(threshold).toBeLessThan(API_GATEWAY.maxPayloadBytes);
});
