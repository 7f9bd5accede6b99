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

/** A parsed config file as the SDK's loader gives it: `[profile p]` under `p`, `[services s]` under `services.s`. */
export type ParsedConfigFile = Readonly<Record<string, Readonly<Record<string, string | undefined>> | undefined>>;

/**
 * The STS endpoint a profile configures, by the SDKs' rules for configured endpoints (the AWS SDKs and Tools
 * reference guide, "Service-specific endpoints"): nothing when `ignore_configured_endpoint_urls` is set; else
 * `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, then the profile's `services` section's `sts` entry, then the
 * profile's own `endpoint_url`. The JavaScript SDK's role assumption reads these for AWS_PROFILE only, never
 * for a profile given by name, so a local profile's assume-role call would go to the public STS: the caller
 * passes this endpoint to it explicitly. Undefined: no endpoint configured, the SDK's default applies.
 */
export function stsEndpointFrom(
  profile: string,
  config: ParsedConfigFile,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const section = config[profile] ?? {};
  const ignore = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? section.ignore_configured_endpoint_urls;
  if (ignore?.trim().toLowerCase() === "true") return undefined;
  const fromEnv = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (fromEnv) return fromEnv;
  const services = section.services;
  if (services !== undefined && services !== "") {
    const block = config[`services.${services}`];
    if (block === undefined)
      throw new CliFailure([
        `mlflow-gate: profile "${profile}" names services section "${services}", which the config file does not have`,
      ]);
    const fromServices = block["sts.endpoint_url"];
    if (fromServices) return fromServices;
  }
  return section.endpoint_url || undefined;
}

/**
 * {@link stsEndpointFrom} for a profile (AWS_PROFILE, else `default`) read from the shared config file, with the
 * region the STS call is signed for (the profile's, else AWS_REGION); undefined: no endpoint configured.
 */
export async function configuredStsEndpoint(
  profile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  configFile?: string,
): Promise<{ endpoint: string; region?: string } | undefined> {
  const files = await loadSharedConfigFiles({
    ignoreCache: true,
    ...(configFile ? { configFilepath: configFile } : {}),
  });
  const name = profile ?? (env.AWS_PROFILE || "default");
  const endpoint = stsEndpointFrom(name, files.configFile, env);
  if (endpoint === undefined) return undefined;
  const region = files.configFile[name]?.region || env.AWS_REGION || env.AWS_DEFAULT_REGION;
  return { endpoint, ...(region ? { region } : {}) };
}
