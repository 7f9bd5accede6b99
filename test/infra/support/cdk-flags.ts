import { readFileSync } from "fs";
import { join } from "path";
import { REPO_ROOT } from "../../../project/paths";

/** cdk.json's feature flags, so that a test's App synthesizes what `cdk synth` does. */
export const CDK_FLAGS: Record<string, unknown> = Object.fromEntries(
  Object.entries(
    JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")).context as Record<string, unknown>,
  ).filter(([k]) => k.startsWith("@aws-cdk")),
);
