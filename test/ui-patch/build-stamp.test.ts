import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { REPO_ROOT } from "../../project/paths";
import { fingerprintOf, isCurrentBuild, stampBuild, uiSourceFiles } from "../../ui-patch/build-stamp";
import { buildUi, stampFileOf } from "../../ui-patch/build-ui";

// Whether the CDK app may reuse dist/ui instead of installing MLflow and building again (infra/bin/app.ts).

const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-stamp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the sources are the pin, the npm lock and the UI patch (shell included), its tests left out", () => {
  const files = uiSourceFiles().map((f) => f.slice(REPO_ROOT.length + 1));
  expect(files.slice(0, 2)).toEqual(["MLFLOW_VERSION", "package-lock.json"]);
  expect(files).toEqual(
    expect.arrayContaining(["ui-patch/build-ui.ts", "ui-patch/shell/main.tsx", "ui-patch/shell/shell.css"]),
  );
  expect(files.filter((f) => f.endsWith(".test.ts"))).toEqual([]);
});

test("a fingerprint changes with any byte or name of the sources, and only then", () => {
  const root = join(dir, "src");
  mkdirSync(root, { recursive: true });
  const a = join(root, "a.ts");
  const b = join(root, "b.ts");
  writeFileSync(a, "one");
  writeFileSync(b, "two");
  const first = fingerprintOf([a, b], root);
  expect(fingerprintOf([a, b], root)).toBe(first);
  writeFileSync(b, "two!");
  expect(fingerprintOf([a, b], root)).not.toBe(first);
  writeFileSync(b, "two");
  expect(fingerprintOf([b, a], root)).not.toBe(first);
});

test("a build is reused only when its stamp matches and it holds the patched UI without a config of its own", async () => {
  // Prepare: a real build, stamped
  const out = join(dir, "ui");
  await buildUi(out);
  expect(isCurrentBuild(out, "f1")).toBe(false);
  stampBuild(out, "f1");
  // Assess
  expect(isCurrentBuild(out, "f1")).toBe(true);
  expect(isCurrentBuild(out, "f2")).toBe(false);
  writeFileSync(join(out, "mlflow-gate-ui.json"), "{}");
  expect(isCurrentBuild(out, "f1")).toBe(false);
  // Every build removes the stamp: only the caller that fingerprinted its sources writes it again
  await buildUi(out);
  expect(existsSync(stampFileOf(out))).toBe(false);
  expect(isCurrentBuild(out, "f1")).toBe(false);
}, 60_000);
