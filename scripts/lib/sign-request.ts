// `mlflow-gate sign`: a curl-like request signed with SigV4 for execute-api, from an AWS profile's credentials.
import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { getDefaultRoleAssumer } from "@aws-sdk/nested-clients/sts";
import { loadConfig, NODE_REGION_CONFIG_OPTIONS } from "@smithy/core/config";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { request as httpRequest } from "http";
import { request as httpsRequest } from "https";
import { configuredStsEndpoint } from "./aws-profile";
import { CliFailure, CliUsageError } from "./cli-errors";
import { isLoopbackHost, REGION } from "../../authorizer/core/contract";

/** What the signer needs from the credential chain. */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignArgs {
  readonly method?: string;
  /** `Name: value` lines as given to -H. */
  readonly headers: readonly string[];
  /** -d: the body, or `@file` / `@-` (stdin). */
  readonly data?: string;
  readonly profile?: string;
  readonly region?: string;
  /** @default "execute-api" */
  readonly service?: string;
  readonly include: boolean;
  readonly url: string;
}

/** The request to sign, validated; the body is read later (it may be a file). */
export interface SignPlan {
  readonly method: string;
  readonly url: URL;
  readonly headers: readonly (readonly [name: string, value: string])[];
  readonly body:
    | { readonly kind: "none" }
    | { readonly kind: "inline"; readonly text: string }
    | { readonly kind: "file"; readonly path: string }
    | { readonly kind: "stdin" };
  readonly profile?: string;
  readonly region?: string;
  readonly service: string;
  readonly include: boolean;
}

/** Headers the signer owns or the transport computes: a user-supplied one would be dropped or break the signature. */
const RESERVED_HEADERS = new Set([
  "authorization",
  "host",
  "content-length",
  "transfer-encoding",
  "x-amz-date",
  "x-amz-content-sha256",
  "x-amz-security-token",
  "connection",
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** An API Gateway default endpoint names its region: `{api}.execute-api.{region}.amazonaws.com`. */
const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?$/;

/** One `-H 'Name: value'`; refuses what curl would send malformed and what the signer sets itself. */
export function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(":");
  // The value may be a credential (-H "Bearer ..." without its name): never echo it.
  if (colon <= 0)
    throw new CliUsageError(`a -H header must be "Name: value" (got ${line.length} characters without a ":")`);
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  if (!TOKEN.test(name)) throw new CliUsageError(`header name "${name}" is not a valid HTTP header name`);
  if (/[\r\n\0]/.test(value)) throw new CliUsageError(`header "${name}" has a line break or NUL in its value`);
  if (RESERVED_HEADERS.has(name.toLowerCase()))
    throw new CliUsageError(`header "${name}" is set by the signer or the transport; leave it out`);
  return [name, value];
}

/** Validates the command line into a plan; nothing is read or sent. */
export function buildSignPlan(args: SignArgs): SignPlan {
  let url: URL;
  try {
    url = new URL(args.url);
  } catch {
    throw new CliUsageError(
      `"${args.url}" is not a URL (like https://abc123.execute-api.eu-west-1.amazonaws.com/prod/api/2.0/mlflow/experiments/search)`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CliUsageError(`URL must be http or https, not ${url.protocol}`);
  // Over plain HTTP the signed request (replayable for minutes) and the body travel readable: only to this machine.
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname))
    throw new CliUsageError(
      `http:// is accepted only for a loopback address like the local gateway; use https:// for ${url.hostname}`,
    );
  if (url.username !== "" || url.password !== "")
    throw new CliUsageError("URL must not hold a user or password: credentials come from the AWS profile");
  if (url.hash !== "") throw new CliUsageError("URL must not hold a #fragment");
  const method = (args.method ?? (args.data !== undefined ? "POST" : "GET")).toUpperCase();
  if (!TOKEN.test(method)) throw new CliUsageError(`-X "${args.method}" is not an HTTP method`);
  if (args.region !== undefined && !REGION.test(args.region))
    throw new CliUsageError(`--region "${args.region}" is not an AWS region`);
  const service = args.service ?? "execute-api";
  if (!/^[a-z0-9-]{1,64}$/.test(service)) throw new CliUsageError(`--service "${service}" is not an AWS service name`);
  if (args.profile !== undefined && !/^[\w+=,.@:/-]{1,128}$/.test(args.profile))
    throw new CliUsageError(`--profile "${args.profile}" is not a profile name`);
  const headers = args.headers.map(parseHeader);
  const body: SignPlan["body"] =
    args.data === undefined
      ? { kind: "none" }
      : args.data === "@-"
        ? { kind: "stdin" }
        : args.data.startsWith("@")
          ? args.data.length > 1
            ? { kind: "file", path: args.data.slice(1) }
            : (() => {
                throw new CliUsageError("-d @ needs a file name (or @- for stdin)");
              })()
          : { kind: "inline", text: args.data };
  return {
    method,
    url,
    headers,
    body,
    service,
    include: args.include,
    ...(args.profile !== undefined ? { profile: args.profile } : {}),
    ...(args.region !== undefined ? { region: args.region } : {}),
  };
}

/** The region a URL's host names, for API Gateway's default endpoints. */
export function regionFromUrl(url: URL): string | undefined {
  return EXECUTE_API_HOST.exec(url.hostname)?.[1];
}

/** A body whose first non-blank character opens a JSON object or array. */
export function looksLikeJson(body: Uint8Array): boolean {
  const text = Buffer.from(body.subarray(0, 64)).toString("utf8").trimStart();
  return text.startsWith("{") || text.startsWith("[");
}

/** SigV4's URI encoding (RFC 3986 unreserved kept), the same as the signer's own. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The unsigned request. The query is decoded (`+` is a space, as API Gateway reads it) and sent
 * re-encoded exactly as the signer canonicalises it, so what is signed is what is sent.
 */
export function buildHttpRequest(plan: SignPlan, body: Uint8Array): HttpRequest {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of plan.url.searchParams) {
    const prior = query[k];
    query[k] = prior === undefined ? v : [...[prior].flat(), v];
  }
  const headers: Record<string, string> = { host: plan.url.host };
  for (const [name, value] of plan.headers) {
    // Repeated headers are joined as HTTP allows and SigV4 canonicalises them.
    const key = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase()) ?? name;
    headers[key] = headers[key] !== undefined ? `${headers[key]},${value}` : value;
  }
  if (body.length > 0 && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    // MLflow's API takes JSON; anything else (an artifact upload) is bytes, sent and signed as given.
    headers["content-type"] = looksLikeJson(body) ? "application/json" : "application/octet-stream";
  }
  return new HttpRequest({
    method: plan.method,
    protocol: plan.url.protocol,
    hostname: plan.url.hostname,
    ...(plan.url.port !== "" ? { port: Number(plan.url.port) } : {}),
    path: plan.url.pathname,
    query,
    headers,
    ...(body.length > 0 ? { body } : {}),
  });
}

/** The request target as sent: the path as given, the query as the signer encodes it (in the given order). */
export function requestTarget(req: HttpRequest): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(req.query ?? {})) {
    for (const value of [v ?? ""].flat()) parts.push(`${escapeUri(k)}=${escapeUri(value ?? "")}`);
  }
  return parts.length > 0 ? `${req.path}?${parts.join("&")}` : req.path;
}

export async function signRequest(
  req: HttpRequest,
  credentials: AwsCredentialIdentity,
  region: string,
  service: string,
  now?: Date,
): Promise<HttpRequest> {
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: true });
  return (await signer.sign(req, now !== undefined ? { signingDate: now } : {})) as HttpRequest;
}

// ---------------------------------------------------------------------------------------------------
// I/O: profile, credentials, region, sending

/** The AWS shared files to read instead of those the environment names (the local stack's, for `verify`). */
export interface SharedFiles {
  readonly credentialsFile: string;
  readonly configFile: string;
}

/**
 * The profile's credentials by the SDK's chain. An assume-role profile's STS call goes to the endpoint the
 * profile configures (a local profile's is the local STS), never to the public STS by default.
 */
/**
 * The role assumer's options: the region, and the endpoint, which the assumer passes on to its STS client
 * as credential-provider-ini passes its clientConfig (the options' type does not name it).
 */
function stsClientOptions(sts: { endpoint: string; region?: string }): Parameters<typeof getDefaultRoleAssumer>[0] {
  return { endpoint: sts.endpoint, ...(sts.region ? { region: sts.region } : {}) } as Parameters<
    typeof getDefaultRoleAssumer
  >[0];
}

export async function resolveCredentials(
  profile: string | undefined,
  files?: SharedFiles,
): Promise<AwsCredentialIdentity> {
  const sts = await configuredStsEndpoint(profile, process.env, files?.configFile);
  try {
    return await defaultProvider({
      ...(profile !== undefined ? { profile } : {}),
      ...(files ? { filepath: files.credentialsFile, configFilepath: files.configFile } : {}),
      // The role assumer alone gets the endpoint: a clientConfig would go to every client of the chain, the SSO
      // client's included, which would then send its token to the STS host.
      ...(sts !== undefined ? { roleAssumer: getDefaultRoleAssumer(stsClientOptions(sts)) } : {}),
      ignoreCache: true,
    })();
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    throw new CliFailure([
      `mlflow-gate: no AWS credentials${profile !== undefined ? ` for profile "${profile}"` : ""}: ${why}`,
    ]);
  }
}

/** --region, else the region in an API Gateway host name, else AWS_REGION or the profile's `region`. */
export async function resolveRegion(plan: SignPlan, profile: string | undefined): Promise<string> {
  if (plan.region !== undefined) return plan.region;
  const fromUrl = regionFromUrl(plan.url);
  if (fromUrl !== undefined) return fromUrl;
  try {
    const region = await loadConfig(NODE_REGION_CONFIG_OPTIONS, {
      ...(profile !== undefined ? { profile } : {}),
      ignoreCache: true,
    })();
    if (typeof region === "string" && region !== "") return region;
  } catch {
    // fall through to the message below
  }
  throw new CliFailure([
    `mlflow-gate: no region: give --region, or set region in the profile${profile !== undefined ? ` "${profile}"` : ""} or AWS_REGION`,
  ]);
}

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
}

/**
 * Sends the signed request as built (no header added but content-length) and streams the response:
 * `head` once, then each body chunk to `chunk`. Rejects with one clear line when nothing answers.
 */
export function sendRequest(
  req: HttpRequest,
  sink: { head(res: ResponseHead): void; chunk(data: Buffer): void },
  timeoutMs = 60_000,
): Promise<ResponseHead> {
  const send = req.protocol === "https:" ? httpsRequest : httpRequest;
  const body = req.body as Uint8Array | undefined;
  const where = `${req.protocol}//${req.hostname}${req.port !== undefined ? `:${req.port}` : ""}`;
  return new Promise((resolvePromise, reject) => {
    const r = send(
      {
        method: req.method,
        hostname: req.hostname,
        ...(req.port !== undefined ? { port: req.port } : {}),
        path: requestTarget(req),
        headers: { ...req.headers, ...(body !== undefined ? { "content-length": String(body.length) } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const head: ResponseHead = {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          httpVersion: res.httpVersion,
          rawHeaders: res.rawHeaders,
        };
        sink.head(head);
        res.on("data", (c: Buffer) => sink.chunk(c));
        res.on("error", (e) =>
          reject(
            new CliFailure([
              `mlflow-gate: ${where}: the response broke off (${(e as NodeJS.ErrnoException).code ?? e.message})`,
            ]),
          ),
        );
        res.on("end", () => resolvePromise(head));
      },
    );
    r.on("timeout", () => r.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    r.on("error", (e: NodeJS.ErrnoException) => {
      const reason =
        {
          ECONNREFUSED: "connection refused",
          ENOTFOUND: "host not found",
          ETIMEDOUT: `no answer within ${timeoutMs / 1000} s`,
          ECONNRESET: "connection reset",
        }[e.code ?? ""] ?? e.message;
      reject(new CliFailure([`mlflow-gate: cannot reach ${where}: ${reason}${e.code ? ` (${e.code})` : ""}`]));
    });
    r.end(body !== undefined ? Buffer.from(body) : undefined);
  });
}

/** `-i`: the status line and the response headers, as curl prints them. */
export function formatResponseHead(res: ResponseHead): string {
  const lines = [`HTTP/${res.httpVersion} ${res.status} ${res.statusText}`.trimEnd()];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}
