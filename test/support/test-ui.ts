import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { buildUi } from "../../ui-patch/build-ui";

/** Where jest's global setup built the patched UI once for the whole run (test/support/global-setup.ts). */
export const TEST_UI_DIR_ENV = "MLFLOW_GATE_TEST_UI_DIR";

let built: Promise<string> | undefined;

/**
 * A patched UI for a test stack: the one the global setup built, or one built once for this process
 * (a file run on its own) and removed when the process exits. Stacks only read it.
 */
export function testUiDirectory(): Promise<string> {
  const shared = process.env[TEST_UI_DIR_ENV];
  if (shared) return Promise.resolve(shared);
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-test-ui-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return (await buildUi(dir)).outDir;
  })();
  return built;
}
