// The cost per request of the chain the stack runs, gateway → guard → MLflow, and of each of its parts. One
// request mix (get an experiment, search runs, log a metric, read a small artifact) is sent at each
// concurrency to: MLflow directly; the chain with SigV4 (SDK routes) and with a Cognito access token (UI
// routes); the guard alone, with the identity headers API Gateway maps; the gateway and the guard each in
// front of a trivial upstream (their own cost without MLflow's); and MLflow's built-in basic-auth app (the
// peer). The guard is its own process, started as the stack starts it. Targets take turns in short slices,
// so every ratio compares stretches of time next to each other. Everything runs on loopback ports in a
// temporary directory, removed at the end.
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { decomposeUnverifiedJwt } from "aws-jwt-verify/jwt";
import { randomUUID } from "crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "fs";
import { Server } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { loadPolicySet } from "../authorizer/load-policies";
import { PolicySet } from "../authorizer/core/policy-set";
import { ApiModel, compileApiModel } from "../gateway/api-model";
import { mappedHeaders, newExtendedRequestId, RequestContext } from "../gateway/integration-request";
import { startGuard } from "../local/guard-process";
import { startMlflow } from "../local/mlflow-server";
import { loadPrincipals, Principal } from "../local/principals";
import { AccessLogEntry } from "../gateway/answer";
import { closeServer } from "../common/http-server";
import { renderLocalApiDefinition } from "../gateway/local-api";
import { createLocalGateway } from "../local/stack";
import { RunningUserPool, startUserPool } from "../local/user-pool";
import { CATALOG_FILE, GROUPS_DIR } from "../project/paths";
import { LoadTarget, LoadWorker, TargetFigures, WireRequest } from "./lib/load";
import {
  basicAuthHeader,
  BasicAuthMlflow,
  ensurePeerDependencies,
  RunningServer,
  startBasicAuthMlflow,
  startTrivialUpstream,
} from "./lib/servers";
import { pairedDifference, pairedRatio, summarize, Summary } from "./lib/stats";

export interface GatewayOptions {
  readonly concurrencies: readonly number[];
  readonly warmupMs: number;
  readonly rounds: number;
  readonly sliceMs: number;
  /** Distinct log-metric writes prepared per MLflow target and step (warm-up or round): MLflow treats a repeated write differently. */
  readonly writesPerTarget: number;
  /** Also measure basic-auth with MLflow's optional credential cache (auth_cache_ttl_seconds = 60). */
  readonly basicAuthCredentialCache: boolean;
}

/** The targets, by name; `form` says which mount and artifact route its mix uses. */
export const TARGETS = {
  direct: { via: "MLflow directly, /ajax-api and /get-artifact (the UI's routes), no auth", form: "ui" },
  directSdk: { via: "MLflow directly, /api and /api/2.0/mlflow-artifacts (the SDK's routes), no auth", form: "sdk" },
  sigv4: { via: "gateway → guard → MLflow, /api, SigV4 as mlflow-admin (admins)", form: "sdk" },
  bearer: {
    via: "gateway → guard → MLflow, /ajax-api, Cognito access token of admin (admins), authorizer cache 300 s",
    form: "ui",
  },
  guard: {
    via: "guard → MLflow, /ajax-api and /get-artifact, the identity headers API Gateway maps for admin (admins)",
    form: "ui",
  },
  basicAuth: {
    via: "MLflow --app-name basic-auth, /ajax-api, basic-auth user (not admin) owning the experiment",
    form: "ui",
  },
  basicAuthCached: {
    via: "as basicAuth, with auth_cache_ttl_seconds = 60 (MLflow's opt-in credential cache)",
    form: "ui",
  },
  trivialDirect: { via: "trivial Node upstream directly", form: "ui" },
  trivialSigv4: { via: "gateway → trivial upstream (no guard), /api, SigV4", form: "sdk" },
  trivialBearer: { via: "gateway → trivial upstream (no guard), /ajax-api, Cognito access token", form: "ui" },
  trivialGuard: { via: "guard → trivial upstream, /ajax-api, the identity headers API Gateway maps", form: "ui" },
} as const;
export type TargetName = keyof typeof TARGETS;

/** Milliseconds. Medians over rounds; `failures` counts non-2xx answers over warm-up and rounds. */
export interface CellFigures extends Summary {
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
  readonly wrapped: boolean;
}

export interface Comparison {
  /** a's throughput over b's, round by round, median. */
  readonly throughputRatio: number;
  /** a's p50 minus b's, round by round, median (ms). */
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
}

export interface GatewayResults {
  readonly mix: readonly string[];
  readonly load: Omit<GatewayOptions, "basicAuthCredentialCache"> & {
    readonly keepAlive: true;
    readonly clientInWorkerThread: true;
  };
  readonly startupMs: number;
  readonly targets: Partial<
    Record<TargetName, { readonly via: string; readonly byConcurrency: Record<string, CellFigures> }>
  >;
  /** By concurrency: comparison name → figures. */
  readonly comparisons: Record<string, Record<string, Comparison>>;
  /** Lines each guard appended to its audit file over the whole run (one per write it forwarded or request it refused). */
  readonly auditLines: { readonly guard: number; readonly trivialGuard: number };
  /** Empty when every request of every measured target got a 2xx, no write repeated and every measured write was audited. */
  readonly problems: readonly string[];
}

/** What each comparison sets against what. "chain" is gateway → guard → MLflow, as the stack runs it. */
export const COMPARISONS = {
  "chain SigV4 / direct": ["sigv4", "directSdk"],
  "chain bearer / direct": ["bearer", "direct"],
  "guard / direct": ["guard", "direct"],
  "gateway SigV4 / direct (trivial upstream)": ["trivialSigv4", "trivialDirect"],
  "gateway bearer / direct (trivial upstream)": ["trivialBearer", "trivialDirect"],
  "guard / direct (trivial upstream)": ["trivialGuard", "trivialDirect"],
  "chain SigV4 / basic-auth": ["sigv4", "basicAuth"],
  "chain bearer / basic-auth": ["bearer", "basicAuth"],
  "chain SigV4 / basic-auth with credential cache": ["sigv4", "basicAuthCached"],
  "chain bearer / basic-auth with credential cache": ["bearer", "basicAuthCached"],
  "basic-auth / direct": ["basicAuth", "direct"],
} as const satisfies Record<string, readonly [TargetName, TargetName]>;
export type ComparisonName = keyof typeof COMPARISONS;

/** The targets whose writes reach the guard in front of MLflow, which audits each of them. */
const AUDITED_TARGETS: readonly TargetName[] = ["sigv4", "bearer", "guard"];

export const MIX = [
  "GET experiments/get",
  "POST runs/search",
  "POST runs/log-metric",
  "GET artifact (small file)",
] as const;

export interface Seeded {
  readonly experimentId: string;
  readonly runId: string;
  /** `<experiment>/<run>/artifacts`: where mlflow-artifacts keeps the run's files. */
  readonly artifactRoot: string;
}

const ARTIFACT = "small.json";
const ARTIFACT_BODY = JSON.stringify({ accuracy: 0.93, f1: 0.91, note: "a small artifact the mix reads back" });

export async function call(
  origin: string,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
): Promise<any> {
  const r = await fetch(`${origin}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  if (!r.ok) throw new Error(`seeding ${method} ${path}: ${r.status} ${(await r.text()).slice(0, 300)}`);
  const text = await r.text();
  return text === "" ? {} : JSON.parse(text);
}

/** An experiment, a run with params and metrics, a small artifact; written straight to MLflow. */
export async function seed(origin: string, headers: Record<string, string> = {}): Promise<Seeded> {
  const api = (path: string, body: object) =>
    call(origin, "POST", `/api/2.0/mlflow/${path}`, JSON.stringify(body), headers);
  const { experiment_id: experimentId } = await api("experiments/create", { name: "bench-gateway" });
  const { run } = await api("runs/create", { experiment_id: experimentId, run_name: "bench", start_time: Date.now() });
  const runId: string = run.info.run_id;
  const t0 = Date.now();
  await api("runs/log-batch", {
    run_id: runId,
    params: [
      ["lr", "0.01"],
      ["batch_size", "64"],
      ["optimizer", "adam"],
    ].map(([key, value]) => ({ key, value })),
    metrics: Array.from({ length: 20 }, (_, step) => ({
      key: "loss",
      value: 1 / (step + 1),
      timestamp: t0 + step,
      step,
    })),
  });
  const artifactRoot = String(run.info.artifact_uri).replace(/^mlflow-artifacts:\//, "");
  await call(origin, "PUT", `/api/2.0/mlflow-artifacts/artifacts/${artifactRoot}/${ARTIFACT}`, ARTIFACT_BODY, headers);
  return { experimentId, runId, artifactRoot };
}

export type PlainRequest = { method: "GET" | "POST"; path: string; body: string };

/** `writes` cycles of the mix in one form; each log-metric is a new step of `metricKey`, so none repeats. */
export function buildSequence(d: Seeded, form: "ui" | "sdk", metricKey: string, writes: number): PlainRequest[] {
  const prefix = form === "ui" ? "/ajax-api/2.0/mlflow" : "/api/2.0/mlflow";
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  const artifact =
    form === "ui"
      ? { method: "GET" as const, path: `/get-artifact${q({ path: ARTIFACT, run_uuid: d.runId })}`, body: "" }
      : { method: "GET" as const, path: `/api/2.0/mlflow-artifacts/artifacts/${d.artifactRoot}/${ARTIFACT}`, body: "" };
  const t0 = Date.now();
  return Array.from({ length: writes }, (_, w) => [
    { method: "GET" as const, path: `${prefix}/experiments/get${q({ experiment_id: d.experimentId })}`, body: "" },
    {
      method: "POST" as const,
      path: `${prefix}/runs/search`,
      body: JSON.stringify({ experiment_ids: [d.experimentId], max_results: 100 }),
    },
    {
      method: "POST" as const,
      path: `${prefix}/runs/log-metric`,
      body: JSON.stringify({ run_id: d.runId, key: metricKey, value: w, timestamp: t0 + w, step: w }),
    },
    artifact,
  ]).flat();
}

/** One cycle of the mix as a browser user sends it (the bearer target's form): method and path, query left off. */
export function uiMixCycle(): { readonly method: string; readonly path: string }[] {
  const d: Seeded = { experimentId: "0", runId: "0", artifactRoot: "0" };
  return buildSequence(d, "ui", "m", 1).map((r) => ({ method: r.method, path: r.path.split("?")[0] as string }));
}

const withBodyHeaders = (headers: Record<string, string>, body: string): Record<string, string> =>
  body === ""
    ? headers
    : { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };

export function plain(requests: PlainRequest[], headers: Record<string, string>): WireRequest[] {
  return requests.map((r) => ({ ...r, headers: withBodyHeaders(headers, r.body) }));
}

/** The Cognito caller as the authorizer names it to API Gateway: the token's sub, its username, its known groups. */
function authorizerContextOf(accessToken: string, policySet: PolicySet): NonNullable<RequestContext["authorizer"]> {
  const { payload } = decomposeUnverifiedJwt(accessToken);
  const claimed = payload["cognito:groups"];
  return {
    principalId: String(payload.sub),
    username: String(payload.username),
    groups: policySet.knownGroups(Array.isArray(claimed) ? claimed.map(String) : []).join(","),
  };
}

let api: ApiModel | undefined;
/** The API definition's methods, read once: their mappings are what the guard receives. */
export function mappingApi(): ApiModel {
  if (api) return api;
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  api = compileApiModel(
    renderLocalApiDefinition(policySet.catalog.routes, {
      upstream: new URL("http://127.0.0.1"),
      uiConfigJson: "{}",
      integrationTimeoutMs: 29_000,
      authorizerTtlSeconds: 300,
      version: policySet.catalog.mlflowVersion,
    }),
  );
  return api;
}

/**
 * The requests as the guard receives them from API Gateway on a Cognito route: the headers of the API's
 * mappings (the identity, a fresh request id each, the authorized method and path, the bench's loopback
 * address as the source) and its '-' over the credential headers.
 */
export function asMapped(requests: PlainRequest[], authorizer: RequestContext["authorizer"]): WireRequest[] {
  return requests.map((r) => {
    const context: RequestContext = {
      requestId: randomUUID(),
      extendedRequestId: newExtendedRequestId(),
      httpMethod: r.method,
      path: r.path.split("?")[0] as string,
      identity: { sourceIp: "127.0.0.1" },
      ...(authorizer ? { authorizer } : {}),
    };
    const method = mappingApi().resolve(r.method, context.path)?.method;
    if (method?.surface !== "cognito" || method.integration.kind !== "http_proxy")
      throw new Error(`${r.method} ${context.path} is no UI method of the API`);
    const headers: Record<string, string> = Object.fromEntries(mappedHeaders(method.integration.headers, context));
    return { ...r, headers: withBodyHeaders(headers, r.body) };
  });
}

/** Signs each distinct request once (repeated reads share a signature), as a SigV4 client would sign it. */
async function presign(
  principal: Principal,
  region: string,
  gateway: URL,
  requests: PlainRequest[],
): Promise<WireRequest[]> {
  const signer = new SignatureV4({ service: "execute-api", region, credentials: principal, sha256: Sha256 });
  const signingDate = new Date();
  const signed = new Map<string, WireRequest>();
  const out: WireRequest[] = [];
  for (const r of requests) {
    const id = `${r.method} ${r.path} ${r.body}`;
    let wire = signed.get(id);
    if (!wire) {
      const [pathname, query] = r.path.split("?") as [string, string | undefined];
      const headers = withBodyHeaders({ host: gateway.host }, r.body);
      delete headers["content-length"];
      const s = await signer.sign(
        new HttpRequest({
          method: r.method,
          hostname: gateway.hostname,
          port: Number(gateway.port),
          path: pathname,
          query: Object.fromEntries(new URLSearchParams(query ?? "")),
          headers,
          body: r.body,
        }),
        { signingDate },
      );
      wire = { method: r.method, path: r.path, headers: withBodyHeaders(s.headers, r.body), body: r.body };
      signed.set(id, wire);
    }
    out.push(wire);
  }
  return out;
}

async function listen(server: Server): Promise<{ url: URL; stop: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    stop: () => closeServer(server),
  };
}

function cellOf(f: TargetFigures): CellFigures {
  return {
    ...summarize(f.rounds),
    failures: f.failures,
    ...(f.firstFailure ? { firstFailure: f.firstFailure } : {}),
    wrapped: f.wrapped,
  };
}

const WRITE_INDEX = MIX.indexOf("POST runs/log-metric");
/** Log-metric requests among the first `count` of a step's sequence (buildSequence: the mix, cycle after cycle). */
const writesAmong = (count: number): number =>
  count > WRITE_INDEX ? Math.floor((count - 1 - WRITE_INDEX) / MIX.length) + 1 : 0;

const countLines = (file: string): number => {
  try {
    return readFileSync(file, "utf8").split("\n").length - 1;
  } catch {
    return 0;
  }
};

export async function benchGateway(o: GatewayOptions, progress: (line: string) => void): Promise<GatewayResults> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-"));
  const stops: (() => Promise<void>)[] = [];
  // The access log is serialised as `npm start` does, then dropped by the OS.
  const devNull = createWriteStream("/dev/null");
  try {
    ensurePeerDependencies(progress);
    const t = Date.now();
    const policySet: PolicySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
    const groups = [...policySet.groups.keys()].sort();
    const region = "us-east-1";
    const track = <T extends { stop(): Promise<void> }>(p: Promise<T>): Promise<T> =>
      p.then((s) => (stops.push(() => s.stop()), s));
    const [userPool, mlflow, basicAuth, basicAuthCached, trivial] = await Promise.all([
      track(
        startUserPool({
          stateDir: join(dataDir, "cognito"),
          port: 0,
          region,
          groups,
          demoUsers: [{ username: "admin", group: "admins" }],
        }),
      ) as Promise<RunningUserPool>,
      track(startMlflow({ dataDir, host: "127.0.0.1", port: 0, portVariable: "none" })),
      track(
        startBasicAuthMlflow({ dataDir: join(dataDir, "basic-auth"), credentialCacheSeconds: 0 }),
      ) as Promise<BasicAuthMlflow>,
      o.basicAuthCredentialCache
        ? (track(
            startBasicAuthMlflow({ dataDir: join(dataDir, "basic-auth-cached"), credentialCacheSeconds: 60 }),
          ) as Promise<BasicAuthMlflow>)
        : Promise.resolve(undefined),
      track(startTrivialUpstream()) as Promise<RunningServer>,
    ]);
    // The guards, as the stack starts its own: separate processes, writes audited to a file (here, the run's
    // temporary directory). One in front of MLflow (the chain's and the guard target's), one in front of the
    // trivial upstream.
    const auditFiles = { guard: join(dataDir, "audit.jsonl"), trivialGuard: join(dataDir, "audit-trivial.jsonl") };
    const guardOf = (upstream: URL, auditFile: string) =>
      track(
        startGuard({
          host: "127.0.0.1",
          port: 0,
          portVariable: "none",
          upstream,
          auditFile,
          auditReads: false,
          events: () => undefined,
        }),
      );
    const [guard, trivialGuard] = await Promise.all([
      guardOf(mlflow.url, auditFiles.guard),
      guardOf(trivial.url, auditFiles.trivialGuard),
    ]);
    const principals = loadPrincipals(dataDir, new Set(groups));
    const admin = principals.find((p) => p.group === "admins");
    if (!admin) throw new Error("no principal in the admins group");
    const gatewayOf = async (upstream: URL) => {
      const g = await listen(
        createLocalGateway({
          region,
          api: renderLocalApiDefinition(policySet.catalog.routes, {
            upstream,
            uiConfigJson: JSON.stringify({
              userPoolId: userPool.userPoolId,
              userPoolClientId: userPool.clientId,
              region,
              authFlow: "USER_PASSWORD_AUTH",
            }),
            integrationTimeoutMs: 29_000,
            authorizerTtlSeconds: 300,
            version: policySet.catalog.mlflowVersion,
          }),
          policySet,
          userPool,
          principals,
          // The stack's front, as `npm start` runs it; the bench asks for no UI file.
          uiDirectory: join(dataDir, "no-ui"),
          accessLog: (e: AccessLogEntry) => void devNull.write(`${JSON.stringify(e)}\n`),
          authorizerLogger: { info: () => undefined, error: () => undefined },
        }),
      );
      stops.push(g.stop);
      return g.url;
    };
    const gateway = await gatewayOf(guard.url);
    const trivialGateway = await gatewayOf(trivial.url);
    const startupMs = Date.now() - t;
    progress(
      `gateway       MLflow, basic-auth MLflow${basicAuthCached ? " (twice)" : ""}, user pool, trivial upstream, 2 guards and 2 gateways up in ${startupMs} ms`,
    );

    const basicUser = { username: "bench-user", password: `${basicAuth.admin.password}x` };
    const [seeded, ...peers] = await Promise.all([
      seed(mlflow.url.origin),
      ...[basicAuth, basicAuthCached].map(async (peer) => {
        if (!peer) return undefined;
        // A regular user, as most callers are: it creates and so owns (MANAGE) the experiment it writes to.
        await call(peer.url.origin, "POST", "/api/2.0/mlflow/users/create", JSON.stringify(basicUser), {
          authorization: basicAuthHeader(peer.admin.username, peer.admin.password),
        });
        const headers = { authorization: basicAuthHeader(basicUser.username, basicUser.password) };
        return { origin: peer.url.origin, headers, data: await seed(peer.url.origin, headers) };
      }),
    ]);
    progress(`gateway       seeded MLflow and ${peers.filter(Boolean).length} basic-auth MLflow`);
    const { accessToken } = await userPool.login("admin", userPool.users.find((u) => u.username === "admin")!.password);
    const bearer = { authorization: `Bearer ${accessToken}` };
    const adminContext = authorizerContextOf(accessToken, policySet);

    const cells: Partial<Record<TargetName, Record<string, CellFigures>>> = {};
    const rounds: Partial<Record<TargetName, Record<string, TargetFigures>>> = {};
    /** The targets of one step (the warm-up or one round), with fresh writes and fresh SigV4 signatures. */
    const prepare = async (c: number, step: string): Promise<(LoadTarget & { name: TargetName })[]> => {
      const seq = (name: TargetName, d: Seeded, writes = o.writesPerTarget) =>
        buildSequence(d, TARGETS[name].form, `bench_${name}_c${c}_${step}`, writes);
      // Trivial targets repeat a short sequence: nothing upstream cares about repeated writes.
      const trivialWrites = 100;
      return [
        { name: "direct", origin: mlflow.url.origin, sequence: plain(seq("direct", seeded), {}), mustNotWrap: true },
        {
          name: "directSdk",
          origin: mlflow.url.origin,
          sequence: plain(seq("directSdk", seeded), {}),
          mustNotWrap: true,
        },
        {
          name: "sigv4",
          origin: gateway.origin,
          sequence: await presign(admin, region, gateway, seq("sigv4", seeded)),
          mustNotWrap: true,
        },
        { name: "bearer", origin: gateway.origin, sequence: plain(seq("bearer", seeded), bearer), mustNotWrap: true },
        {
          name: "guard",
          origin: guard.url.origin,
          sequence: asMapped(seq("guard", seeded), adminContext),
          mustNotWrap: true,
        },
        {
          name: "basicAuth",
          origin: peers[0]!.origin,
          sequence: plain(seq("basicAuth", peers[0]!.data), peers[0]!.headers),
          mustNotWrap: true,
        },
        ...(peers[1]
          ? [
              {
                name: "basicAuthCached" as const,
                origin: peers[1].origin,
                sequence: plain(seq("basicAuthCached", peers[1].data), peers[1].headers),
                mustNotWrap: true,
              },
            ]
          : []),
        {
          name: "trivialDirect",
          origin: trivial.url.origin,
          sequence: plain(seq("trivialDirect", seeded, trivialWrites), {}),
          mustNotWrap: false,
        },
        {
          name: "trivialSigv4",
          origin: trivialGateway.origin,
          sequence: await presign(admin, region, trivialGateway, seq("trivialSigv4", seeded, trivialWrites)),
          mustNotWrap: false,
        },
        {
          name: "trivialBearer",
          origin: trivialGateway.origin,
          sequence: plain(seq("trivialBearer", seeded, trivialWrites), bearer),
          mustNotWrap: false,
        },
        {
          name: "trivialGuard",
          origin: trivialGuard.url.origin,
          sequence: asMapped(seq("trivialGuard", seeded, trivialWrites), adminContext),
          mustNotWrap: false,
        },
      ];
    };
    const worker = new LoadWorker();
    try {
      for (const c of o.concurrencies) {
        const merged = new Map<
          TargetName,
          { rounds: TargetFigures["rounds"]; failures: Record<string, number>; firstFailure?: string; wrapped: boolean }
        >();
        // One plan per step: SigV4 signatures are accepted for 5 minutes around their date, and basic-auth's slow
        // answers at high concurrency can stretch a concurrency's rounds past that; so each step signs afresh.
        for (let round = -1; round < o.rounds; round++) {
          const targets = await prepare(c, round < 0 ? "warmup" : `r${round}`);
          const warmup = round < 0;
          const figures = await worker.run({
            targets,
            concurrency: c,
            warmupMs: warmup ? o.warmupMs : 0,
            rounds: warmup ? 0 : 1,
            firstRound: Math.max(round, 0),
            sliceMs: o.sliceMs,
          });
          targets.forEach((target, i) => {
            const f = figures[i]!;
            const m = merged.get(target.name) ?? { rounds: [], failures: {}, wrapped: false };
            m.rounds.push(...f.rounds);
            for (const [status, count] of Object.entries(f.failures))
              m.failures[status] = (m.failures[status] ?? 0) + count;
            m.firstFailure ??= f.firstFailure;
            m.wrapped ||= f.wrapped && target.mustNotWrap;
            merged.set(target.name, m);
          });
        }
        for (const [name, m] of merged) {
          const f: TargetFigures = {
            rounds: m.rounds,
            failures: m.failures,
            wrapped: m.wrapped,
            ...(m.firstFailure ? { firstFailure: m.firstFailure } : {}),
          };
          (cells[name] ??= {})[c] = cellOf(f);
          (rounds[name] ??= {})[c] = f;
        }
        const rate = (n: TargetName) => Math.round(cells[n]?.[c]?.perSecond ?? NaN);
        progress(
          `gateway       c=${c}: direct ${rate("direct")}/s, guard ${rate("guard")}/s, chain SigV4 ${rate("sigv4")}/s, bearer ${rate("bearer")}/s, basic-auth ${rate("basicAuth")}/s, trivial ${rate("trivialDirect")}/s → ${rate("trivialGuard")}/s through the guard, ${rate("trivialSigv4")}/s through the gateway`,
        );
      }
    } finally {
      await worker.close();
    }

    const comparisons: Record<string, Record<string, Comparison>> = {};
    for (const c of o.concurrencies) {
      comparisons[c] = {};
      for (const [name, [a, b]] of Object.entries(COMPARISONS)) {
        const ra = rounds[a]?.[c]?.rounds;
        const rb = rounds[b]?.[c]?.rounds;
        if (!ra || !rb) continue;
        comparisons[c]![name] = {
          throughputRatio: pairedRatio(ra, rb),
          addedP50Ms: pairedDifference(ra, rb, (r) => r.p50),
          addedP99Ms: pairedDifference(ra, rb, (r) => r.p99),
        };
      }
    }

    const auditLines = {
      guard: countLines(auditFiles.guard),
      trivialGuard: countLines(auditFiles.trivialGuard),
    };
    const problems: string[] = [];
    // Every write the guard forwarded is a line; the measured ones alone set a floor (warm-ups add more).
    const measuredWrites = AUDITED_TARGETS.reduce(
      (sum, name) =>
        sum +
        Object.values(rounds[name] ?? {})
          .flatMap((f) => f.rounds)
          .reduce((s, r) => s + writesAmong(r.count), 0),
      0,
    );
    if (auditLines.guard < measuredWrites)
      problems.push(
        `the guard in front of MLflow wrote ${auditLines.guard} audit lines for at least ${measuredWrites} writes measured through it`,
      );
    const targets: GatewayResults["targets"] = {};
    for (const [name, byConcurrency] of Object.entries(cells) as [TargetName, Record<string, CellFigures>][]) {
      targets[name] = { via: TARGETS[name].via, byConcurrency };
      for (const [c, cell] of Object.entries(byConcurrency)) {
        if (Object.keys(cell.failures).length > 0)
          problems.push(`${name} at c=${c}: non-2xx ${JSON.stringify(cell.failures)}; first: ${cell.firstFailure}`);
        if (cell.wrapped)
          problems.push(
            `${name} at c=${c} used all ${o.writesPerTarget} distinct writes of a step and repeated some: raise writesPerTarget`,
          );
      }
    }
    return {
      mix: MIX,
      load: {
        concurrencies: o.concurrencies,
        warmupMs: o.warmupMs,
        rounds: o.rounds,
        sliceMs: o.sliceMs,
        writesPerTarget: o.writesPerTarget,
        keepAlive: true,
        clientInWorkerThread: true,
      },
      startupMs,
      targets,
      comparisons,
      auditLines,
      problems,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    devNull.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
