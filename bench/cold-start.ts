// The Lambda authorizer's bundle and cold start: the minified size, and the time from spawning a fresh Node
// process to its first decision, minus the time a bare Node process takes to start and exit. The JWKS is
// served from loopback, so the first decision includes the JWKS fetch, as a real cold start does.
import { spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { buildAuthorizer } from "../authorizer/build";
import {
  accessToken,
  CLIENT_ID,
  createSigningKey,
  jwksOf,
  METHOD_ARN_PREFIX,
  requestEvent,
} from "../test/authorizer/support/tokens";
import { median } from "./lib/stats";

export interface ColdStartOptions {
  /** Pairs of (bare Node, authorizer) processes, run alternately. */
  readonly runs: number;
}

export interface ColdStartResults {
  readonly bundle: { readonly minifiedBytes: number; readonly gzipBytes: number; readonly policyBundleBytes: number };
  readonly runs: number;
  /** Median ms from spawn to exit of `node -e 0`. */
  readonly bareNodeMs: number;
  /** Median ms from spawn to exit of a process that loads the bundle and makes one decision. */
  readonly authorizerProcessMs: number;
  /** authorizerProcessMs − bareNodeMs, run by run, median. */
  readonly coldStartMs: number;
  /** Inside the process (median): loading the bundle (code, config, policy bundle), then the first decision (JWKS fetch, verify, policy). */
  readonly loadMs: number;
  readonly firstDecisionMs: number;
}

/** Spawns node with `args`; resolves with ms from spawn to exit and what it wrote to stderr; rejects on a non-zero exit. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // stdout (the handler's decision log) is discarded by the OS, not read here.
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`cold-start process exited ${code}: ${stderr.slice(0, 500)}`));
      else resolve({ ms, stderr });
    });
  });
}

function reportOf(stderr: string): { loadMs: number; firstDecisionMs: number } {
  const line = stderr.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`cold-start probe reported nothing: ${stderr.slice(0, 500)}`);
  const report = JSON.parse(line.slice(6)) as { allowed: boolean; loadMs: number; firstDecisionMs: number };
  if (!report.allowed) throw new Error("the cold-start probe's token was not allowed");
  return report;
}

// Runs in the fresh process: performance.now() counts from that process's start.
const PROBE = `
const t0 = performance.now();
const { handler } = require(process.env.BENCH_HANDLER);
const t1 = performance.now();
handler(JSON.parse(process.env.BENCH_EVENT)).then((r) => {
  const t2 = performance.now();
  const allowed = r.policyDocument.Statement.some((s) => s.Effect === "Allow");
  process.stderr.write("BENCH " + JSON.stringify({ allowed, loadMs: t1 - t0, firstDecisionMs: t2 - t1 }) + "\\n");
  process.exit(0);
}, (e) => { process.stderr.write("BENCH-ERROR " + e.message + "\\n"); process.exit(1); });
`;

export async function benchColdStart(o: ColdStartOptions, progress: (line: string) => void): Promise<ColdStartResults> {
  const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-cold-"));
  let jwksServer: Server | undefined;
  try {
    const build = await buildAuthorizer(dir);
    const key = createSigningKey();
    const jwks = JSON.stringify(jwksOf(key));
    jwksServer = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(jwks));
    await new Promise<void>((r) => jwksServer!.listen(0, "127.0.0.1", () => r()));
    const issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/local_bench`;
    const token = accessToken(key, { iss: issuer, "cognito:groups": ["readers"] });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      MLFLOW_GATE_MODE: "local",
      COGNITO_ISSUER: issuer,
      COGNITO_CLIENT_ID: CLIENT_ID,
      BENCH_HANDLER: build.handlerFile,
      BENCH_EVENT: JSON.stringify(
        requestEvent({
          authorization: `Bearer ${token}`,
          methodArn: `${METHOD_ARN_PREFIX}GET/ajax-api/2.0/mlflow/experiments/get`,
        }),
      ),
    };
    const bare: number[] = [];
    const full: number[] = [];
    const load: number[] = [];
    const first: number[] = [];
    // One of each first, unmeasured: the file system cache then holds node and the bundle for both.
    await timeProcess(["-e", "0"], env);
    await timeProcess(["-e", PROBE], env);
    for (let r = 0; r < o.runs; r++) {
      bare.push((await timeProcess(["-e", "0"], env)).ms);
      const probe = await timeProcess(["-e", PROBE], env);
      full.push(probe.ms);
      const report = reportOf(probe.stderr);
      load.push(report.loadMs);
      first.push(report.firstDecisionMs);
    }
    progress(`cold start    bundle ${(build.handlerBytes / 1024).toFixed(1)} KiB, ${o.runs} process pairs`);
    return {
      bundle: {
        minifiedBytes: build.handlerBytes,
        gzipBytes: build.handlerGzipBytes,
        policyBundleBytes: build.policyBundleBytes,
      },
      runs: o.runs,
      bareNodeMs: median(bare),
      authorizerProcessMs: median(full),
      coldStartMs: median(full.map((f, i) => f - (bare[i] as number))),
      loadMs: median(load),
      firstDecisionMs: median(first),
    };
  } finally {
    if (jwksServer) await new Promise((r) => jwksServer!.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}
