// Authorizer calls of a browser user's session (the issue on scoping the Lambda authorizer's answer to the request's
// verb and resource). The local stack as the browser tests start it (real MLflow, cognito-local, the gateway with
// the authorizer's result cache on), a little data seeded through the private MLflow with the real SDK, then a
// scripted session of a reader in Debian's Chromium: log in, the experiments, an experiment, its run, the run's
// metric charts and artifacts, the models, a model and its version, each step waited on until the network is
// quiet. The gateway's access log says of each Cognito request whether the authorizer was invoked; the recorded
// requests are replayed through the cache under both key designs (token only, before; token, verb and resource,
// after), and the measured count must equal one of them. The same replay is given for the gateway bench's mix.
import { createHash } from "crypto";
import { join } from "path";
import { Browser, Page, Request } from "playwright-core";
import { launchChromium } from "../test/support/chromium";
import type { AccessLogEntry } from "../gateway/answer";
import { startTestStack, sdkEnv, TestStack } from "../test/integration/support/stack";
import { runPython } from "../test/support/python";
import { mappingApi, uiMixCycle } from "./gateway";
import {
  CACHE_KEY_DESIGNS,
  CacheKeyDesign,
  distinctRouteKeys,
  matchDesign,
  RecordedRequest,
  replayBothDesigns,
  ReplayFigures,
} from "./lib/authorizer-calls";
import { loadAverage } from "./lib/machine";

export interface UiSessionOptions {
  /** The user of the session (a demo user of the stack). */
  readonly username: string;
  /** A step is over when no request has been in flight for this long. */
  readonly quietMs: number;
  /** The most a step may take, and the whole section (start, seed, session). */
  readonly stepTimeoutMs: number;
  readonly sectionTimeoutMs: number;
  /** Cycles of the gateway bench's mix replayed for its figures (one token, all within one TTL). */
  readonly mixCycles: number;
}

/** The designs as the issue names them. */
export const DESIGN_NAMES: Record<CacheKeyDesign, string> = {
  token: "before (key: token; an answer over the caller's route set)",
  "token+verb+resource": "after (key: token, verb, resource; an answer scoped to them)",
};

/** One Cognito request of the session; the token only by a label (`token-1`), never itself or its hash. */
export interface SessionRequest extends RecordedRequest {
  readonly step: string;
  readonly path: string;
  readonly status: number;
  readonly authorizer: "invoked" | "cache";
}

export interface StreamFigures {
  readonly requests: number;
  readonly tokens: number;
  /** The distinct (verb, resource) pairs. */
  readonly routeKeys: readonly string[];
  readonly simulated: Record<CacheKeyDesign, ReplayFigures>;
}

export interface UiSessionResults {
  readonly date: string;
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly options: UiSessionOptions;
  readonly user: { readonly username: string; readonly groups: readonly string[] };
  readonly cacheTtlSeconds: number;
  readonly durationSeconds: number;
  readonly steps: readonly { readonly step: string; readonly requests: number; readonly ms: number }[];
  /** Cognito requests Chromium did not report (a worker's), given the one token their caller used. */
  readonly unseenInBrowser: number;
  /** Cognito requests without a token, answered 401 before the authorizer (not in the session's figures). */
  readonly refusedBeforeAuthorizer: number;
  readonly session: StreamFigures & {
    readonly measuredCalls: number;
    readonly measuredHitRate: number;
    /** The design whose replay equals the measured count: what the stack's authorizer and cache ran. */
    readonly stackRan: CacheKeyDesign | "either";
  };
  readonly gatewayMix: StreamFigures & { readonly cycles: number };
  readonly requests: readonly SessionRequest[];
}

interface Seed {
  readonly experimentId: string;
  readonly runId: string;
  readonly modelName: string;
  readonly modelVersion: string;
}

const EXPERIMENT = "ui-session-experiment";

/**
 * Waits until the page has had no document, fetch, XHR or image request in flight for `quietMs` (the kinds of
 * request a step's API calls are; a worker's script load is never reported finished).
 */
function networkWatch(page: Page): (quietMs: number, timeoutMs: number) => Promise<void> {
  const inFlight = new Set<Request>();
  let lastChange = Date.now();
  const change = (r: Request, add: boolean) => {
    if (add) inFlight.add(r);
    else inFlight.delete(r);
    lastChange = Date.now();
  };
  const watched = new Set(["document", "fetch", "xhr", "image"]);
  page.on("request", (r) => watched.has(r.resourceType()) && change(r, true));
  page.on("requestfinished", (r) => change(r, false));
  page.on("requestfailed", (r) => change(r, false));
  return async (quietMs, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (inFlight.size > 0 || Date.now() - lastChange < quietMs) {
      if (Date.now() > deadline)
        throw new Error(
          `the network did not settle in ${timeoutMs} ms (in flight: ${[...inFlight].map((r) => `${r.method()} ${r.url().split("?")[0]}`).join(", ")})`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
}

/** The session's steps: what a reader does to look at a run and a model, each ending when its content shows. */
function sessionSteps(base: string, seed: Seed, username: string, password: string) {
  const run = `${base}/#/experiments/${seed.experimentId}/runs/${seed.runId}`;
  const model = `${base}/#/models/${encodeURIComponent(seed.modelName)}`;
  return [
    {
      step: "log in",
      act: async (page: Page) => {
        await page.goto(base);
        await page.locator('input[name="username"]').fill(username);
        await page.locator('input[name="password"]').fill(password);
        await page.locator('button[type="submit"]').click();
        await page.getByTestId("mlflow-gate-username").filter({ hasText: username }).waitFor();
      },
    },
    {
      step: "experiments",
      act: async (page: Page) => {
        await page.goto(`${base}/#/experiments`);
        await page.getByText(EXPERIMENT).first().waitFor();
      },
    },
    {
      step: "experiment",
      act: async (page: Page) => {
        await page.goto(`${base}/#/experiments/${seed.experimentId}`);
        // MLflow's first-visit guidance covers the page until it is dismissed.
        const gotIt = page.getByRole("button", { name: "Got it" });
        await gotIt.waitFor({ timeout: 3000 }).then(
          () => gotIt.click(),
          () => undefined,
        );
        await page.getByText(EXPERIMENT).first().waitFor();
      },
    },
    {
      // MLflow 3 opens an experiment on its GenAI overview; the runs are a tab of their own.
      step: "experiment runs",
      act: async (page: Page) => {
        await page.goto(`${base}/#/experiments/${seed.experimentId}/runs`);
        await page.getByText("ui-run").first().waitFor();
      },
    },
    {
      step: "run",
      act: async (page: Page) => {
        await page.goto(run);
        await page.getByText("lr").first().waitFor();
      },
    },
    {
      step: "run metrics",
      act: async (page: Page) => {
        await page.goto(`${run}/model-metrics`);
        await page.getByText("loss").first().waitFor();
        await page.locator("canvas, svg.main-svg").first().waitFor();
      },
    },
    {
      step: "run artifacts",
      act: async (page: Page) => {
        await page.goto(`${run}/artifacts/plot.png`);
        await page.locator('img[src^="blob:"], img[src*="plot.png"]').first().waitFor();
      },
    },
    {
      step: "models",
      act: async (page: Page) => {
        await page.goto(`${base}/#/models`);
        await page.getByText(seed.modelName).first().waitFor();
      },
    },
    {
      step: "model",
      act: async (page: Page) => {
        await page.goto(model);
        await page.getByText(`Version ${seed.modelVersion}`).first().waitFor();
      },
    },
    {
      step: "model version",
      act: async (page: Page) => {
        await page.goto(`${model}/versions/${seed.modelVersion}`);
        await page.getByText(seed.modelName).first().waitFor();
      },
    },
  ];
}

/** A stream's replays under both designs, with its tokens and (verb, resource) pairs. */
export function streamFigures(requests: readonly RecordedRequest[], ttlMs: number): StreamFigures {
  return {
    requests: requests.length,
    tokens: new Set(requests.map((r) => r.token)).size,
    routeKeys: distinctRouteKeys(requests),
    simulated: replayBothDesigns(requests, ttlMs),
  };
}

/**
 * The gateway bench's mix (bench/gateway.ts, as its bearer target sends it) resolved to the API's resources,
 * `cycles` times by one token, 10 ms apart: a bench run's bearer load lies within one TTL.
 */
export function gatewayMixFigures(cycles: number, ttlMs: number): StreamFigures & { readonly cycles: number } {
  const api = mappingApi();
  const cycle = uiMixCycle().map(({ method, path }) => {
    const resolved = api.resolve(method, path);
    if (!resolved) throw new Error(`the API has no method for ${method} ${path}`);
    return { method, resourcePath: resolved.method.resourcePath };
  });
  const requests = Array.from({ length: cycles }, () => cycle)
    .flat()
    .map((r, i) => ({ ...r, atMs: i * 10, token: "token-1" }));
  return { ...streamFigures(requests, ttlMs), cycles };
}

/** Labels tokens by first use (`token-1`…); only their SHA-256 is held, and only in memory. */
function tokenLabeller(): (authorization: string | undefined) => string | undefined {
  const labels = new Map<string, string>();
  return (authorization) => {
    if (!authorization) return undefined;
    const hash = createHash("sha256").update(authorization).digest("hex");
    let label = labels.get(hash);
    if (!label) labels.set(hash, (label = `token-${labels.size + 1}`));
    return label;
  };
}

export async function benchUiSession(o: UiSessionOptions, progress: (line: string) => void): Promise<UiSessionResults> {
  const loadBefore = loadAverage();
  const t0 = Date.now();
  let t: TestStack | undefined;
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`ui-session: not done in ${o.sectionTimeoutMs / 1000} s`)),
      o.sectionTimeoutMs,
    );
  });
  const run = async (): Promise<UiSessionResults> => {
    // The authorizer's cache as the stack runs it (the definition's TTL); a private stack in a temporary directory.
    t = await startTestStack({ private: true });
    const ttlSeconds = t.config.authorizerCacheTtlSeconds;
    if (ttlSeconds <= 0) throw new Error("ui-session: the stack runs with the authorizer cache off");
    progress(`ui-session    stack up (authorizer cache ${ttlSeconds} s); seeding ${EXPERIMENT}`);
    const r = await runPython(
      [join("test", "browser", "python", "seed_ui.py"), EXPERIMENT],
      sdkEnv(t.stack, "private"),
    );
    if (r.code !== 0) throw new Error(`seed_ui.py failed: ${r.stderr.slice(-2000)}`);
    // MLflow prints a "View run" line on set_terminated; the ids are the last line.
    const seed = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Seed;
    const user = t.stack.summary.demoUsers.find((u) => u.username === o.username);
    if (!user) throw new Error(`ui-session: the stack has no demo user ${o.username}`);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const settle = networkWatch(page);
    // Each gateway answer names its request (x-amzn-RequestId): the token that request carried, by label.
    const label = tokenLabeller();
    const tokenOf = new Map<string, string>();
    const pending: Promise<void>[] = [];
    context.on("response", (response) => {
      pending.push(
        (async () => {
          const id = (await response.allHeaders())["x-amzn-requestid"];
          const token = label((await response.request().allHeaders())["authorization"]);
          if (id && token) tokenOf.set(id, token);
        })().catch(() => undefined),
      );
    });

    const stepOf = new Map<string, string>();
    const steps: { step: string; requests: number; ms: number }[] = [];
    const logged = () => t!.accessLog.filter((e) => e.surface === "cognito");
    for (const s of sessionSteps(t.stack.summary.gatewayUrl, seed, user.username, user.password)) {
      const began = Date.now();
      const before = logged().length;
      await s.act(page);
      await settle(o.quietMs, o.stepTimeoutMs);
      const entries = logged().slice(before);
      for (const e of entries) stepOf.set(e.requestId, s.step);
      steps.push({ step: s.step, requests: entries.length, ms: Date.now() - began });
      progress(`ui-session    ${s.step}: ${entries.length} Cognito requests`);
    }
    await Promise.all(pending);

    // A request without a token is answered 401 before the authorizer (MLflow's telemetry before the login):
    // no call, nothing cached, nothing to replay.
    const all: AccessLogEntry[] = logged();
    const entries = all.filter((e) => e.authorizer !== undefined);
    // A worker's requests (MLflow's telemetry worker) never show in Chromium's events: one of them carries the
    // only token its caller's other requests carried, or the session cannot say which.
    const tokensOfPrincipal = new Map<string, Set<string>>();
    for (const e of entries) {
      const token = tokenOf.get(e.requestId);
      if (token)
        tokensOfPrincipal.set(`${e.principal}`, (tokensOfPrincipal.get(`${e.principal}`) ?? new Set()).add(token));
    }
    let unseen = 0;
    for (const e of entries.filter((x) => !tokenOf.has(x.requestId))) {
      const tokens = [...(tokensOfPrincipal.get(`${e.principal}`) ?? [])];
      if (tokens.length !== 1)
        throw new Error(
          `ui-session: ${e.method} ${e.path} (${e.status}) was not seen in Chromium and its caller used ${tokens.length} tokens`,
        );
      tokenOf.set(e.requestId, tokens[0] as string);
      unseen++;
    }
    const without = entries.filter((e) => e.resourcePath === undefined);
    if (without.length > 0)
      throw new Error(`ui-session: ${without.length} Cognito access-log lines have no resourcePath`);
    const requests: SessionRequest[] = entries.map((e) => ({
      atMs: Date.parse(e.time) - t0,
      token: tokenOf.get(e.requestId) as string,
      method: e.method,
      resourcePath: e.resourcePath as string,
      step: stepOf.get(e.requestId) ?? "(after the steps)",
      path: e.path,
      status: e.status,
      authorizer: e.authorizer?.cached ? "cache" : "invoked",
    }));
    const measuredCalls = requests.filter((q) => q.authorizer === "invoked").length;
    const session = streamFigures(requests, ttlSeconds * 1000);
    // Fails loudly when the measured count matches neither replay.
    const stackRan = matchDesign(measuredCalls, session.simulated);
    return {
      date: new Date().toISOString(),
      loadAverage: { before: loadBefore, after: loadAverage() },
      options: o,
      user: { username: user.username, groups: [...new Set(entries.flatMap((e) => e.groups ?? []))] },
      cacheTtlSeconds: ttlSeconds,
      durationSeconds: Math.round((Date.now() - t0) / 1000),
      steps,
      unseenInBrowser: unseen,
      refusedBeforeAuthorizer: all.length - entries.length,
      session: {
        ...session,
        measuredCalls,
        measuredHitRate: requests.length === 0 ? 0 : (requests.length - measuredCalls) / requests.length,
        stackRan,
      },
      gatewayMix: gatewayMixFigures(o.mixCycles, ttlSeconds * 1000),
      requests,
    };
  };
  try {
    const results = await Promise.race([run(), timeout]);
    const s = results.session;
    for (const d of CACHE_KEY_DESIGNS)
      progress(
        `ui-session    ${DESIGN_NAMES[d]}: ${s.simulated[d].authorizerCalls} calls for ${s.requests} requests (hit rate ${(s.simulated[d].hitRate * 100).toFixed(1)} %)`,
      );
    progress(
      `ui-session    measured ${s.measuredCalls} authorizer calls with the cache on: the stack ran ${s.stackRan === "either" ? "either design (the replays agree)" : DESIGN_NAMES[s.stackRan]}`,
    );
    return results;
  } finally {
    clearTimeout(timer);
    await (browser as Browser | undefined)?.close().catch(() => undefined);
    await (t as TestStack | undefined)?.stop();
  }
}
