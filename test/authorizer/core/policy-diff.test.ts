import { writeFileSync } from "fs";
import { join } from "path";
import { copyGroupFiles, GroupFilesCopy } from "../../support/group-files-copy";
import { describePolicyChange, restartReason } from "../../../authorizer/core/policy-diff";

let groups: GroupFilesCopy;
beforeEach(() => {
  groups = copyGroupFiles();
});
afterEach(() => groups.remove());

describe("describePolicyChange and restartReason", () => {
  test("an added action is counted per group file, including the groups that extend it; nothing changed says nothing", () => {
    // Prepare
    const before = groups.load();
    groups.edit("readers.yaml", (t) => t.replace("allow:\n", "allow:\n  - CreateExperiment\n"));
    // Act
    const after = groups.load();
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
    const before = groups.load();
    groups.edit("model-approvers.yaml", (t) => t.replace("to: [Staging, Archived]", "to: [Staging]"));
    // Act / Assess
    expect(describePolicyChange(before, groups.load())).toEqual(["model-approvers: changed, same routes"]);
  });

  test("a new or removed group file needs a restart (the user pool's groups)", () => {
    // Prepare
    const before = groups.load();
    writeFileSync(join(groups.dir, "auditors.yaml"), "description: Auditors.\nextends: readers\nallow: []\n");
    // Act
    const after = groups.load();
    // Assess
    expect(restartReason(before, after)).toBe("the groups changed (+auditors), which the user pool must have");
    expect(restartReason(after, before)).toBe("the groups changed (-auditors), which the user pool must have");
  });
});
