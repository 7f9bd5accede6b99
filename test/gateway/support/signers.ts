import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { execFileSync } from "child_process";
import { join } from "path";
import type { SignedRequest } from "../../../gateway/sigv4";

/** Real signers, run without a network: smithy in-process, botocore and requests-auth-aws-sigv4 in one Python process. */

export const ENDPOINT_HOST = "localhost:8080";
const ROOT = join(__dirname, "..", "..", "..");

export interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SmithyRequest {
  readonly method: string;
  /** The path as it goes on the wire (already percent-encoded), as the SDK's serializers build it. */
  readonly path: string;
  readonly query?: Record<string, string | string[]>;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface SmithyOptions {
  readonly keys: Keys;
  readonly signedAt: Date;
  readonly region?: string;
  readonly service?: string;
  /** Whether smithy adds x-amz-content-sha256 (the SDK does); @default true */
  readonly applyChecksum?: boolean;
  readonly unsignableHeaders?: Set<string>;
  /** presign only: the URL's validity in seconds; @default 3600 */
  readonly expiresIn?: number;
}

/** smithy's escapeUri, as its querystring builder uses it for the wire. */
const escapeUri = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The query string smithy's HTTP handlers put on the wire (@smithy/querystring-builder). */
export function smithyWireQuery(query: Record<string, string | string[]> | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return parts.join("&");
}

/** Signs with @smithy/signature-v4 as the AWS SDK for JavaScript v3 does, and returns what the gateway would receive. */
export async function signWithSmithy(request: SmithyRequest, options: SmithyOptions): Promise<SignedRequest> {
  const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
  const signer = new SignatureV4({
    credentials: options.keys,
    region: options.region ?? "us-east-1",
    service: options.service ?? "execute-api",
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
  });
  const signed = (await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: "http:",
      hostname: "localhost",
      port: 8080,
      path: request.path,
      query: request.query ?? {},
      headers: { host: ENDPOINT_HOST, ...request.headers },
      body,
    }),
    { signingDate: options.signedAt, unsignableHeaders: options.unsignableHeaders },
  )) as HttpRequest;
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: smithyWireQuery(request.query),
    rawHeaders: Object.entries(signed.headers).flat(),
    body: body ?? Buffer.alloc(0),
  };
}

/** Presigns with smithy (query-string form), for the test that such requests are refused. */
export async function presignWithSmithy(request: SmithyRequest, options: SmithyOptions): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: options.keys,
    region: options.region ?? "us-east-1",
    service: options.service ?? "execute-api",
    sha256: Sha256,
  });
  const signed = await signer.presign(
    new HttpRequest({
      method: request.method,
      protocol: "http:",
      hostname: "localhost",
      port: 8080,
      path: request.path,
      query: request.query ?? {},
      headers: { host: ENDPOINT_HOST },
    }),
    { signingDate: options.signedAt, ...(options.expiresIn !== undefined ? { expiresIn: options.expiresIn } : {}) },
  );
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: smithyWireQuery(signed.query as Record<string, string>),
    rawHeaders: Object.entries(signed.headers).flat(),
    body: Buffer.alloc(0),
  };
}

export type PythonSigner = "botocore" | "requests-auth-aws-sigv4";

export interface PythonCase {
  readonly id: string;
  readonly signer: PythonSigner;
  readonly method: string;
  /** Full URL; its path and query go on the wire as the Python HTTP stack prepares them. */
  readonly url: string;
  readonly params?: readonly (readonly [string, string])[];
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** requests' json= (MLflow's POST bodies). */
  readonly json?: unknown;
  readonly keys: Keys;
  readonly signedAt: Date;
  readonly region?: string;
  readonly service?: string;
}

interface PythonResult {
  readonly id: string;
  readonly method?: string;
  readonly url?: string;
  readonly headers?: [string, string][];
  readonly body_b64?: string | null;
  readonly error?: string;
}

const amzDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");

/** The path and query of a URL exactly as written (no decoding, unlike WHATWG URL). */
export function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const target = url.replace(/^[a-z]+:\/\/[^/?#]*/i, "");
  const q = target.indexOf("?");
  return q < 0
    ? { rawPath: target || "/", rawQuery: "" }
    : { rawPath: target.slice(0, q) || "/", rawQuery: target.slice(q + 1) };
}

/**
 * Signs every case in one Python process (test/gateway/support/sign-requests.py) and returns what
 * would reach the gateway, by case id. AWS config files and the instance metadata service are
 * switched off so that nothing is read or called beyond what the case gives.
 */
export function signWithPython(cases: readonly PythonCase[]): Map<string, SignedRequest> {
  const input = cases.map((c) => ({
    id: c.id,
    signer: c.signer,
    method: c.method,
    url: c.url,
    params: c.params ?? null,
    headers: c.headers ?? null,
    body_b64: c.body ? c.body.toString("base64") : null,
    json: c.json ?? null,
    access_key: c.keys.accessKeyId,
    secret_key: c.keys.secretAccessKey,
    token: c.keys.sessionToken ?? null,
    timestamp: amzDate(c.signedAt),
    region: c.region ?? "us-east-1",
    service: c.service ?? "execute-api",
  }));
  const stdout = execFileSync(join(ROOT, ".venv", "bin", "python"), [join(__dirname, "sign-requests.py")], {
    input: JSON.stringify(input),
    env: {
      PATH: process.env.PATH ?? "",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      PYTHONWARNINGS: "ignore",
    },
    maxBuffer: 64 * 1024 * 1024,
  }).toString("utf8");
  const results = JSON.parse(stdout) as PythonResult[];
  const signed = new Map<string, SignedRequest>();
  for (const r of results) {
    if (r.error !== undefined) throw new Error(`signing ${r.id} failed:\n${r.error}`);
    signed.set(r.id, {
      method: r.method as string,
      ...splitTarget(r.url as string),
      rawHeaders: (r.headers as [string, string][]).flat(),
      body: r.body_b64 ? Buffer.from(r.body_b64, "base64") : Buffer.alloc(0),
    });
  }
  return signed;
}
