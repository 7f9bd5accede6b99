import { join } from "path";
import type { PolicySet } from "../../authorizer/core/policy-set";
import { copyGroupFiles, GroupFilesCopy } from "../support/group-files-copy";
import type { LogHead } from "../../common/log";
import type { Gateway } from "../../gateway/server";
import { startPolicyReload, swappableGateway } from "../../local/policy-reload";

let groups: GroupFilesCopy;
beforeEach(() => {
  groups = copyGroupFiles();
});
afterEach(() => groups.remove());

describe("startPolicyReload", () => {
  test("applies a valid edit once, refuses files that do not load with their file:line problems, keeping the running ones", () => {
    // Prepare
    const lines: string[] = [];
    const logged: LogHead[] = [];
    const applied: PolicySet[] = [];
    const initial = groups.load();
    const reload = startPolicyReload({
      paths: [],
      load: () => groups.load(),
      initial,
      apply: (next) => applied.push(next),
      progress: (l) => lines.push(l),
      log: (l) => logged.push(l),
    });
    // Act
    groups.edit("readers.yaml", (t) => t.replace("allow:", "alow:"));
    reload.reload();
    groups.edit("readers.yaml", (t) => t.replace("alow:", "allow:\n  - CreateExperiment"));
    reload.reload();
    reload.reload();
    reload.close();
    // Assess
    expect(lines[0]).toBe(
      `policies      not reloaded, the running policies stay: the files do not load:\n  ${join(groups.dir, "readers.yaml")}:2: must have required property 'allow'\n  ${join(groups.dir, "readers.yaml")}:2: must NOT have additional properties (alow)`,
    );
    expect(lines[1]).toMatch(/^policies {6}reloaded: model-approvers: \+2 routes/);
    expect(lines).toHaveLength(2);
    expect(applied).toHaveLength(1);
    expect(reload.current()).toBe(applied[0]);
    expect(logged.map((l) => [l.event, l.level])).toEqual([
      ["policies-not-reloaded", "warn"],
      ["policies-reloaded", "info"],
    ]);
  });
});

describe("swappableGateway", () => {
  test("answers with the latest gateway; the replaced one is closed with the wrapper, not at the swap", async () => {
    // Prepare
    const calls: string[] = [];
    const fake = (name: string): Gateway => ({
      handle: async () => void calls.push(`${name} handles`),
      close: () => void calls.push(`${name} closes`),
    });
    const g = swappableGateway(fake("a"));
    // Act
    await g.handle({} as never, {} as never);
    g.swap(fake("b"));
    await g.handle({} as never, {} as never);
    g.close();
    // Assess
    expect(calls).toEqual(["a handles", "b handles", "b closes", "a closes"]);
  });
});
