import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { mlflowUiBuildDir } from "../../project/mlflow-venv";
import { buildUi, packageOf, patchIndexHtml } from "../../ui-patch/build-ui";

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
  // Light (issue 19): React's API from Preact, Amplify UI's texts in English only, and every byte accounted for.
  const shell = readFileSync(join(out, "static-files", "mlflow-gate", "shell.js"), "utf8");
  const packages = build.shellPackages.map((p) => p.name);
  expect(packages).toEqual(expect.arrayContaining(["preact", "@aws-amplify/ui-react", "(shell)"]));
  expect(packages).not.toContain("react-dom");
  expect(shell).toContain("Sign in to your account");
  expect(shell).not.toContain("Connexion à votre compte");
  expect(build.shellPackages.reduce((sum, p) => sum + p.bytes, 0)).toBeLessThanOrEqual(build.shellBytes);
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

test("packageOf names the package of a bundled file, the innermost one, scope included", () => {
  expect(packageOf("node_modules/@aws-amplify/ui/dist/esm/theme/tokens/colors.mjs")).toBe("@aws-amplify/ui");
  expect(packageOf("node_modules/lodash/isEqual.js")).toBe("lodash");
  expect(packageOf("node_modules/@aws-amplify/ui-react/node_modules/@xstate/react/lib/index.js")).toBe("@xstate/react");
  expect(packageOf("ui-patch/shell/main.tsx")).toBe("(shell)");
});
