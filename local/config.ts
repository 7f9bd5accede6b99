import { isAbsolute, resolve } from "path";
import { ConfigError } from "../authorizer/core/errors";
import { API_GATEWAY, isLoopbackHost, REGION } from "../authorizer/core/contract";
import { GROUPS_DIR, TEAMS_DIR } from "../project/paths";

/**
 * The local stack's configuration, read once from the environment by `npm start` (and built directly
 * by tests). Every problem is listed in one ConfigError.
 */
export interface StackConfig {
  /** Where MLflow's database and artifacts, the user pool, keys and stack.json live. */
  readonly dataDir: string;
  /** The group files the stack decides with (`MLFLOW_GATE_GROUPS_DIR`); @default policies/groups */
  readonly groupsDir: string;
  /**
   * The team files (`MLFLOW_GATE_TEAMS_DIR`); @default policies/teams. With any, MLflow runs with workspaces and the
   * API serves it under `/ws/<team>/` (docs/teams.md); none, or no such directory, is one workspace.
   */
  readonly teamsDir: string;
  /** Loopback address every component binds to. */
  readonly host: string;
  /** The gateway's port: the only one users talk to. 0 picks a free port (tests). */
  readonly gatewayPort: number;
  /** MLflow's private port; 0 picks a free one. */
  readonly mlflowPort: number;
  /** The guard's private port (between the gateway and MLflow); 0 picks a free one. */
  readonly guardPort: number;
  /** The S3 emulator's port (artifacts; clients upload and download large files there with presigned URLs); 0 picks a free one. */
  readonly s3Port: number;
  /** Reads are audited too (`$MLFLOW_GATE_DATA/audit.jsonl` holds writes and refusals by default). */
  readonly auditReads: boolean;
  /**
   * MLflow's job runner (`MLFLOW_GATE_MLFLOW_JOBS`): its huey consumers run only when asked for, as they keep a
   * core busy while nothing happens; without them MLflow answers its job routes with its own error. @default false
   */
  readonly mlflowJobs: boolean;
  /** The user pool's port; 0 picks a free one. */
  readonly userPoolPort: number;
  /** The local STS's port (its own listener: STS's query API lives on `POST /`, which is MLflow's UI space); 0 picks a free one. */
  readonly stsPort: number;
  /** Bounds of AssumeRole's DurationSeconds: AWS's 900 s minimum by default, lower for tests that watch credentials expire. */
  readonly stsMinDurationSeconds: number;
  /** The roles' MaxSessionDuration (AWS's default for a role: 3600 s). */
  readonly stsMaxDurationSeconds: number;
  readonly region: string;
  /** How long the gateway caches an authorizer's answer per Authorization header (API Gateway: 0–3600, default 300). */
  readonly authorizerCacheTtlSeconds: number;
  /** API Gateway's integration timeout. */
  readonly integrationTimeoutMs: number;
  /** Access token lifetime of the local pool (3600 s, Cognito's default, when undefined). */
  readonly accessTokenValiditySeconds?: number;
}

/** The local stack's data directory: `$MLFLOW_GATE_DATA`, else `.mlflow-gate`, from `cwd`. */
export function resolveDataDir(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  return resolve(cwd, env.MLFLOW_GATE_DATA?.trim() || ".mlflow-gate");
}

export function parseStackConfig(env: Record<string, string | undefined>, cwd = process.cwd()): StackConfig {
  const problems: string[] = [];
  const get = (key: string): string | undefined => {
    const v = env[key]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) problems.push(`${key} must be an integer from ${min} to ${max}, not "${raw}"`);
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    if (raw !== "true" && raw !== "false") problems.push(`${key} must be true or false, not "${raw}"`);
    return raw === "true";
  };
  const dataDir = resolveDataDir(env, cwd);
  const groupsDir = resolve(cwd, get("MLFLOW_GATE_GROUPS_DIR") ?? GROUPS_DIR);
  const teamsDir = resolve(cwd, get("MLFLOW_GATE_TEAMS_DIR") ?? TEAMS_DIR);
  const host = get("MLFLOW_GATE_HOST") ?? "127.0.0.1";
  if (!isLoopbackHost(host) || host === "[::1]") {
    problems.push(
      `MLFLOW_GATE_HOST must be a loopback address (127.0.0.0/8 or localhost), not "${host}": the local stack is for one machine`,
    );
  }
  const region = get("MLFLOW_GATE_REGION") ?? "us-east-1";
  if (!REGION.test(region)) problems.push(`MLFLOW_GATE_REGION "${region}" is not a region name`);
  const tokenValidity = get("MLFLOW_GATE_ACCESS_TOKEN_SECONDS");
  const config: StackConfig = {
    dataDir,
    groupsDir,
    teamsDir,
    host,
    gatewayPort: int("MLFLOW_GATE_PORT", 8080, 0, 65535),
    mlflowPort: int("MLFLOW_GATE_MLFLOW_PORT", 0, 0, 65535),
    guardPort: int("MLFLOW_GATE_GUARD_PORT", 0, 0, 65535),
    s3Port: int("MLFLOW_GATE_S3_PORT", 0, 0, 65535),
    auditReads: bool("MLFLOW_GATE_AUDIT_READS", false),
    mlflowJobs: bool("MLFLOW_GATE_MLFLOW_JOBS", false),
    userPoolPort: int("MLFLOW_GATE_USER_POOL_PORT", 9229, 0, 65535),
    stsPort: int("MLFLOW_GATE_STS_PORT", 8090, 0, 65535),
    stsMinDurationSeconds: int("MLFLOW_GATE_STS_MIN_DURATION_SECONDS", 900, 15, 900),
    stsMaxDurationSeconds: int("MLFLOW_GATE_STS_MAX_DURATION_SECONDS", 3600, 15, 43_200),
    region,
    authorizerCacheTtlSeconds: int(
      "MLFLOW_GATE_AUTHORIZER_CACHE_TTL",
      API_GATEWAY.authorizerCacheTtlSeconds,
      0,
      API_GATEWAY.maxAuthorizerCacheTtlSeconds,
    ),
    integrationTimeoutMs: int(
      "MLFLOW_GATE_INTEGRATION_TIMEOUT_MS",
      API_GATEWAY.maxIntegrationTimeoutMs,
      50,
      API_GATEWAY.maxIntegrationTimeoutMs,
    ),
    ...(tokenValidity !== undefined
      ? { accessTokenValiditySeconds: int("MLFLOW_GATE_ACCESS_TOKEN_SECONDS", 3600, 60, 86_400) }
      : {}),
  };
  if (config.stsMinDurationSeconds > config.stsMaxDurationSeconds) {
    problems.push(
      `MLFLOW_GATE_STS_MIN_DURATION_SECONDS (${config.stsMinDurationSeconds}) must not exceed MLFLOW_GATE_STS_MAX_DURATION_SECONDS (${config.stsMaxDurationSeconds})`,
    );
  }
  if (!isAbsolute(config.dataDir)) problems.push("MLFLOW_GATE_DATA must resolve to an absolute path");
  if (problems.length > 0) throw new ConfigError(`invalid local stack configuration:\n  ${problems.join("\n  ")}`);
  return config;
}

/**
 * The stack's settings that pick free ports for the three whose defaults are fixed (8080, 9229, 8090): a stack
 * that runs beside another (tests, benchmarks). The other ports are free ones by default.
 */
export const FREE_PORTS_ENV = {
  MLFLOW_GATE_PORT: "0",
  MLFLOW_GATE_USER_POOL_PORT: "0",
  MLFLOW_GATE_STS_PORT: "0",
} as const;

/** The variable that sets each port, for "port in use" messages. */
export const PORT_VARIABLES = {
  gatewayPort: "MLFLOW_GATE_PORT",
  mlflowPort: "MLFLOW_GATE_MLFLOW_PORT",
  guardPort: "MLFLOW_GATE_GUARD_PORT",
  s3Port: "MLFLOW_GATE_S3_PORT",
  userPoolPort: "MLFLOW_GATE_USER_POOL_PORT",
  stsPort: "MLFLOW_GATE_STS_PORT",
} as const;
