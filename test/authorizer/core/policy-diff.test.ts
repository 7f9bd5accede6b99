import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../../authorizer/load-policies";
import type { PolicySet } from "../../../authorizer/core/policy-set";
import { describePolicyChange, restartReason } from "../../../authorizer/core/policy-diff";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-reload-unit-"));
  cpSync(GROUPS_DIR, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (): PolicySet => loadPolicySet(CATALOG_FILE, dir);
const edit = (name: string, change: (text: string) => string) =>
  writeFileSync(join(dir, name), change(readFileSync(join(dir, name), "utf8")));

describe("describePolicyChange and restartReason", () => {
  test("an added action is counted per group file, including the groups that extend it; nothing changed says nothing", () => {
    // Prepare
    const before = load();
    edit("readers.yaml", (t) => t.replace("allow:\n", "allow:\n  - CreateExperiment\n"));
    // Act
    const after = load();
    // Assess
    expect(describePolicyChange(before, after)).toEqual([
      "model-approvers: +2 routes, -0",
      "readers: +2 routes, -0",
      "release-managers: +2 routes, -0",
    ]);
    expect(describePolicyChange(after, before)).toEqual([
      "model-approvers: +0 routes, -2",
      "readers: +0 routes, -2",
      "release-managers: +0 routes, -2",
    ]);
    expect(describePolicyChange(before, before)).toEqual([]);
    expect(restartReason(before, after)).toBeUndefined();
  });

  test("a change that keeps the routes (a promotion rule) is named too", () => {
    // Prepare
    const before = load();
    edit("model-approvers.yaml", (t) => t.replace("to: [Staging, Archived]", "to: [Staging]"));
    // Act / Assess
    expect(describePolicyChange(before, load())).toEqual(["model-approvers: changed, same routes"]);
  });

  test("a new or removed group file needs a restart (the user pool's groups)", () => {
    // Prepare
    const before = load();
    writeFileSync(join(dir, "auditors.yaml"), "description: Auditors.\nextends: readers\nallow: []\n");
    // Act
    const after = load();
    // Assess
    expect(restartReason(before, after)).toBe("the groups changed (+auditors), which the user pool must have");
    expect(restartReason(after, before)).toBe("the groups changed (-auditors), which the user pool must have");
  });
});
