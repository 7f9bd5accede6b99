import { join, resolve } from "path";
import { ConfigError } from "./core/errors";
import { isLoopbackHost, REGION, USER_POOL_ID } from "./core/contract";

/**
 * `aws`: a Cognito user pool in the authorizer's own region; the issuer is derived from the pool id
 * and cannot be overridden. `local`: cognito-local (or another issuer) named explicitly.
 */
export type AuthorizerMode = "aws" | "local";

export interface AuthorizerConfig {
  readonly mode: AuthorizerMode;
  /** The exact `iss` claim accepted. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** App client ids of the pool; a token's `client_id` must be one of them. */
  readonly clientIds: readonly string[];
  /** Absolute path of the policy bundle JSON (`{ catalog, groups }`). */
  readonly policyBundlePath: string;
  /** Longest token accepted, in bytes (checked before any parsing). */
  readonly maxTokenBytes: number;
}

export const DEFAULT_MAX_TOKEN_BYTES = 8192;
const MIN_MAX_TOKEN_BYTES = 512;
const MAX_MAX_TOKEN_BYTES = 65536;

/** Cognito's own pattern for app client ids. */
const CLIENT_ID = /^[\w+]{1,128}$/;

/** Checks an issuer or JWKS URL of local mode; returns a problem or undefined. */
function urlProblem(name: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} must be an absolute URL, not "${value}"`;
  }
  if (url.username !== "" || url.password !== "") return `${name} must not carry credentials`;
  if (url.search !== "" || url.hash !== "") return `${name} must not have a query or fragment`;
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === "http:")
    return `${name} may use http only for a loopback host (127.0.0.0/8, localhost, [::1]); use https for ${url.hostname}`;
  return `${name} must be an https URL`;
}

/**
 * Reads the authorizer's configuration from the environment; every problem is listed in one
 * ConfigError. Blank values count as unset.
 * @param defaultPolicyBundlePath where the bundle is when MLFLOW_GATE_POLICY_BUNDLE is unset; the
 *   build puts it next to the bundled handler, and this file is bundled into that same index.js.
 */
export function parseAuthorizerConfig(
  env: Record<string, string | undefined>,
  defaultPolicyBundlePath: string = join(__dirname, "policy-bundle.json"),
): AuthorizerConfig {
  const get = (key: string): string | undefined => {
    const v = env[key]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const problems: string[] = [];

  const modeValue = get("MLFLOW_GATE_MODE") ?? "aws";
  const mode: AuthorizerMode | undefined = modeValue === "aws" || modeValue === "local" ? modeValue : undefined;
  if (mode === undefined) problems.push(`MLFLOW_GATE_MODE must be "aws" or "local", not "${modeValue}"`);

  const clientIds = (get("COGNITO_CLIENT_ID") ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (clientIds.length === 0)
    problems.push("COGNITO_CLIENT_ID is required (one app client id, or several separated by commas)");
  for (const c of clientIds) if (!CLIENT_ID.test(c)) problems.push(`COGNITO_CLIENT_ID: "${c}" is not an app client id`);

  let issuer = "";
  let jwksUri = "";
  if (mode === "aws") {
    // A local pool's issuer must never be accepted by an AWS deployment: no override at all.
    for (const key of ["COGNITO_ISSUER", "COGNITO_JWKS_URI"]) {
      if (get(key) !== undefined)
        problems.push(`${key} is not allowed in aws mode (the issuer is derived from COGNITO_USER_POOL_ID)`);
    }
    const region = get("AWS_REGION");
    if (region === undefined) problems.push("AWS_REGION is required in aws mode");
    else if (!REGION.test(region)) problems.push(`AWS_REGION "${region}" is not a region name`);
    const poolId = get("COGNITO_USER_POOL_ID");
    const pool = poolId === undefined ? undefined : USER_POOL_ID.exec(poolId);
    if (poolId === undefined) problems.push("COGNITO_USER_POOL_ID is required in aws mode");
    else if (!pool) problems.push(`COGNITO_USER_POOL_ID "${poolId}" is not of the form <region>_<id>`);
    else if (region !== undefined && pool[1] !== region) {
      // Cognito puts the pool's region in `iss`; an issuer derived from another region would reject every token.
      problems.push(
        `COGNITO_USER_POOL_ID is in ${pool[1]} but AWS_REGION is ${region}; the pool must be in the authorizer's region`,
      );
    }
    if (pool && region !== undefined) {
      issuer = `https://cognito-idp.${region}.amazonaws.com/${poolId}`;
      jwksUri = `${issuer}/.well-known/jwks.json`;
    }
  } else if (mode === "local") {
    // Lambda always sets AWS_LAMBDA_FUNCTION_NAME: a deployed authorizer must not trust a hand-named issuer.
    if (get("AWS_LAMBDA_FUNCTION_NAME") !== undefined)
      problems.push('MLFLOW_GATE_MODE "local" is not allowed in AWS Lambda');
    const iss = get("COGNITO_ISSUER");
    if (iss === undefined) problems.push("COGNITO_ISSUER is required in local mode");
    else {
      const p = urlProblem("COGNITO_ISSUER", iss);
      if (p) problems.push(p);
      issuer = iss;
    }
    const jwksOverride = get("COGNITO_JWKS_URI");
    if (jwksOverride !== undefined) {
      const p = urlProblem("COGNITO_JWKS_URI", jwksOverride);
      if (p) problems.push(p);
    }
    jwksUri = jwksOverride ?? `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`;
  }

  const bundle = get("MLFLOW_GATE_POLICY_BUNDLE") ?? defaultPolicyBundlePath;
  const policyBundlePath = resolve(bundle);
  if (!policyBundlePath.endsWith(".json"))
    problems.push(`MLFLOW_GATE_POLICY_BUNDLE must name a .json file, not "${bundle}"`);

  let maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES;
  const max = get("MLFLOW_GATE_MAX_TOKEN_BYTES");
  if (max !== undefined) {
    maxTokenBytes = /^\d+$/.test(max) ? Number(max) : NaN;
    if (!(maxTokenBytes >= MIN_MAX_TOKEN_BYTES && maxTokenBytes <= MAX_MAX_TOKEN_BYTES)) {
      problems.push(
        `MLFLOW_GATE_MAX_TOKEN_BYTES must be an integer from ${MIN_MAX_TOKEN_BYTES} to ${MAX_MAX_TOKEN_BYTES}, not "${max}"`,
      );
    }
  }

  if (problems.length > 0 || mode === undefined) {
    throw new ConfigError(`invalid authorizer configuration:\n  ${problems.join("\n  ")}`);
  }
  return { mode, issuer, jwksUri, clientIds, policyBundlePath, maxTokenBytes };
}
