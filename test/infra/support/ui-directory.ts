import { mkdirSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { SHELL_SCRIPT } from "../../../ui-patch/build-ui";

/**
 * A directory laid out as a patched UI (index.html and the shell's script), for stack tests that are
 * about CloudFormation, not about the UI's content (test/infra/app.test.ts deploys a real build).
 */
export function patchedUiLayout(extraFiles: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ui-layout-"));
  for (const [file, text] of Object.entries({
    "index.html": "<!doctype html><title>MLflow</title>",
    [SHELL_SCRIPT]: "/* shell */",
    ...extraFiles,
  })) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}
