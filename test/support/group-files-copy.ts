// A scratch copy of the repository's group files for one test, with the policies they load to and an editor:
// for the tests of what an edit changes (the live reload and its rules).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { PolicySet } from "../../authorizer/core/policy-set";
import { loadPolicySet } from "../../authorizer/load-policies";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";

export interface GroupFilesCopy {
  readonly dir: string;
  load(): PolicySet;
  edit(name: string, change: (text: string) => string): void;
  remove(): void;
}

export function copyGroupFiles(): GroupFilesCopy {
  const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-groups-"));
  cpSync(GROUPS_DIR, dir, { recursive: true });
  return {
    dir,
    load: () => loadPolicySet(CATALOG_FILE, dir),
    edit: (name, change) => writeFileSync(join(dir, name), change(readFileSync(join(dir, name), "utf8"))),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
