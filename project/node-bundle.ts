// How our Node programs are bundled for AWS: one CommonJS file for Node 20, minified, keeping class and
// function names. The authorizer's Lambda code (authorizer/build.ts) and the guard's image (guard/build.ts).
import type { BuildOptions } from "esbuild";

export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  // Log and event lines name error classes (aws-jwt-verify's JwtExpiredError, the guard's ConfigError);
  // minifying must keep them.
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
} as const satisfies BuildOptions;
