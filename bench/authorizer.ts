// Warm authorizer throughput and latency against the floor of one RS256 verification (node:crypto).
// No network: RSA keys are generated here and the JWKS is seeded. Runs for about 10 s.
import { Logger } from "@aws-lambda-powertools/logger";
import { verify as cryptoVerify } from "crypto";
import { mkdirSync, writeFileSync } from "fs";
import { arch, cpus, platform } from "os";
import { join } from "path";
import { createAuthorizer } from "../authorizer/authorize";
import { loadPolicySet } from "../authorizer/load-policies";
import { createTokenVerifier } from "../authorizer/token";
import { accessToken, CLIENT_ID, createSigningKey, ISSUER, JWKS_URI, jwksOf, METHOD_ARN_PREFIX, requestEvent, seededJwksCache } from "../test/authorizer/support/tokens";

const ROOT = join(__dirname, "..");
const WARMUP_MS = 1000;
const AUTHORIZER_MS = 4000;
const VERIFIER_MS = 2000;
const RAW_MS = 3000;

interface Figures {
  readonly perSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly samples: number;
}

function figuresOf(samplesNs: bigint[], elapsedNs: bigint): Figures {
  const sorted = samplesNs.map(Number).sort((a, b) => a - b);
  const pct = (p: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) / 100) / 10;
  return { perSecond: Math.round(samplesNs.length / (Number(elapsedNs) / 1e9)), p50Micros: pct(0.5), p99Micros: pct(0.99), samples: samplesNs.length };
}

/** Calls `op` back to back for `ms`, timing each call. */
async function measure(ms: number, op: (i: number) => unknown): Promise<Figures> {
  const samples: bigint[] = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let t = start;
  for (let i = 0; t < end; i++) {
    const t0 = process.hrtime.bigint();
    await op(i);
    t = process.hrtime.bigint();
    samples.push(t - t0);
  }
  return figuresOf(samples, t - start);
}

async function main(): Promise<void> {
  const key = createSigningKey();
  const token = accessToken(key, { "cognito:groups": ["readers"] });
  const policySet = loadPolicySet(join(ROOT, "policies", "mlflow-routes.json"), join(ROOT, "policies", "groups"));
  const config = { issuer: ISSUER, jwksUri: JWKS_URI, clientIds: [CLIENT_ID] };
  const verifier = createTokenVerifier(config, { jwksCache: seededJwksCache(jwksOf(key)).jwksCache });
  const logger = new Logger({ serviceName: "mlflow-gate-authorizer" });
  const authorize = createAuthorizer({ config: { maxTokenBytes: 8192 }, policySet, verifier, logger });
  const paths = ["GET/ajax-api/2.0/mlflow/experiments/get", "POST/ajax-api/2.0/mlflow/runs/search", "GET/ajax-api/2.0/mlflow-artifacts/artifacts/run"];
  const event = (i: number) => requestEvent({ authorization: `Bearer ${token}`, methodArn: `${METHOD_ARN_PREFIX}${paths[i % 3]}/${i}` });

  // Powertools still builds and serialises every line; only the write to the terminal is dropped.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let authorizer: Figures;
  let verifierOnly: Figures;
  try {
    const first = await authorize(event(0));
    if (!first.policyDocument.Statement.some((s) => s.Effect === "Allow")) throw new Error("benchmark token was not allowed");
    await measure(WARMUP_MS, (i) => authorize(event(i)));
    authorizer = await measure(AUTHORIZER_MS, (i) => authorize(event(i)));
    verifierOnly = await measure(VERIFIER_MS, () => verifier.verify(token));
  } finally {
    process.stdout.write = write;
  }

  const [header, payload, signature] = token.split(".") as [string, string, string];
  const signingInput = Buffer.from(`${header}.${payload}`);
  const signatureBytes = Buffer.from(signature, "base64url");
  const raw = await measure(RAW_MS, () => {
    if (!cryptoVerify("RSA-SHA256", signingInput, key.publicKey, signatureBytes)) throw new Error("raw verify failed");
  });

  const ratio = Math.round((authorizer.perSecond / raw.perSecond) * 100) / 100;
  const row = (name: string, f: Figures) => `${name.padEnd(34)}${String(f.perSecond).padStart(10)}${String(f.p50Micros).padStart(10)}${String(f.p99Micros).padStart(10)}`;
  console.log(`${"".padEnd(34)}${"ops/s".padStart(10)}${"p50 µs".padStart(10)}${"p99 µs".padStart(10)}`);
  console.log(row("authorizer decision (readers)", authorizer));
  console.log(row("aws-jwt-verify verify only", verifierOnly));
  console.log(row("node:crypto RS256 verify (floor)", raw));
  console.log(`authorizer / raw verify: ${ratio} (target >= 0.5: ${ratio >= 0.5 ? "met" : "NOT met"}); token ${token.length} bytes, RSA 2048`);

  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, platform: `${platform()}-${arch()}` },
    token: { bytes: token.length, alg: "RS256", modulusBits: 2048 },
    authorizer,
    verifierOnly,
    rawVerify: raw,
    ratioAuthorizerToRawVerify: ratio,
  };
  const dir = join(__dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "authorizer.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${join(dir, "authorizer.json")}`);
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
