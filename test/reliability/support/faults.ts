import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { ChildProcess, spawn } from "child_process";
import { generateKeyPairSync, sign } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { ClientRequest, request } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { REFUSALS } from "../../../guard/answers";
import { ANSWERS } from "../../../gateway/api-responses";
import { claimPort } from "../../../local/processes";
import { DRAIN_GRACE_MS } from "../../../common/http-server";
import type { StackSummary } from "../../../local/stack";
import { REPO_ROOT } from "../../../project/paths";
import {
  CallerSpec,
  figuresOf,
  LoadFigures,
  runLoad,
  Sample,
  seed,
  send,
  verifyWrites,
  WriteVerification,
} from "./load";
import { ReliabilityStack } from "./stack";

// The fault runs, shared by test/reliability/*.test.ts (short) and `npm run soak` (the same, reported).

// ---- MLflow or the guard killed under load

/**
 * The clear 502s: the guard's when MLflow behind it does not answer (refused, reset before an answer),
 * the gateway's when an answer is cut off mid-body or the guard itself is down.
 */
const CLEAR_502 = new Set<string>([
  `mlflow-gate: ${REFUSALS["upstream-unreachable"]!.message}`,
  ANSWERS.mlflowDown.message,
  ANSWERS.badResponse.message,
]);

export interface CrashFigures {
  readonly load: LoadFigures;
  readonly writes: WriteVerification;
  /** 502 answers, and how many of them carried one of the gateway's two 502 messages. */
  readonly badGateway: number;
  readonly badGatewayWithMessage: number;
  /** Any other 5xx (500, 503, 504): must be none. */
  readonly otherServerErrors: number;
  /** Connection errors (0) and requests without an answer within the client's timeout (-1). */
  readonly connectionErrors: number;
  readonly hangs: number;
  /** From the kill to the first 2xx of a request sent after it. */
  readonly recoveryMs: number | undefined;
  /** The supervisor's lines after the kill. */
  readonly restartLog: readonly string[];
  /** The slowest 502: it comes at once, not after a timeout. */
  readonly slowest502Ms: number;
  /** The slowest answer of any kind to a request sent during the outage (those queued while MLflow started count too). */
  readonly slowestOutageAnswerMs: number;
}

/** The supervised children a crash run can kill. */
export type CrashVictim = "mlflow" | "guard";

/**
 * Load from every caller; after `killAfterMs`, the victim's whole process group (MLflow's, or the guard's)
 * gets SIGKILL (a crash, no goodbye). The stack's supervisor restarts it on the same port; the load runs on
 * until `afterRecoveryMs` after the first success past the kill (or `maxMs`).
 */
export async function crashUnderLoad(
  rel: ReliabilityStack,
  victim: CrashVictim,
  options: {
    killAfterMs: number;
    afterRecoveryMs: number;
    maxMs: number;
    loopsPerCaller?: number;
    callers?: CallerSpec[];
  },
): Promise<CrashFigures> {
  const { gatewayUrl, mlflowPrivateUrl, region } = rel.stack.summary;
  const callers = options.callers ?? (await rel.callers());
  const seeded = await seed(mlflowPrivateUrl, `crash-${victim}`);
  const stopLoad = new AbortController();
  let killedAt = Number.POSITIVE_INFINITY;
  let recoveredAt: number | undefined;
  const progressBefore = rel.progress.length;
  const onSample = (s: Sample) => {
    if (recoveredAt === undefined && s.status >= 200 && s.status < 300 && s.startedAt > killedAt) {
      recoveredAt = s.endedAt;
      setTimeout(() => stopLoad.abort(), options.afterRecoveryMs);
    }
  };
  const killer = setTimeout(() => {
    const pid = rel.stack[victim].pid;
    if (pid === undefined) throw new Error(`no ${victim} process to kill`);
    killedAt = Date.now();
    process.kill(-pid, "SIGKILL");
  }, options.killAfterMs);
  const run = await runLoad(
    {
      gatewayUrl,
      privateUrl: mlflowPrivateUrl,
      region,
      callers,
      durationMs: options.maxMs,
      loopsPerCaller: options.loopsPerCaller ?? 1,
      signal: stopLoad.signal,
      onSample,
    },
    seeded,
  );
  clearTimeout(killer);
  const outage = run.samples.filter(
    (s) => s.startedAt >= killedAt && (recoveredAt === undefined || s.startedAt <= recoveredAt),
  );
  const badGateway = run.samples.filter((s) => s.status === 502);
  return {
    load: figuresOf(run),
    writes: await verifyWrites(mlflowPrivateUrl, run),
    badGateway: badGateway.length,
    badGatewayWithMessage: badGateway.filter(
      (s) => s.error !== undefined && CLEAR_502.has((JSON.parse(s.error) as { message?: string }).message ?? ""),
    ).length,
    otherServerErrors: run.samples.filter((s) => s.status >= 500 && s.status !== 502).length,
    connectionErrors: run.samples.filter((s) => s.status === 0).length,
    hangs: run.samples.filter((s) => s.status === -1).length,
    recoveryMs: recoveredAt === undefined ? undefined : recoveredAt - killedAt,
    restartLog: rel.progress.slice(progressBefore).filter((l) => l.startsWith(victim)),
    slowest502Ms: Math.max(0, ...badGateway.map((s) => s.endedAt - s.startedAt)),
    slowestOutageAnswerMs: Math.max(0, ...outage.map((s) => s.endedAt - s.startedAt)),
  };
}

// ---- The user pool (and its JWKS) down

/** A token shaped like the pool's access tokens, signed with a key the pool never had. */
export function forgeAccessToken(claims: { issuer: string; clientId: string; kid: string }): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: "RS256", kid: claims.kid, typ: "JWT" });
  const payload = b64({
    sub: "forged",
    iss: claims.issuer,
    client_id: claims.clientId,
    token_use: "access",
    username: "forged",
    "cognito:groups": ["admins"],
    iat: now,
    exp: now + 600,
  });
  return `${header}.${payload}.${sign("sha256", Buffer.from(`${header}.${payload}`), privateKey).toString("base64url")}`;
}

export interface PoolOutageFigures {
  /** Statuses of requests with tokens whose key the gateway fetched before the outage. */
  readonly cachedKeyStatuses: Record<string, number>;
  /** Statuses of requests with a token the gateway never saw, signed with the pool's (cached) key. */
  readonly unseenTokenStatuses: Record<string, number>;
  /** Statuses of forged tokens: an unknown `kid` (forces a JWKS fetch that fails), and the known `kid` with another key. */
  readonly unknownKidStatuses: Record<string, number>;
  readonly wrongKeyStatuses: Record<string, number>;
  readonly slowestMs: number;
  /** What the UI's login call got from the login endpoint. */
  readonly login: { readonly status: number; readonly body: string; readonly ms: number };
}

const tally = (statuses: number[]) =>
  statuses.reduce<Record<string, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

/**
 * Stops the user pool (cognito-local, which serves the JWKS) for good, then calls the gateway with
 * tokens issued before: their key is in the verifier's JWKS cache. For an honest cache test the stack
 * should run with the authorizer cache off (TTL 0), so every request verifies its token again.
 */
export async function userPoolOutage(rel: ReliabilityStack, requestsPerKind = 20): Promise<PoolOutageFigures> {
  const { gatewayUrl, cognito } = rel.stack.summary;
  const origin = new URL(gatewayUrl);
  const users = rel.stack.summary.demoUsers;
  const used = await Promise.all(users.map((u) => rel.stack.userPool.login(u.username, u.password)));
  const unseen = await Promise.all(users.map((u) => rel.stack.userPool.login(u.username, u.password)));
  const path = "/ajax-api/2.0/mlflow/experiments/search?max_results=1";
  const call = async (token: string) => {
    const t0 = Date.now();
    const a = await send(undefined, origin, "GET", path, { authorization: `Bearer ${token}` }, "", 30_000);
    return { status: a.status, ms: Date.now() - t0 };
  };
  // Warm the JWKS cache with the first tokens, while the pool is up.
  for (const t of used) {
    const r = await call(t.accessToken);
    if (r.status !== 200) throw new Error(`warm-up call answered ${r.status}`);
  }
  const kid = (JSON.parse(Buffer.from(used[0]!.accessToken.split(".")[0]!, "base64url").toString()) as { kid: string })
    .kid;
  const uiConfig = (await (await fetch(`${gatewayUrl}/mlflow-gate-ui.json`)).json()) as { userPoolEndpoint: string };

  await rel.stack.userPool.stop();

  const results = {
    cached: [] as number[],
    unseen: [] as number[],
    unknownKid: [] as number[],
    wrongKey: [] as number[],
  };
  let slowestMs = 0;
  const record = async (into: number[], token: string) => {
    const r = await call(token);
    into.push(r.status);
    slowestMs = Math.max(slowestMs, r.ms);
  };
  await Promise.all(
    Array.from({ length: requestsPerKind }, async (_, i) => {
      await record(results.cached, used[i % used.length]!.accessToken);
      await record(results.unseen, unseen[i % unseen.length]!.accessToken);
      await record(
        results.unknownKid,
        forgeAccessToken({ issuer: cognito.issuer, clientId: cognito.clientId, kid: `unknown-${i}` }),
      );
      await record(results.wrongKey, forgeAccessToken({ issuer: cognito.issuer, clientId: cognito.clientId, kid }));
    }),
  );

  const t0 = Date.now();
  const login = await send(
    undefined,
    new URL(uiConfig.userPoolEndpoint),
    "POST",
    "/",
    {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
      origin: gatewayUrl,
    },
    JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: cognito.clientId,
      AuthParameters: { USERNAME: users[0]!.username, PASSWORD: users[0]!.password },
    }),
    30_000,
  );
  return {
    cachedKeyStatuses: tally(results.cached),
    unseenTokenStatuses: tally(results.unseen),
    unknownKidStatuses: tally(results.unknownKid),
    wrongKeyStatuses: tally(results.wrongKey),
    slowestMs,
    login: { status: login.status, body: login.body, ms: Date.now() - t0 },
  };
}

// ---- SIGTERM to `npm start` under load

export interface DrainFigures {
  /** Requests whose headers the gateway had, and whose bodies were still coming, when SIGTERM arrived. */
  readonly inFlight: number;
  /** Of those, answered 200 by MLflow through the gateway after the signal. */
  readonly inFlightCompleted: number;
  readonly inFlightStatuses: readonly number[];
  /** A new connection after the signal was refused (the gateway stopped accepting). */
  readonly refusedNewConnections: boolean;
  /** Background load answers: 5xx must be none; requests sent after the close get connection errors. */
  readonly load: LoadFigures;
  readonly exitCode: number | null;
  /** From SIGTERM to the process's exit. */
  readonly drainMs: number;
  readonly stderrTail: string;
}

interface NpmStart {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** `node scripts/start.js`, as a user runs `npm start`, in its own data directory on free ports. */
async function startNpmStart(dataDir: string): Promise<NpmStart> {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MLFLOW_GATE_DATA: dataDir,
    MLFLOW_GATE_PORT: String(await claimPort("127.0.0.1", 0, "")),
    MLFLOW_GATE_USER_POOL_PORT: String(await claimPort("127.0.0.1", 0, "")),
    MLFLOW_GATE_STS_PORT: String(await claimPort("127.0.0.1", 0, "")),
  };
  const child = spawn(process.execPath, [join(REPO_ROOT, "scripts", "start.js")], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const began = Date.now();
  while (!/ready in [\d.]+ s/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${stderr}`);
    if (Date.now() - began > 180_000) {
      child.kill("SIGKILL");
      throw new Error(`npm start not ready after 180 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, stderr: () => stderr, exited };
}

/** Sends the headers and the first bytes of a SigV4-signed log-metric; `finish()` sends the rest and waits for the answer. */
async function openSlowWrite(
  origin: URL,
  region: string,
  caller: CallerSpec & { kind: "sigv4" },
  runId: string,
  key: string,
): Promise<{ finish(): Promise<{ status: number; body: string }> }> {
  const body = JSON.stringify({ run_id: runId, key, value: 1, timestamp: Date.now(), step: 0 });
  const path = "/api/2.0/mlflow/runs/log-metric";
  const signer = new SignatureV4({ service: "execute-api", region, credentials: caller.keys, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: origin.hostname,
      port: Number(origin.port),
      path,
      headers: { host: origin.host, "content-type": "application/json" },
      body,
    }),
  );
  let req: ClientRequest | undefined;
  const answer = new Promise<{ status: number; body: string }>((resolve) => {
    req = request(
      {
        host: origin.hostname,
        port: origin.port,
        method: "POST",
        path,
        headers: { ...signed.headers, "content-length": String(Buffer.byteLength(body)) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", (e) => resolve({ status: 0, body: e.message }));
      },
    );
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    req.flushHeaders();
    req.write(body.slice(0, 10));
  });
  return {
    finish: () => {
      req!.end(body.slice(10));
      return answer;
    },
  };
}

/**
 * Starts `npm start` for real, loads it from every principal, opens requests that are mid-body at the
 * gateway, sends SIGTERM, checks that new connections are refused, then lets the open requests finish:
 * each must be answered 200 (the gateway drains before MLflow stops), and the process must exit 0.
 */
export async function sigtermUnderLoad(options: { loadBeforeMs: number; inFlight: number }): Promise<DrainFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-drain-"));
  let started: NpmStart | undefined;
  try {
    started = await startNpmStart(dataDir);
    const summary = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as StackSummary;
    const principals = (
      JSON.parse(readFileSync(join(dataDir, "principals.json"), "utf8")) as {
        principals: { name: string; group: string; accessKeyId: string; secretAccessKey: string }[];
      }
    ).principals;
    const callers: (CallerSpec & { kind: "sigv4" })[] = principals.map((p) => ({
      kind: "sigv4",
      name: p.name,
      group: p.group,
      keys: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey },
    }));
    const origin = new URL(summary.gatewayUrl);
    const seeded = await seed(summary.mlflowPrivateUrl, "drain");
    const admin = callers.find((c) => c.group === "admins")!;

    // Background load until a little after the signal; it stops by itself.
    const load = runLoad(
      {
        gatewayUrl: summary.gatewayUrl,
        privateUrl: summary.mlflowPrivateUrl,
        region: summary.region,
        callers,
        durationMs: options.loadBeforeMs + 3000,
        loopsPerCaller: 2,
        requestTimeoutMs: 20_000,
      },
      seeded,
    );
    await new Promise((r) => setTimeout(r, options.loadBeforeMs));
    const slow = await Promise.all(
      Array.from({ length: options.inFlight }, (_, i) =>
        openSlowWrite(origin, summary.region, admin, seeded.runIds[0]!, `drain_${i}`),
      ),
    );
    // Let the gateway read the headers of the open requests.
    await new Promise((r) => setTimeout(r, 300));

    const signalledAt = Date.now();
    started.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    const probe = await send(undefined, origin, "GET", "/mlflow-gate-ui.json", {}, "", 5000);
    const answers = await Promise.all(slow.map((s) => s.finish()));
    let giveUp: NodeJS.Timeout | undefined;
    const exitCode = await Promise.race([
      started.exited,
      new Promise<null>((r) => (giveUp = setTimeout(() => r(null), DRAIN_GRACE_MS + 30_000))),
    ]);
    clearTimeout(giveUp);
    const drainMs = Date.now() - signalledAt;
    const run = await load;
    return {
      inFlight: slow.length,
      inFlightCompleted: answers.filter((a) => a.status === 200).length,
      inFlightStatuses: answers.map((a) => a.status),
      refusedNewConnections: probe.status === 0 && /ECONNREFUSED/.test(probe.body),
      load: figuresOf(run),
      exitCode,
      drainMs,
      stderrTail: started.stderr().split("\n").slice(-6).join("\n"),
    };
  } finally {
    if (started && started.child.exitCode === null) started.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}
