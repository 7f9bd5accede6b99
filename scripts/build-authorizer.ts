// npm run build:authorizer [OUT_DIR]: builds the Lambda authorizer (authorizer/build.ts) and prints its sizes.
// The CDK app runs this file to build the Lambda's code at synth.
import { buildAuthorizer } from "../authorizer/build";

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
buildAuthorizer(process.argv[2]).then(
  (b) => {
    console.log(`${b.handlerFile}: ${kib(b.handlerBytes)} (${kib(b.handlerGzipBytes)} gzipped)`);
    console.log(`${b.policyBundleFile}: ${kib(b.policyBundleBytes)}`);
  },
  (e: Error) => {
    console.error(`build-authorizer: ${e.message}`);
    process.exit(1);
  },
);
