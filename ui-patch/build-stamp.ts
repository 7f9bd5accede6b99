// Whether the patched UI in a build directory is the one its sources would build now: a fingerprint of the
// sources, written beside the build, lets `cdk diff`, `cdk destroy` and a repeated `cdk synth` reuse it
// instead of installing MLflow and building again.
import { createHash } from "crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "fs";
import { join, relative } from "path";
import { MLFLOW_VERSION_FILE, REPO_ROOT } from "../project/paths";
import { SHELL_SCRIPT, stampFileOf } from "./build-ui";
import { UI_CONFIG_PATH } from "./shell/config";

/** What a patched UI is built from: the pin (MLflow's prebuilt UI), the shell and its build, the npm lock. */
export function uiSourceFiles(root: string = REPO_ROOT): string[] {
  const shell = join(root, "ui-patch");
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : [path];
      });
  return [
    join(root, relative(REPO_ROOT, MLFLOW_VERSION_FILE)),
    join(root, "package-lock.json"),
    ...walk(shell).filter((f) => !f.endsWith(".test.ts")),
  ];
}

/** A fingerprint of files: their paths under `root` and their bytes, in order. */
export function fingerprintOf(files: readonly string[], root: string = REPO_ROOT): string {
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(existsSync(file) ? readFileSync(file) : Buffer.from("(missing)"));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Whether `buildDir` holds a patched UI, without a config of its own, built from sources with this fingerprint. */
export function isCurrentBuild(buildDir: string, fingerprint: string): boolean {
  const stamp = stampFileOf(buildDir);
  return (
    existsSync(join(buildDir, "index.html")) &&
    existsSync(join(buildDir, SHELL_SCRIPT)) &&
    !existsSync(join(buildDir, UI_CONFIG_PATH)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8").trim() === fingerprint
  );
}

/** Records that `buildDir` was built from sources with this fingerprint. */
export function stampBuild(buildDir: string, fingerprint: string): void {
  writeFileSync(stampFileOf(buildDir), `${fingerprint}\n`);
}
