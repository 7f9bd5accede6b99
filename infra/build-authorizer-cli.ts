// tsx infra/build-authorizer-cli.ts OUT_DIR GROUPS_DIR TEAMS_DIR: the Lambda authorizer's code built from the
// deployment's policy directories (authorizer/build.ts). CDK constructs are synchronous and the build is not,
// so infra/constructs/authorizer-function.ts runs this file in a child process at synth.
import { buildAuthorizer } from "../authorizer/build";

const [outDir, groupsDir, teamsDir] = process.argv.slice(2);
if (!outDir || !groupsDir || !teamsDir) {
  console.error("usage: build-authorizer-cli.ts OUT_DIR GROUPS_DIR TEAMS_DIR");
  process.exit(64);
}
buildAuthorizer(outDir, { groupsDir, teamsDir }).then(
  (b) => console.log(`${b.handlerFile}, ${b.policyBundleFile}`),
  (e: Error) => {
    console.error(`build-authorizer: ${e.message}`);
    process.exit(1);
  },
);
