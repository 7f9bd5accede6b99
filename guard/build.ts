// Builds the guard's bundle: guard/main.ts and everything it imports in one file by esbuild, with the route
// catalog, the group files and the team files copied beside it. `npm run build:guard` (scripts/build-guard.ts) and the CDK stack, which ships the
// folder as the sidecar image's build context (infra/constructs/guard-sidecar.ts), call it.
import { buildSync } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "fs";
import { dirname, join, relative, resolve } from "path";
import { NODE_BUNDLE_OPTIONS } from "../project/node-bundle";
import { CATALOG_FILE, GROUPS_DIR, GUARD_BUILD_DIR, REPO_ROOT, TEAMS_DIR } from "../project/paths";

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

/**
 * The team files ride beside them (`policies/teams/`, the folder there even without teams): the guard must read
 * exactly the team files the API was built from.
 */
export const GUARD_BUNDLE_TEAMS_DIR = relative(REPO_ROOT, TEAMS_DIR);

/** Where the bundle's group and team files come from: the repository's by default. */
export interface GuardPolicyDirs {
  readonly groupsDir: string;
  readonly teamsDir: string;
}

const DEFAULT_DIRS: GuardPolicyDirs = { groupsDir: GROUPS_DIR, teamsDir: TEAMS_DIR };

/** The policy files of a directory (none when it is missing), each as [source path, path inside the bundle]. */
function policyFiles(dir: string, bundleDir: string): [string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => [join(dir, f), join(bundleDir, f)]);
}

function bundledPolicyFiles(dirs: GuardPolicyDirs): [string, string][] {
  return [
    ...policyFiles(dirs.groupsDir, GUARD_BUNDLE_GROUPS_DIR),
    ...policyFiles(dirs.teamsDir, GUARD_BUNDLE_TEAMS_DIR),
  ];
}

/** Every file of the bundle, as paths inside it: the program, the catalog, the group and the team files. */
export function guardBundleFiles(dirs: GuardPolicyDirs = DEFAULT_DIRS): string[] {
  return [...Object.values(GUARD_BUNDLE_FILES), ...bundledPolicyFiles(dirs).map(([, inBundle]) => inBundle)];
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
export function buildGuard(outDir: string = GUARD_BUILD_DIR, dirs: GuardPolicyDirs = DEFAULT_DIRS): GuardBuild {
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
    const policies = bundledPolicyFiles(dirs);
    for (const sub of [GUARD_BUNDLE_GROUPS_DIR, GUARD_BUNDLE_TEAMS_DIR])
      mkdirSync(join(staging, sub), { recursive: true });
    for (const [source, file] of policies) copyFileSync(source, join(staging, file));
    // A group or team file removed since the last build must not linger in the bundle; the teams folder stays,
    // empty without teams (the image copies it).
    for (const sub of [GUARD_BUNDLE_GROUPS_DIR, GUARD_BUNDLE_TEAMS_DIR]) {
      rmSync(join(dir, sub), { recursive: true, force: true });
      mkdirSync(join(dir, sub), { recursive: true });
    }
    for (const file of [...Object.values(GUARD_BUNDLE_FILES), ...policies.map(([, f]) => f)]) {
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
