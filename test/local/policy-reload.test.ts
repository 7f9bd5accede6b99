import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../../authorizer/load-policies";
import type { PolicySet } from "../../authorizer/core/policy-set";
import type { LogHead } from "../../common/log";
import type { Gateway } from "../../gateway/server";
import { startPolicyReload, swappableGateway } from "../../local/policy-reload";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-reload-unit-"));
  cpSync(GROUPS_DIR, dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (): PolicySet => loadPolicySet(CATALOG_FILE, dir);
const edit = (name: string, change: (text: string) => string) =>
  writeFileSync(join(dir, name), change(readFileSync(join(dir, name), "utf8")));

describe("startPolicyReload", () => {
  test("applies a valid edit once, refuses files that do not load with their file:line problems, keeping the running ones", () => {
    // Prepare
    const lines: string[] = [];
    const logged: LogHead[] = [];
    const applied: PolicySet[] = [];
    const initial = load();
    const reload = startPolicyReload({
      paths: [],
      load,
      initial,
      apply: (next) => applied.push(next),
      progress: (l) => lines.push(l),
      log: (l) => logged.push(l),
    });
    // Act
    edit("readers.yaml", (t) => t.replace("allow:", "alow:"));
    reload.reload();
    edit("readers.yaml", (t) => t.replace("alow:", "allow:\n  - CreateExperiment"));
    reload.reload();
    reload.reload();
    reload.close();
    // Assess
    expect(lines[0]).toBe(
      `policies      not reloaded, the running policies stay: the files do not load:\n  ${join(dir, "readers.yaml")}:2: must have required property 'allow'\n  ${join(dir, "readers.yaml")}:2: must NOT have additional properties (alow)`,
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
