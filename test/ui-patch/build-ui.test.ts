import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { mlflowUiBuildDir } from "../../project/mlflow-venv";
import { buildUi, patchIndexHtml } from "../../ui-patch/build-ui";

const out = mkdtempSync(join(tmpdir(), "mlflow-gate-build-ui-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("MLflow's main script waits behind the shell; the rest of MLflow's page stays", () => {
  // Prepare
  const html = readFileSync(join(mlflowUiBuildDir(), "index.html"), "utf8");

  // Act
  const { html: patched, mlflowMain } = patchIndexHtml(html);

  // Assess
  expect(mlflowMain).toMatch(/^static-files\/static\/js\/main\.[0-9a-f]+\.js$/);
  expect(patched).not.toContain(`<script defer="defer" src="${mlflowMain}"></script>`);
  expect(patched).toContain(`<meta name="mlflow-gate-main" content="${mlflowMain}"/>`);
  expect(patched).toContain('<script defer="defer" src="static-files/mlflow-gate/shell.js"></script>');
  expect(patched).toContain('<div id="root" class="mlflow-ui-container"></div>');
});

test("an index.html without MLflow's main script stops the build", () => {
  expect(() => patchIndexHtml("<html><body></body></html>")).toThrow(/no main script tag/);
});

test("buildUi lays the UI out as it is served, with the shell and the config", async () => {
  // Act
  const build = await buildUi(out, {
    userPoolId: "us-east-1_abc",
    userPoolClientId: "client",
    region: "us-east-1",
    authFlow: "USER_SRP_AUTH",
  });

  // Assess
  expect(build.shellBytes).toBeGreaterThan(0);
  for (const file of [
    "index.html",
    join("static-files", build.mlflowMain.replace(/^static-files\//, "")),
    join("static-files", "mlflow-gate", "shell.js"),
    join("static-files", "mlflow-gate", "shell.css"),
  ]) {
    expect(existsSync(join(out, file))).toBe(true);
  }
  expect(JSON.parse(readFileSync(join(out, "mlflow-gate-ui.json"), "utf8"))).toEqual({
    userPoolId: "us-east-1_abc",
    userPoolClientId: "client",
    region: "us-east-1",
    authFlow: "USER_SRP_AUTH",
  });
}, 60_000);
