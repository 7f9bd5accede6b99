import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { isUiPath, resolveUiFile } from "../../local/ui-files";

const root = mkdtempSync(join(tmpdir(), "mlflow-gate-ui-files-"));
const ui = join(root, "ui");

beforeAll(() => {
  mkdirSync(join(ui, "static-files"), { recursive: true });
  writeFileSync(join(ui, "index.html"), "index");
  writeFileSync(join(ui, "static-files", "a.js"), "a");
  writeFileSync(join(root, "secret.txt"), "secret");
  writeFileSync(join(root, "ui-sibling.txt"), "sibling");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("the UI's paths: the page and its static files (its config is the API's)", () => {
  expect(["/", "/static-files/a.js"].map(isUiPath)).toEqual([true, true]);
  expect(
    ["/mlflow-gate-ui.json", "/ajax-api/2.0/mlflow/experiments/search", "/health", "/graphql", "/static-filesx"].map(
      isUiPath,
    ),
  ).toEqual([false, false, false, false, false]);
});

test("/ is index.html; a file is found under the directory", () => {
  expect(resolveUiFile(ui, "/")).toBe(join(ui, "index.html"));
  expect(resolveUiFile(ui, "/static-files/a.js")).toBe(join(ui, "static-files", "a.js"));
});

test("missing files and directories resolve to nothing", () => {
  expect(resolveUiFile(ui, "/static-files/b.js")).toBeUndefined();
  expect(resolveUiFile(ui, "/static-files/")).toBeUndefined();
});

test("path traversal cannot leave the directory (regression: .., a sibling with the same prefix, NUL)", () => {
  expect(resolveUiFile(ui, "/static-files/../../secret.txt")).toBeUndefined();
  expect(resolveUiFile(ui, "/../secret.txt")).toBeUndefined();
  expect(resolveUiFile(ui, "/../ui-sibling.txt")).toBeUndefined();
  expect(resolveUiFile(ui, "/static-files/a.js\0")).toBeUndefined();
});

test("a symlink inside the directory is served as a file only if it stays inside (documented limit: it is followed)", () => {
  symlinkSync(join(ui, "index.html"), join(ui, "static-files", "link.html"));
  expect(resolveUiFile(ui, "/static-files/link.html")).toBe(join(ui, "static-files", "link.html"));
});
