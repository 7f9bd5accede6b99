// Builds the Lambda authorizer's code: the handler bundled by esbuild (dist/authorizer/index.js) and its policy
// bundle beside it. `npm run build:authorizer` (scripts/build-authorizer.ts) and the benchmarks call it.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { join, resolve } from "path";
import { gzipSync } from "zlib";
import { loadGroupFiles, loadRouteCatalog, loadTeamFiles } from "./load-policies";
import { parsePolicyBundle, PolicyBundle } from "./policy-bundle";
import { PolicySet } from "./core/policy-set";
import { NODE_BUNDLE_OPTIONS } from "../project/node-bundle";
import { AUTHORIZER_BUILD_DIR, CATALOG_FILE, GROUPS_DIR, REPO_ROOT, TEAMS_DIR } from "../project/paths";

export interface AuthorizerBuild {
  readonly outDir: string;
  readonly handlerFile: string;
  readonly policyBundleFile: string;
  readonly handlerBytes: number;
  readonly handlerGzipBytes: number;
  readonly policyBundleBytes: number;
}

/** Where the build reads the policies: the repository's group and team files by default. */
export interface PolicyDirs {
  readonly groupsDir: string;
  readonly teamsDir: string;
}

/** Builds into `outDir` (relative to the repository root); the CDK stack ships that folder as the Lambda code. */
export async function buildAuthorizer(
  outDir = AUTHORIZER_BUILD_DIR,
  dirs: PolicyDirs = { groupsDir: GROUPS_DIR, teamsDir: TEAMS_DIR },
): Promise<AuthorizerBuild> {
  const dir = resolve(REPO_ROOT, outDir);
  mkdirSync(dir, { recursive: true });

  const catalog = loadRouteCatalog(CATALOG_FILE);
  const groups = loadGroupFiles(dirs.groupsDir, REPO_ROOT);
  const teams = loadTeamFiles(dirs.teamsDir, REPO_ROOT);
  // Compiling here fails the build, not a request, when a group cannot compile; and no request pays for it.
  const bundle: PolicyBundle = {
    catalog,
    groups,
    ...(teams.length > 0 ? { teams } : {}),
    compiled: PolicySet.fromFiles(catalog, groups, undefined, teams).precompile("cognito"),
  };
  parsePolicyBundle(JSON.parse(JSON.stringify(bundle)));
  const policyBundleFile = join(dir, "policy-bundle.json");
  writeFileSync(policyBundleFile, JSON.stringify(bundle));

  const handlerFile = join(dir, "index.js");
  await build({
    entryPoints: [join(REPO_ROOT, "authorizer", "handler.ts")],
    outfile: handlerFile,
    ...NODE_BUNDLE_OPTIONS,
  });
  const code = readFileSync(handlerFile);
  return {
    outDir: dir,
    handlerFile,
    policyBundleFile,
    handlerBytes: code.length,
    handlerGzipBytes: gzipSync(code).length,
    policyBundleBytes: readFileSync(policyBundleFile).length,
  };
}
