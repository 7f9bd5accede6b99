// `mlflow-gate verify`, the I/O half: a caller per principal that sends raw requests to the API as that
// principal (SigV4 from an AWS profile, or a Cognito access token), and plain requests to presigned URLs.
import { HttpRequest } from "@smithy/protocol-http";
import { CliFailure } from "../cli-errors";
import { resolveCredentials, sendRequest, SharedFiles, signRequest } from "../sign-request";
import { Answer, VerifyPrincipal } from "./plan";

export interface RawRequest {
  readonly method: string;
  /** Below the API's base URL (its stage path), as sent: never normalised, so path tricks reach the API as written. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface Caller {
  readonly principal: VerifyPrincipal;
  send(request: RawRequest): Promise<Answer>;
}

export interface CallerOptions {
  readonly apiUrl: URL;
  readonly region: string;
  /** The AWS shared files with the profiles (the local stack's); @default those the environment names */
  readonly awsFiles?: SharedFiles;
  /** The user pool, for bearer principals. */
  readonly cognito?: { readonly endpoint: string; readonly clientId: string };
  readonly timeoutMs?: number;
}

/** Splits `path?query` into the request's path below the base and its query (kept in order). */
function target(apiUrl: URL, path: string): { path: string; query: Record<string, string | string[]> } {
  const [rawPath, rawQuery] = path.split("?", 2) as [string, string | undefined];
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery ?? "")) {
    const prior = query[k];
    query[k] = prior === undefined ? v : [...[prior].flat(), v];
  }
  return { path: `${apiUrl.pathname.replace(/\/$/, "")}${rawPath}`, query };
}

function httpRequestOf(apiUrl: URL, request: RawRequest, extraHeaders: Record<string, string>): HttpRequest {
  const { path, query } = target(apiUrl, request.path);
  const body = request.body;
  return new HttpRequest({
    method: request.method,
    protocol: apiUrl.protocol,
    hostname: apiUrl.hostname,
    ...(apiUrl.port !== "" ? { port: Number(apiUrl.port) } : {}),
    path,
    query,
    headers: {
      host: apiUrl.host,
      ...(body !== undefined && body.length > 0 ? { "content-type": "application/json" } : {}),
      ...extraHeaders,
      ...request.headers,
    },
    ...(body !== undefined && body.length > 0 ? { body } : {}),
  });
}

/** Sends a built request and collects the answer (bounded: verify reads small answers and its own artifact). */
export async function collect(req: HttpRequest, timeoutMs = 60_000): Promise<Answer> {
  const chunks: Buffer[] = [];
  let headers: Record<string, string> = {};
  const head = await sendRequest(
    req,
    {
      head: (h) => {
        const out: Record<string, string> = {};
        for (let i = 0; i + 1 < h.rawHeaders.length; i += 2)
          out[(h.rawHeaders[i] as string).toLowerCase()] = h.rawHeaders[i + 1] as string;
        headers = out;
      },
      chunk: (c) => chunks.push(c),
    },
    timeoutMs,
  );
  return { status: head.status, headers, body: Buffer.concat(chunks) };
}

/** A plain request to a presigned S3 URL (no credentials of ours: the URL carries its own). */
export async function sendPresigned(
  method: "GET" | "PUT",
  url: string,
  headers: Readonly<Record<string, string>>,
  body?: Uint8Array,
): Promise<Answer> {
  const u = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of u.searchParams) query[k] = v;
  return collect(
    new HttpRequest({
      method,
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port !== "" ? { port: Number(u.port) } : {}),
      path: u.pathname,
      query,
      headers: { host: u.host, ...headers },
      ...(body !== undefined ? { body } : {}),
    }),
    300_000,
  );
}

function sigv4Caller(principal: VerifyPrincipal & { kind: "sigv4" }, options: CallerOptions): Caller {
  let credentials: ReturnType<typeof resolveCredentials> | undefined;
  return {
    principal,
    async send(request) {
      credentials ??= resolveCredentials(principal.name, options.awsFiles);
      const signed = await signRequest(
        httpRequestOf(options.apiUrl, request, {}),
        await credentials,
        options.region,
        "execute-api",
      );
      return collect(signed, options.timeoutMs);
    },
  };
}

/** Cognito's USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH: the access token, never printed. */
export async function cognitoAccessToken(
  principal: VerifyPrincipal & { kind: "bearer" },
  cognito: NonNullable<CallerOptions["cognito"]>,
): Promise<string> {
  const parameters =
    principal.refreshToken !== undefined
      ? { AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: principal.refreshToken } }
      : {
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: principal.name, PASSWORD: principal.password ?? "" },
        };
  let res: Response;
  try {
    res = await fetch(cognito.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({ ClientId: cognito.clientId, ...parameters }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new CliFailure([`mlflow-gate: cannot reach the user pool at ${cognito.endpoint}: ${(e as Error).message}`]);
  }
  const body = (await res.json().catch(() => ({}))) as {
    AuthenticationResult?: { AccessToken?: string };
    ChallengeName?: string;
    __type?: string;
    message?: string;
  };
  const token = body.AuthenticationResult?.AccessToken;
  if (res.ok && token) return token;
  const why = body.ChallengeName
    ? `Cognito asks for ${body.ChallengeName} (sign in once in the UI first)`
    : `${body.__type ?? res.status}: ${body.message ?? "no token"}`;
  throw new CliFailure([`mlflow-gate: user ${principal.name} cannot sign in: ${why}`]);
}

function bearerCaller(principal: VerifyPrincipal & { kind: "bearer" }, options: CallerOptions): Caller {
  let token: Promise<string> | undefined;
  return {
    principal,
    async send(request) {
      if (!options.cognito)
        throw new CliFailure([`mlflow-gate: user ${principal.name} needs the user pool's client id`]);
      token ??= cognitoAccessToken(principal, options.cognito);
      return collect(
        httpRequestOf(options.apiUrl, request, { authorization: `Bearer ${await token}` }),
        options.timeoutMs,
      );
    },
  };
}

export function callerFor(principal: VerifyPrincipal, options: CallerOptions): Caller {
  return principal.kind === "sigv4" ? sigv4Caller(principal, options) : bearerCaller(principal, options);
}

/** An unauthenticated caller (public routes: the UI config). */
export function anonymousCaller(options: CallerOptions): Pick<Caller, "send"> {
  return { send: (request) => collect(httpRequestOf(options.apiUrl, request, {}), options.timeoutMs) };
}
