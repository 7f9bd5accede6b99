import { execFile } from "child_process";
import { existsSync } from "fs";
import { join } from "path";
import { promisify } from "util";
import { VENV_DIR, VENV_PYTHON } from "../../project/paths";

const run = promisify(execFile);

/**
 * The prebuilt UI of another MLflow release, from its wheel on PyPI (downloaded once with the .venv's
 * pip, without installing it), extracted under .venv so a new venv starts clean.
 */
export async function mlflowUiBuildOf(version: string): Promise<string> {
  const root = join(VENV_DIR, "mlflow-gate-other-ui", version);
  const build = join(root, "mlflow", "server", "js", "build");
  if (existsSync(join(build, "index.html"))) return build;
  const wheels = join(root, "wheel");
  await run(
    VENV_PYTHON,
    [
      "-m",
      "pip",
      "download",
      "--quiet",
      "--disable-pip-version-check",
      "--no-deps",
      "--only-binary=:all:",
      "-d",
      wheels,
      `mlflow==${version}`,
    ],
    { timeout: 300_000 },
  );
  const extract = [
    "import glob, sys, zipfile",
    "wheel = glob.glob(sys.argv[1] + '/mlflow-*.whl')[0]",
    "with zipfile.ZipFile(wheel) as z:",
    "    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('mlflow/server/js/build/')])",
  ].join("\n");
  await run(VENV_PYTHON, ["-c", extract, wheels, root], { timeout: 120_000 });
  if (!existsSync(join(build, "index.html")))
    throw new Error(`the mlflow ${version} wheel has no mlflow/server/js/build/index.html`);
  return build;
}
