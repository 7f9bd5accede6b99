// Tools of the attack suite: a raw HTTP client (nothing normalised, duplicate headers and any method
// kept), a fingerprint of MLflow's state read on its private port, SigV4 signing with smithy, and
// the assertion every attack shares.
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { connect } from "net";
import type { TestStack } from "../../integration/support/stack";

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; the last value of a repeated header. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  /** The request target exactly as it goes on the wire. */
  readonly target: string;
  /** In order, duplicates kept; Host and Content-Length are added unless given. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * Sends one request over a fresh connection and reads the answer until the server closes it.
 * A server that answers and closes before the request is fully written (a 431 for a huge header)
 * still yields its answer.
 */
export function sendRaw(baseUrl: string, request: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : (request.body ?? Buffer.alloc(0));
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has("host")) headers.unshift(["Host", url.host]);
  if (
    !has("content-length") &&
    !has("transfer-encoding") &&
    (body.length > 0 || !["GET", "HEAD"].includes(request.method))
  )
    headers.push(["Content-Length", String(body.length)]);
  headers.push(["Connection", "close"]);
  const head = `${request.method} ${request.target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n`;

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(url.port), url.hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${request.method} ${request.target.slice(0, 100)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const split = data.indexOf("\r\n\r\n");
      if (split < 0)
        return reject(
          new Error(`no HTTP answer to ${request.method} ${request.target.slice(0, 100)} (${data.length} bytes)`),
        );
      const [statusLine, ...lines] = data.subarray(0, split).toString("latin1").split("\r\n");
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = data.subarray(split + 4);
      const text = (/chunked/i.test(parsed["transfer-encoding"] ?? "") ? decodeChunked(rest) : rest).toString("utf8");
      resolve({ status: Number(statusLine?.split(" ")[1]), headers: parsed, body: text });
    };
    socket.on("connect", () => {
      socket.write(head);
      if (body.length > 0) socket.write(body);
    });
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", finish);
    // EPIPE/ECONNRESET after the server answered and hung up: the answer is still read on close.
    socket.on("error", () => undefined);
  });
}

/**
 * Everything a write could change, read from the private MLflow's REST API (not through the
 * gateway): experiments and runs of every lifecycle stage with their tags, params and metrics,
 * registered models and every model version with its stage and aliases.
 */
export async function mlflowState(t: TestStack): Promise<string> {
  const base = t.stack.summary.mlflowPrivateUrl;
  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (r.status !== 200) throw new Error(`private MLflow ${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown[] | undefined>>;
  };
  const experiments =
    (await call("POST", "/api/2.0/mlflow/experiments/search", { max_results: 1000, view_type: "ALL" })).experiments ??
    [];
  const ids = experiments.map((e) => (e as { experiment_id: string }).experiment_id);
  const runs =
    (
      await call("POST", "/api/2.0/mlflow/runs/search", {
        experiment_ids: ids,
        run_view_type: "ALL",
        max_results: 1000,
      })
    ).runs ?? [];
  const models =
    (await call("GET", "/api/2.0/mlflow/registered-models/search?max_results=1000")).registered_models ?? [];
  const versions = (await call("GET", "/api/2.0/mlflow/model-versions/search?max_results=1000")).model_versions ?? [];
  return JSON.stringify({ experiments, runs, models, versions });
}

/** A JSON call on the private MLflow, for seeding and restoring state (never through the gateway). */
export async function privateCall(
  t: TestStack,
  method: "GET" | "POST" | "DELETE" | "PATCH",
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
): Promise<any> {
  const r = await fetch(`${t.stack.summary.mlflowPrivateUrl}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`private MLflow ${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

export interface SigningOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** @default now */
  readonly signedAt?: Date;
  /** @default the stack's region */
  readonly region?: string;
  /** @default "execute-api" */
  readonly service?: string;
  /** Headers smithy must leave out of SignedHeaders (it signs every header otherwise). */
  readonly unsignableHeaders?: Set<string>;
  /** The Host value to sign; @default the gateway's */
  readonly host?: string;
}

/**
 * Signs with @smithy/signature-v4 (the AWS SDK for JavaScript's signer) for the path as it will go on
 * the wire, and returns the headers to send, Host first. Smithy removes dot segments before signing,
 * as every SigV4 signer does: the gateway must not then route the raw path differently.
 */
export async function signHeaders(
  t: TestStack,
  method: string,
  wirePath: string,
  query: string,
  body: string | Buffer,
  options: SigningOptions,
): Promise<[string, string][]> {
  const url = new URL(t.stack.summary.gatewayUrl);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    },
    region: options.region ?? t.stack.summary.region,
    service: options.service ?? "execute-api",
    sha256: Sha256,
  });
  const q: Record<string, string[]> = {};
  for (const piece of query === "" ? [] : query.split("&")) {
    const [k, v = ""] = piece.split("=") as [string, string?];
    (q[decodeURIComponent(k)] ??= []).push(decodeURIComponent(v));
  }
  const signed = await signer.sign(
    new HttpRequest({
      method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: wirePath,
      query: q,
      headers: { host: options.host ?? url.host, "content-type": "application/json" },
      body,
    }),
    {
      signingDate: options.signedAt ?? new Date(),
      ...(options.unsignableHeaders ? { unsignableHeaders: options.unsignableHeaders } : {}),
    },
  );
  const headers = Object.entries(signed.headers as Record<string, string>);
  return [...headers.filter(([n]) => n === "host"), ...headers.filter(([n]) => n !== "host")];
}

/** The access-log line of the request that got this answer (undefined when the gateway never handled it). */
export function logEntryOf(t: TestStack, response: RawResponse) {
  const id = response.headers["x-amzn-requestid"];
  return id === undefined ? undefined : t.accessLog.find((e) => e.requestId === id);
}

/** Whether the guard answered (a refusal of its own), rather than the gateway or MLflow. */
export const refusedByGuard = (response: RawResponse): boolean =>
  response.headers["x-mlflow-gate-refused-by"] === "guard";

/**
 * What every attack must end in: a 4xx (never a 5xx, never a success), no allow in the gateway's
 * log unless the guard refused what the gateway let through, and MLflow's state as it was before.
 */
export async function expectRefused(t: TestStack, response: RawResponse, before: string): Promise<void> {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  if (!refusedByGuard(response)) expect(logEntryOf(t, response)?.decision).not.toBe("allow");
  expect(await mlflowState(t)).toBe(before);
}
