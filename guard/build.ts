// Builds the guard's bundle: guard/main.ts and everything it imports in one file by esbuild, with the route
// catalog copied beside it. `npm run build:guard` (scripts/build-guard.ts) and the CDK stack, which ships the
// folder as the sidecar image's build context (infra/constructs/guard-sidecar.ts), call it.
import { buildSync } from "esbuild";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "fs";
import { dirname, join, relative, resolve } from "path";
import { NODE_BUNDLE_OPTIONS } from "../project/node-bundle";
import { CATALOG_FILE, GROUPS_DIR, GUARD_BUILD_DIR, REPO_ROOT } from "../project/paths";

/**
 * The bundle keeps the repository's layout: `guard/main.js` beside `policies/mlflow-routes.json`. So the
 * program's one default catalog path (`../policies/mlflow-routes.json` from its own folder, guard/main.ts)
 * holds in a checkout, in the bundle and in the image alike, with no setting.
 */
export const GUARD_BUNDLE_FILES = {
  main: join("guard", "main.js"),
  catalog: relative(REPO_ROOT, CATALOG_FILE),
} as const;

/** The group files ride beside the catalog (`policies/groups/`): their promotion rules are the guard's. */
export const GUARD_BUNDLE_GROUPS_DIR = relative(REPO_ROOT, GROUPS_DIR);

/** The group files the bundle holds, as paths inside it. */
function bundledGroupFiles(): string[] {
  return readdirSync(GROUPS_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(GUARD_BUNDLE_GROUPS_DIR, f));
}

/** Every file of the bundle, as paths inside it: the program, the catalog and the group files. */
export function guardBundleFiles(): string[] {
  return [...Object.values(GUARD_BUNDLE_FILES), ...bundledGroupFiles()];
}

export interface GuardBuild {
  readonly outDir: string;
  readonly mainFile: string;
  readonly catalogFile: string;
  readonly mainBytes: number;
}

/**
 * Builds into `outDir` (relative to the repository root). Synchronous, since CDK constructs are: esbuild's
 * buildSync. It builds into a fresh folder beside the target and renames each file into place, so a
 * concurrent build (parallel synths in tests) never leaves a half-written file for another to read.
 */
export function buildGuard(outDir: string = GUARD_BUILD_DIR): GuardBuild {
  const dir = resolve(REPO_ROOT, outDir);
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.build-`);
  try {
    buildSync({
      entryPoints: [join(REPO_ROOT, "guard", "main.ts")],
      outfile: join(staging, GUARD_BUNDLE_FILES.main),
      ...NODE_BUNDLE_OPTIONS,
    });
    mkdirSync(dirname(join(staging, GUARD_BUNDLE_FILES.catalog)), { recursive: true });
    copyFileSync(CATALOG_FILE, join(staging, GUARD_BUNDLE_FILES.catalog));
    const groupFiles = bundledGroupFiles();
    mkdirSync(join(staging, GUARD_BUNDLE_GROUPS_DIR), { recursive: true });
    for (const file of groupFiles) copyFileSync(join(REPO_ROOT, file), join(staging, file));
    // A group file removed since the last build must not linger in the bundle.
    rmSync(join(dir, GUARD_BUNDLE_GROUPS_DIR), { recursive: true, force: true });
    for (const file of [...Object.values(GUARD_BUNDLE_FILES), ...groupFiles]) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      renameSync(join(staging, file), join(dir, file));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const mainFile = join(dir, GUARD_BUNDLE_FILES.main);
  return {
    outDir: dir,
    mainFile,
    catalogFile: join(dir, GUARD_BUNDLE_FILES.catalog),
    mainBytes: readFileSync(mainFile).length,
  };
}
