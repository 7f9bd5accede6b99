import { isAbsolute } from "path";
import { API_GATEWAY, isLoopbackHost } from "../authorizer/core/contract";
import { ConfigError } from "../authorizer/core/errors";
import { DEFAULT_GRAPHQL_LIMITS, GraphqlLimits } from "./graphql";

/**
 * How many bytes of request bodies the guard may hold at once, over all requests: six bodies of API
 * Gateway's largest size. Each body it reads whole (to stamp, audit or check it) is at most 10 MB, but many
 * at once would take the memory it shares with MLflow in its task; parsed JSON takes a few times its bytes,
 * so this is a few hundred MiB at worst. Past it, a 503 with Retry-After.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * The guard's configuration: the same program in the MLflow task on AWS (a sidecar container) and in
 * the local stack, read once from the environment; every problem is listed in one ConfigError.
 */
export interface GuardConfig {
  /** Where the guard listens: all interfaces in the task (the NLB's target), loopback locally. */
  readonly host: string;
  /** 0 picks a free port (tests, the local stack). */
  readonly port: number;
  /** MLflow: on loopback only, since the guard is the only way to it. */
  readonly upstream: URL;
  /**
   * What API Gateway's `context.path` has before the path MLflow sees: `/<stage>` behind an execute-api
   * host, "" behind a custom domain mapped to the stage, and locally.
   */
  readonly stagePathPrefix: string;
  /** The route catalog of the pinned MLflow (actions and classes for the audit trail and the rules). */
  readonly catalogFile: string;
  /** The group files (their promotion rules decide the stage and alias routes). */
  readonly groupsDir: string;
  /**
   * The team files: with any, MLflow runs with workspaces and every authenticated request comes under
   * `/ws/<team>/` (docs/teams.md); a missing directory is no teams. It must hold what the API was built from.
   */
  readonly teamsDir: string;
  /**
   * The groups of SigV4 callers, which API Gateway cannot name: `user/<name>` or `role/<name>` of the
   * account's principals, to a group (the Studio and cross-account roles; locally principals.json).
   */
  readonly iamGroups: ReadonlyMap<string, string>;
  /** Audit lines go to this file (appended), or to standard output when undefined (the container's log). */
  readonly auditFile?: string;
  /** Reads are audited too (off by default: they are most of the traffic). */
  readonly auditReads: boolean;
  /** The largest body the guard reads: API Gateway's payload limit (nothing larger reaches it). */
  readonly maxBodyBytes: number;
  /** The bytes of request bodies the guard holds at once (at least one body of maxBodyBytes). */
  readonly maxBufferedBytes: number;
  /** What reaches MLflow's `/graphql`: the body's size is configurable, the document's cost is not. */
  readonly graphql: GraphqlLimits;
}

export const GUARD_ENV = {
  host: "MLFLOW_GATE_GUARD_HOST",
  port: "MLFLOW_GATE_GUARD_PORT",
  upstream: "MLFLOW_GATE_GUARD_UPSTREAM",
  stagePathPrefix: "MLFLOW_GATE_GUARD_STAGE_PATH_PREFIX",
  catalogFile: "MLFLOW_GATE_GUARD_CATALOG",
  groupsDir: "MLFLOW_GATE_GUARD_GROUPS_DIR",
  teamsDir: "MLFLOW_GATE_GUARD_TEAMS_DIR",
  iamGroups: "MLFLOW_GATE_GUARD_IAM_GROUPS",
  auditFile: "MLFLOW_GATE_AUDIT_FILE",
  auditReads: "MLFLOW_GATE_AUDIT_READS",
  maxBufferedBytes: "MLFLOW_GATE_GUARD_MAX_BUFFERED_BYTES",
  graphqlMaxBytes: "MLFLOW_GATE_GUARD_GRAPHQL_MAX_BYTES",
} as const;

const STAGE_PREFIX = /^(\/[A-Za-z0-9._~-]+)*$/;

export function parseGuardConfig(
  env: Record<string, string | undefined>,
  defaults: { catalogFile: string; groupsDir: string; teamsDir: string },
): GuardConfig {
  const problems: string[] = [];
  const get = (key: string): string | undefined => {
    const v = env[key]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const host = get(GUARD_ENV.host) ?? "127.0.0.1";
  const rawPort = get(GUARD_ENV.port) ?? "0";
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!(port >= 0 && port <= 65535)) problems.push(`${GUARD_ENV.port} must be a port number, not "${rawPort}"`);

  let upstream = new URL("http://127.0.0.1:5000");
  const rawUpstream = get(GUARD_ENV.upstream);
  if (rawUpstream === undefined)
    problems.push(`${GUARD_ENV.upstream} is required (MLflow's address, e.g. http://127.0.0.1:5000)`);
  else {
    try {
      upstream = new URL(rawUpstream);
      if (
        upstream.protocol !== "http:" ||
        !isLoopbackHost(upstream.hostname) ||
        upstream.pathname !== "/" ||
        upstream.search !== ""
      ) {
        problems.push(
          `${GUARD_ENV.upstream} must be http://<loopback address>:<port> (MLflow listens on loopback only), not "${rawUpstream}"`,
        );
      }
    } catch {
      problems.push(`${GUARD_ENV.upstream} is not a URL: "${rawUpstream}"`);
    }
  }
  const stagePathPrefix = get(GUARD_ENV.stagePathPrefix) ?? "";
  if (!STAGE_PREFIX.test(stagePathPrefix)) {
    problems.push(
      `${GUARD_ENV.stagePathPrefix} must be empty or like /prod (no trailing "/"), not "${stagePathPrefix}"`,
    );
  }
  const catalogFile = get(GUARD_ENV.catalogFile) ?? defaults.catalogFile;
  if (!isAbsolute(catalogFile)) problems.push(`${GUARD_ENV.catalogFile} must be an absolute path`);
  const groupsDir = get(GUARD_ENV.groupsDir) ?? defaults.groupsDir;
  if (!isAbsolute(groupsDir)) problems.push(`${GUARD_ENV.groupsDir} must be an absolute path`);
  const teamsDir = get(GUARD_ENV.teamsDir) ?? defaults.teamsDir;
  if (!isAbsolute(teamsDir)) problems.push(`${GUARD_ENV.teamsDir} must be an absolute path`);
  const iamGroups = parseIamGroups(get(GUARD_ENV.iamGroups), problems);
  const auditFile = get(GUARD_ENV.auditFile);
  if (auditFile !== undefined && !isAbsolute(auditFile))
    problems.push(`${GUARD_ENV.auditFile} must be an absolute path`);
  const reads = get(GUARD_ENV.auditReads) ?? "false";
  if (reads !== "true" && reads !== "false")
    problems.push(`${GUARD_ENV.auditReads} must be true or false, not "${reads}"`);
  const rawBuffered = get(GUARD_ENV.maxBufferedBytes);
  const maxBufferedBytes = rawBuffered === undefined ? DEFAULT_MAX_BUFFERED_BYTES : Number(rawBuffered);
  if (
    rawBuffered !== undefined &&
    (!/^\d{1,12}$/.test(rawBuffered) || maxBufferedBytes < API_GATEWAY.maxPayloadBytes)
  ) {
    problems.push(
      `${GUARD_ENV.maxBufferedBytes} must be a number of bytes, at least one body of ${API_GATEWAY.maxPayloadBytes}, not "${rawBuffered}"`,
    );
  }
  const rawGraphql = get(GUARD_ENV.graphqlMaxBytes);
  const graphqlMaxBytes = rawGraphql === undefined ? DEFAULT_GRAPHQL_LIMITS.maxBytes : Number(rawGraphql);
  if (
    rawGraphql !== undefined &&
    (!/^\d{1,9}$/.test(rawGraphql) || graphqlMaxBytes < 1024 || graphqlMaxBytes > API_GATEWAY.maxPayloadBytes)
  ) {
    problems.push(
      `${GUARD_ENV.graphqlMaxBytes} must be a number of bytes from 1024 to ${API_GATEWAY.maxPayloadBytes}, not "${rawGraphql}"`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid guard configuration:\n  ${problems.join("\n  ")}`, problems);
  return {
    host,
    port,
    upstream,
    stagePathPrefix,
    catalogFile,
    groupsDir,
    teamsDir,
    iamGroups,
    ...(auditFile !== undefined ? { auditFile } : {}),
    auditReads: reads === "true",
    maxBodyBytes: API_GATEWAY.maxPayloadBytes,
    maxBufferedBytes,
    graphql: { ...DEFAULT_GRAPHQL_LIMITS, maxBytes: graphqlMaxBytes },
  };
}

const IAM_PRINCIPAL_KEY = /^(user|role)\/[\w+=,.@-]{1,64}$/;
const GROUP = /^[a-z][a-z0-9-]{0,62}$/;

/** `{"role/<name>": "<group>", "user/<name>": "<group>"}`; @default none (no SigV4 caller has a group). */
function parseIamGroups(raw: string | undefined, problems: string[]): ReadonlyMap<string, string> {
  if (raw === undefined) return new Map();
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push(`${GUARD_ENV.iamGroups} must be a JSON object of "role/<name>" or "user/<name>" to a group`);
    return new Map();
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${GUARD_ENV.iamGroups} must be a JSON object of "role/<name>" or "user/<name>" to a group`);
    return new Map();
  }
  const table = new Map<string, string>();
  for (const [key, group] of Object.entries(value)) {
    if (!IAM_PRINCIPAL_KEY.test(key) || typeof group !== "string" || !GROUP.test(group))
      problems.push(
        `${GUARD_ENV.iamGroups}: ${JSON.stringify(key)} must be role/<name> or user/<name>, to a group name`,
      );
    else table.set(key, group);
  }
  return table;
}
