/**
 * The contract between the local stack and AWS: what API Gateway fixes, the names AWS gives things,
 * and what both places send the guard. The CDK constructs, the emulator and the guard all read it,
 * so the two places cannot drift apart.
 */
import type { AuthType } from "./catalog";

type Surface = Exclude<AuthType, "none">;

/** What API Gateway fixes for a REST API, and the identity of the local stage. */
export const API_GATEWAY = {
  /** Payload limit of a REST API (requests, and buffered responses). */
  maxPayloadBytes: 10 * 1024 * 1024,
  /** The longest integration timeout of a REST API. */
  maxIntegrationTimeoutMs: 29_000,
  /** The longest method ARN of an authorized method; a longer request path gets 414 (quotas, "Important notes"). */
  maxMethodArnBytes: 1600,
  /** The authorizer result cache: API Gateway's default TTL and its bounds. */
  authorizerCacheTtlSeconds: 300,
  maxAuthorizerCacheTtlSeconds: 3600,
  /** A Lambda authorizer's response (principal, policy document, context), serialized. */
  maxAuthorizerResponseBytes: 8192,
  /** The methodArn of a local request: a fixed account, API id and stage. */
  account: "000000000000",
  apiId: "mlflowgate",
  stage: "local",
} as const;

/**
 * The Lambda authorizer's identity sources (API Gateway mapping expressions): the token, and the request's verb
 * and resource, because its answer is scoped to them and API Gateway keys its result cache on every identity
 * source's value. The definition joins them with ", "; the emulator reads them back from it.
 */
export const AUTHORIZER_IDENTITY_SOURCES = [
  "method.request.header.Authorization",
  "context.httpMethod",
  "context.resourcePath",
] as const;

/**
 * With teams, the path too (`context.path`, which holds `/ws/<team>/`): the answer is scoped to the request's team
 * as well, so that a user in many teams gets an answer the size of one team's, and the cache keys on the path, so
 * that answer is never applied to another team's request. The price: one authorizer call per distinct path, not
 * per resource (MLflow's ids are mostly in query strings and bodies, so few paths differ).
 */
export const TEAM_AUTHORIZER_IDENTITY_SOURCES = [...AUTHORIZER_IDENTITY_SOURCES, "context.path"] as const;

/**
 * The key prefix MLflow keeps artifacts under (`--artifacts-destination s3://<bucket>/artifacts`), in the
 * artifact bucket on AWS and in the local S3 emulator's bucket; the task role can touch nothing else.
 */
export const ARTIFACT_PREFIX = "artifacts";

// AWS's name patterns, each in one place.
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
export const ACCOUNT_ID = /^\d{12}$/;
/** IAM role names (and user names) without a path. */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
export const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** sts:ExternalId: 2 to 1224 characters. */
export const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** A role's ARN (any partition), with an optional path: account and name captured. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
/** What a trust policy may name: an account root, a role or a user (any partition). */
export const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;
/** A Cognito user pool id: `<region>_<id>`; the region is captured. */
export const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_([0-9A-Za-z]+)$/;

/** 127.0.0.0/8, localhost and [::1]: the only hosts reached over plain http, and the local stack's only addresses. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export const iamUserArn = (account: string, name: string): string => `arn:aws:iam::${account}:user/${name}`;
export const roleArn = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;
export const assumedRoleArn = (account: string, role: string, session: string): string =>
  `arn:aws:sts::${account}:assumed-role/${role}/${session}`;

/**
 * An IAM caller's ARN as API Gateway reports it (`context.identity.userArn`), read into its parts.
 * Undefined for anything else.
 */
export type CallerArn =
  | { readonly kind: "user"; readonly account: string; readonly name: string }
  | { readonly kind: "assumed-role"; readonly account: string; readonly role: string; readonly session: string };

const USER_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
const ASSUMED_ROLE_ARN = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;

export function parseCallerArn(arn: string): CallerArn | undefined {
  const user = USER_ARN.exec(arn);
  if (user) return { kind: "user", account: user[1] as string, name: user[2] as string };
  const assumed = ASSUMED_ROLE_ARN.exec(arn);
  if (assumed) {
    return {
      kind: "assumed-role",
      account: assumed[1] as string,
      role: assumed[2] as string,
      session: assumed[3] as string,
    };
  }
  return undefined;
}

/**
 * The headers API Gateway sets on every request it forwards, from its integration request mappings,
 * and the guard reads: exactly these names, in this spelling. A mapped header replaces what a client
 * sent under the same name; the guard refuses any other spelling or a second copy.
 */
export const IDENTITY_HEADERS = {
  /** API Gateway's own id of the request (`context.extendedRequestId`): the audit trail's correlation id. */
  requestId: "x-mlflow-gate-request-id",
  /** The surface that authorized the request: `iam` or `cognito`. */
  auth: "x-mlflow-gate-auth",
  principal: "x-mlflow-gate-principal",
  username: "x-mlflow-gate-username",
  groups: "x-mlflow-gate-groups",
  /** The method and path API Gateway authorized: the guard refuses a request that differs. */
  method: "x-mlflow-gate-method",
  path: "x-mlflow-gate-path",
  /**
   * The address of the connection that reached API Gateway (`context.identity.sourceIp`): the guard
   * forwards it to MLflow as X-Forwarded-For, in place of anything a client sent.
   */
  sourceIp: "x-mlflow-gate-source-ip",
  /**
   * The team of a request under `/ws/{workspace}/` (`method.request.path.workspace`, decoded): only on the
   * API's team resources, and only when teams are configured. The guard requires it to equal the path's team
   * and sets MLflow's `X-MLFLOW-WORKSPACE` from it; no client's copy of that header ever reaches MLflow.
   */
  workspace: "x-mlflow-gate-workspace",
} as const;
export type IdentityField = keyof typeof IDENTITY_HEADERS;
/** The identity fields every authenticated method maps (the workspace only exists under `/ws/{workspace}/`). */
export type MappedIdentityField = Exclude<IdentityField, "workspace">;

/** The path parameter of the team resource `/ws/{workspace}` and the mapping of its header. */
export const WORKSPACE_PATH_PARAMETER = "workspace";
export const WORKSPACE_MAPPING = `method.request.path.${WORKSPACE_PATH_PARAMETER}`;
/** The first path part of every team route: `/ws/<team>/...`. */
export const WORKSPACE_PATH_PART = "ws";
/** The header MLflow (3.10+, `--enable-workspaces`) picks the workspace from; the guard alone sets it. */
export const MLFLOW_WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE";
/** MLflow's workspace when a request names none; with teams only admins and a `default` team file reach it. */
export const DEFAULT_WORKSPACE = "default";

/** Every header name of ours starts with this; the guard refuses any other name under it. */
export const IDENTITY_HEADER_PREFIX = "x-mlflow-gate-";

/** API Gateway does not know an IAM caller's group (IAM decided): SDK requests say so, with a value no group name can be. */
export const IAM_GROUPS = "(iam)";

/**
 * The API Gateway mapping expression of each identity header, per surface (`context.*` variables or
 * static `'values'`). The deployed API is built from this; the emulator fills the same variables.
 * `context.path` is the path as the client sent it (the stage first on an execute-api host). The request
 * id is `context.extendedRequestId`, which API Gateway generates: AWS documents that clients can override
 * `context.requestId`.
 */
export const IDENTITY_MAPPINGS: Readonly<Record<Surface, Readonly<Record<MappedIdentityField, string>>>> = {
  iam: {
    requestId: "context.extendedRequestId",
    auth: "'iam'",
    principal: "context.identity.userArn",
    username: "context.identity.userArn",
    groups: `'${IAM_GROUPS}'`,
    method: "context.httpMethod",
    path: "context.path",
    sourceIp: "context.identity.sourceIp",
  },
  cognito: {
    requestId: "context.extendedRequestId",
    auth: "'cognito'",
    principal: "context.authorizer.principalId",
    username: "context.authorizer.username",
    groups: "context.authorizer.groups",
    method: "context.httpMethod",
    path: "context.path",
    sourceIp: "context.identity.sourceIp",
  },
};

/**
 * What `context.path` (and so the path header) has before MLflow's path when a client calls the API on its
 * execute-api host: the stage, `/prod/api/2.0/...`. Behind a custom domain mapped to the stage there is none.
 */
export function executeApiPathPrefix(stageName: string): string {
  return `/${stageName}`;
}

/**
 * Credentials a request may carry, which MLflow never needs. The API overwrites the first two with a
 * static `'-'` (so they never reach MLflow's logs); the guard drops all of them.
 */
export const CREDENTIAL_HEADERS = {
  authorization: "Authorization",
  securityToken: "X-Amz-Security-Token",
  date: "X-Amz-Date",
  contentSha256: "X-Amz-Content-Sha256",
} as const;
/** The static value the API maps over a credential header. */
export const CREDENTIAL_OVERWRITE = "-";
/** SigV4's query-string (presigned) parameters: credentials in a URL. */
export const PRESIGN_QUERY_PARAMETERS = [
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "x-amz-algorithm",
];

/**
 * A team's name: its file name, its MLflow workspace, its path part (`/ws/<team>/`). Lower case so that one
 * team has one spelling everywhere (IAM resources, path, header); no `.` or `%`, so no path can read it two ways.
 * Within MLflow's own rule for workspace names (its WorkspaceNameValidator, 3.17.2: 2 to 63 characters, a
 * letter or digit at both ends, not a name its routes use), and starting with a letter.
 */
export const TEAM_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** The names MLflow refuses as workspaces because its routes use them. */
export const RESERVED_TEAM_NAMES: ReadonlySet<string> = new Set(["api", "ajax-api", "static-files", "workspaces"]);

/** Whether `name` may be a team: TEAM_NAME and not reserved. */
export function isTeamName(name: string): boolean {
  return TEAM_NAME.test(name) && !RESERVED_TEAM_NAMES.has(name);
}

/** What a team name must be, in words, for messages. */
export const TEAM_NAME_RULE = `2 to 63 of a-z, 0-9 and "-", starting with a letter and ending with a letter or digit, not ${[...RESERVED_TEAM_NAMES].join(", ")}`;

/**
 * A path under a team's resource, read: `/ws/team-a/api/2.0/...` is workspace `team-a` and MLflow's path
 * `/api/2.0/...`. Undefined for any other path, or a team part that is not a team name as written (no
 * percent-encoding: the path then could be read two ways).
 */
export function splitWorkspacePath(path: string): { readonly workspace: string; readonly rest: string } | undefined {
  const prefix = `/${WORKSPACE_PATH_PART}/`;
  if (!path.startsWith(prefix)) return undefined;
  const end = path.indexOf("/", prefix.length);
  if (end < 0) return undefined;
  const workspace = path.slice(prefix.length, end);
  return isTeamName(workspace) ? { workspace, rest: path.slice(end) } : undefined;
}
