// Named AWS profiles, checked the way the AWS SDK will read them (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE).
import { loadSharedConfigFiles } from "@smithy/core/config";
import { CliFailure } from "./cli-errors";

/** The environment the AWS SDK reads from; explicit so tests and the CLI agree. */
export interface AwsEnv {
  readonly AWS_PROFILE?: string;
  readonly AWS_SHARED_CREDENTIALS_FILE?: string;
  readonly AWS_CONFIG_FILE?: string;
}

/** A named profile must be in one of the shared files: said plainly, before the SDK's chain gives a vaguer answer. */
export async function requireProfile(profile: string, env: AwsEnv): Promise<void> {
  const files = await loadSharedConfigFiles({ ignoreCache: true });
  if (files.credentialsFile[profile] !== undefined || files.configFile[profile] !== undefined) return;
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE ?? "~/.aws/credentials";
  const config = env.AWS_CONFIG_FILE ?? "~/.aws/config";
  throw new CliFailure([
    `mlflow-gate: profile "${profile}" is in neither ${credentials} nor ${config} (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)`,
  ]);
}
