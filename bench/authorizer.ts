// The authorizer in-process, warm: the Lambda call, the gateway's decision with and without API Gateway's
// result cache, and the floor of one RS256 verification (node:crypto). Then its cost against the number of
// groups per user and of resources in the policy. No network: keys are generated here, the JWKS is seeded.
import { verify as cryptoVerify } from "crypto";
import { Authorizer, createAuthorizer, DecisionLogger } from "../authorizer/authorize";
import { createDecisionLog } from "../authorizer/decision-log";
import { evaluatePolicies, parsePolicyDocument, parsePolicyDocumentOnce } from "../authorizer/core/evaluate";
import { GroupFile } from "../authorizer/core/groups";
import { PolicyDocument } from "../authorizer/core/compile";
import { apiResourcesOf } from "../authorizer/core/decide-request";
import { MethodArnStage } from "../authorizer/core/method-arn";
import { PolicySet } from "../authorizer/core/policy-set";
import { loadPolicySet, loadRouteCatalog } from "../authorizer/load-policies";
import { TokenVerifier } from "../authorizer/token";
import { AuthorizerCache } from "../gateway/authorizer-cache";
import { CATALOG_FILE, GROUPS_DIR } from "../project/paths";
import {
  accessToken,
  createSigningKey,
  METHOD_ARN_PREFIX,
  requestEvent,
  SigningKey,
  seededVerifier,
} from "../test/authorizer/support/tokens";
import { pairedRatio, RunFigures, summarize, Summary, timeLoop } from "./lib/stats";

export interface AuthorizerOptions {
  /** Runs per measurement; each run measures every variant once, in turn. */
  readonly runs: number;
  readonly warmupMs: number;
  /** Length of one run of one variant. */
  readonly runMs: number;
  /** Length of one run of one point of the scaling curves. */
  readonly scalingRunMs: number;
  readonly groupCounts: readonly number[];
  /** Allowed actions of the one group of the resources curve. */
  readonly actionCounts: readonly number[];
}

/** Microsecond figures; `perSecond` is operations per second on one core. */
export interface AuthorizerResults {
  readonly token: { readonly bytes: number; readonly alg: "RS256"; readonly modulusBits: 2048; readonly group: string };
  readonly variants: {
    /** The Lambda call answering for the request's verb and API resource (issue 17's design). */
    readonly lambda: Summary;
    /** The same call answering with the groups' whole route set, the design before it (same code, whole answers). */
    readonly lambdaRouteSet: Summary;
    readonly decisionUncached: Summary;
    readonly decisionCached: Summary;
    readonly verifierOnly: Summary;
    readonly rawRs256: Summary;
  };
  /** Lambda calls per second over raw RS256 verifications per second, run by run, median. */
  readonly ratioLambdaToRaw: number;
  /** The same for the design before issue 17 (whole route-set answers). */
  readonly ratioRouteSetToRaw: number;
  /** Response bytes of the Lambda call for the bench's requests, largest, in each design. */
  readonly answerBytes: { readonly resource: number; readonly routeSet: number };
  readonly ratioUncachedToRaw: number;
  readonly ratioCachedToUncached: number;
  readonly byGroups: readonly ScalingPoint[];
  readonly byResources: readonly ScalingPoint[];
}

export interface ScalingPoint {
  readonly groups: number;
  readonly allowedActions: number;
  /** Resource ARNs in the authorizer's policy (Allow and Deny statements together). */
  readonly policyResources: number;
  readonly policyBytes: number;
  /** Lambda call: verify the token, build the union policy of the user's groups. */
  readonly lambda: Summary;
  /** Cached decision: evaluate that policy for a request it does not allow (every resource is tried). */
  readonly cachedDeny: Summary;
}

const SILENT = { info: () => undefined, error: () => undefined };

/** The decision log still builds and serialises every line, as in Lambda; only the write to the terminal is dropped. */
async function withStdoutMuted<T>(body: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await body();
  } finally {
    process.stdout.write = write;
  }
}

function authorizerFor(
  policySet: PolicySet,
  key: SigningKey,
  logger: DecisionLogger,
): { authorize: Authorizer; verifier: TokenVerifier } {
  const verifier = seededVerifier(key);
  return { verifier, authorize: createAuthorizer({ config: { maxTokenBytes: 8192 }, policySet, verifier, logger }) };
}

/**
 * The design before issue 17: every answer is the groups' whole route set, which API Gateway cached per token. The
 * same authorizer code, given whole answers: what the bench compares the scoped answers with.
 */
class RouteSetAnswers extends PolicySet {
  override authorizerAnswer(groupNames: readonly string[], scope: MethodArnStage): PolicyDocument {
    return this.authorizerPolicy(groupNames, scope);
  }
}

/** A request of the bench: its methodArn and the API resource it matches (as API Gateway sends them). */
interface BenchRequest {
  readonly methodArn: string;
  readonly method: string;
  readonly resource: string;
}

/**
 * The gateway's decision on one request: the (cached or fresh) authorizer result, its statements, evaluation. The
 * cache is keyed as the deployed API's identity sources say: the token, the verb and the resource.
 */
function gatewayDecider(authorize: Authorizer, cacheTtlMs: number) {
  const cache = new AuthorizerCache(cacheTtlMs);
  return async (authorization: string, request: BenchRequest): Promise<string> => {
    const key = [authorization, request.method, request.resource];
    let result = cache.get(key);
    if (!result) {
      result = await authorize(eventOf(authorization, request));
      cache.set(key, result);
    }
    const statements = parsePolicyDocumentOnce(result.policyDocument);
    return evaluatePolicies([statements], "execute-api:Invoke", request.methodArn).decision;
  };
}

const eventOf = (authorization: string, r: BenchRequest) =>
  requestEvent({ authorization, methodArn: r.methodArn, resource: r.resource });

/** The UI's reads of the gateway bench's mix, each with the API resource it matches. */
function benchRequests(policySet: PolicySet): BenchRequest[] {
  return [
    ["GET", "/ajax-api/2.0/mlflow/experiments/get"],
    ["POST", "/ajax-api/2.0/mlflow/runs/search"],
    ["GET", "/get-artifact"],
  ].map(([method, path]) => {
    const resource = apiResourcesOf(policySet.catalog.routes).resolve(method as string, path as string)?.resourcePath;
    if (!resource) throw new Error(`the API has no method for ${method} ${path}`);
    return { methodArn: `${METHOD_ARN_PREFIX}${method}${path}`, method: method as string, resource };
  });
}

async function measureVariants(
  o: AuthorizerOptions,
  progress: (line: string) => void,
): Promise<
  Pick<
    AuthorizerResults,
    | "token"
    | "variants"
    | "ratioLambdaToRaw"
    | "ratioRouteSetToRaw"
    | "answerBytes"
    | "ratioUncachedToRaw"
    | "ratioCachedToUncached"
  >
> {
  const key = createSigningKey();
  const group = "readers";
  const token = accessToken(key, { "cognito:groups": [group] });
  const bearer = `Bearer ${token}`;
  const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
  const logger = createDecisionLog({ service: "mlflow-gate-authorizer" });
  const { authorize, verifier } = authorizerFor(policySet, key, logger);
  const routeSet = authorizerFor(new RouteSetAnswers(policySet.catalog, policySet.groups), key, logger).authorize;
  const requests = benchRequests(policySet);
  const at = (i: number) => requests[i % requests.length] as BenchRequest;
  const uncached = gatewayDecider(authorize, 0);
  const cached = gatewayDecider(authorize, 300_000);

  const [header, payload, signature] = token.split(".") as [string, string, string];
  const signingInput = Buffer.from(`${header}.${payload}`);
  const signatureBytes = Buffer.from(signature, "base64url");
  const raw = () => {
    if (!cryptoVerify("RSA-SHA256", signingInput, key.publicKey, signatureBytes)) throw new Error("raw verify failed");
  };

  const variants = {
    lambda: (i: number) => authorize(eventOf(bearer, at(i))),
    lambdaRouteSet: (i: number) => routeSet(eventOf(bearer, at(i))),
    decisionUncached: (i: number) => uncached(bearer, at(i)),
    decisionCached: (i: number) => cached(bearer, at(i)),
    verifierOnly: () => verifier.verify(token),
    rawRs256: raw,
  };
  const runs: Record<keyof typeof variants, RunFigures[]> = {
    lambda: [],
    lambdaRouteSet: [],
    decisionUncached: [],
    decisionCached: [],
    verifierOnly: [],
    rawRs256: [],
  };
  await withStdoutMuted(async () => {
    for (const r of requests)
      if ((await uncached(bearer, r)) !== "Allow")
        throw new Error(`the benchmark token was not allowed ${r.methodArn}`);
    for (const op of Object.values(variants)) await timeLoop(o.warmupMs / 5, op);
    for (let r = 0; r < o.runs; r++) {
      // Variants take turns within a run, so a ratio compares two stretches of time next to each other.
      for (const [name, op] of Object.entries(variants))
        runs[name as keyof typeof variants].push(await timeLoop(o.runMs, op));
    }
  });
  progress(`authorizer    ${o.runs} runs of ${Object.keys(variants).length} variants`);
  return {
    token: { bytes: token.length, alg: "RS256", modulusBits: 2048, group },
    variants: {
      lambda: summarize(runs.lambda),
      lambdaRouteSet: summarize(runs.lambdaRouteSet),
      decisionUncached: summarize(runs.decisionUncached),
      decisionCached: summarize(runs.decisionCached),
      verifierOnly: summarize(runs.verifierOnly),
      rawRs256: summarize(runs.rawRs256),
    },
    ratioLambdaToRaw: pairedRatio(runs.lambda, runs.rawRs256),
    ratioRouteSetToRaw: pairedRatio(runs.lambdaRouteSet, runs.rawRs256),
    answerBytes: await withStdoutMuted(async () => ({
      resource: Math.max(
        ...(await Promise.all(requests.map(async (r) => bytesOf(await authorize(eventOf(bearer, r)))))),
      ),
      routeSet: Math.max(
        ...(await Promise.all(requests.map(async (r) => bytesOf(await routeSet(eventOf(bearer, r)))))),
      ),
    })),
    ratioUncachedToRaw: pairedRatio(runs.decisionUncached, runs.rawRs256),
    ratioCachedToUncached: pairedRatio(runs.decisionCached, runs.decisionUncached),
  };
}

const bytesOf = (result: unknown): number => Buffer.byteLength(JSON.stringify(result), "utf8");

const groupFile = (name: string, actions: readonly string[]): GroupFile => ({
  name,
  file: `${name}.yaml`,
  description: "benchmark group",
  extends: [],
  allow: actions.map((pattern, j) => ({ pattern, line: j + 1 })),
  deny: [],
  unknownRoutes: "deny",
});

const compilableActions: string[] = [];

const compiles = (catalog: ReturnType<typeof loadRouteCatalog>, actions: readonly string[]): boolean => {
  try {
    PolicySet.fromFiles(catalog, [groupFile("probe", actions)]).resourcesFor(["probe"], "cognito");
    return true;
  } catch {
    return false;
  }
};

/** Groups of the groups curve allow this many actions each; points of the resources curve are multiples of it. */
const SLICE = 8;

/**
 * At least `needed` actions of the UI surface in an order where every multiple of SLICE is a prefix that
 * compiles: some action sets cannot be granted without granting a route they leave out (the compiler refuses
 * them), so a slice is filled only with actions that keep the set compilable. Groups take consecutive slices,
 * so the union of the first k groups is such a prefix.
 */
function orderedCompilableActions(needed: number): string[] {
  if (compilableActions.length >= needed) return compilableActions;
  const catalog = loadRouteCatalog(CATALOG_FILE);
  const candidates = [...new Set(catalog.routes.filter((r) => r.auth === "cognito").map((r) => r.action))].sort();
  const accepted = compilableActions;
  accepted.length = 0;
  let next = 0;
  while (accepted.length < needed && next < candidates.length) {
    // Most slices compile whole at once; otherwise fill the slice one action at a time.
    const whole = candidates.slice(next, next + SLICE);
    if (whole.length === SLICE && compiles(catalog, [...accepted, ...whole])) {
      accepted.push(...whole);
      next += SLICE;
      continue;
    }
    const slice: string[] = [];
    while (slice.length < SLICE && next < candidates.length) {
      const action = candidates[next++] as string;
      if (compiles(catalog, [...accepted, ...slice, action])) slice.push(action);
    }
    if (slice.length === SLICE) accepted.push(...slice);
  }
  if (accepted.length < needed)
    throw new Error(`only ${accepted.length} actions of the UI surface compile together; ${needed} needed`);
  return accepted;
}

/** Synthetic groups over the real catalog: group i allows its own slice of the UI surface's actions. */
function syntheticPolicySet(groups: number, per: number): { policySet: PolicySet; names: string[]; actions: number } {
  if (per % SLICE !== 0) throw new Error(`actions per group must be a multiple of ${SLICE}, not ${per}`);
  const actions = orderedCompilableActions(groups * per);
  const names = Array.from({ length: groups }, (_, i) => `bench-${String(i + 1).padStart(2, "0")}`);
  const files = names.map((name, i) => groupFile(name, actions.slice(i * per, (i + 1) * per)));
  return { policySet: PolicySet.fromFiles(loadRouteCatalog(CATALOG_FILE), files), names, actions: per * groups };
}

async function scalingPoint(o: AuthorizerOptions, groups: number, actionsPerGroup: number): Promise<ScalingPoint> {
  const key = createSigningKey();
  const { policySet, names, actions } = syntheticPolicySet(groups, actionsPerGroup);
  // Whole route-set answers: the curves measure the cost against the size of the policy itself.
  const { authorize } = authorizerFor(new RouteSetAnswers(policySet.catalog, policySet.groups), key, SILENT);
  const bearer = `Bearer ${accessToken(key, { "cognito:groups": names })}`;
  // A request no synthetic group allows: implicit deny after every resource was tried.
  const deniedArn = `${METHOD_ARN_PREFIX}DELETE/ajax-api/2.0/mlflow/no-such-route`;
  const first = await authorize(requestEvent({ authorization: bearer, methodArn: deniedArn }));
  const statements = parsePolicyDocument(first.policyDocument);
  const policyResources = first.policyDocument.Statement.reduce((n, s) => {
    const r = (s as { Resource?: string | string[] }).Resource;
    return n + (Array.isArray(r) ? r.length : 1);
  }, 0);
  if (!first.policyDocument.Statement.some((st) => st.Effect === "Allow"))
    throw new Error(`the synthetic groups (${groups} × ${actionsPerGroup}) got no Allow`);
  if (evaluatePolicies([statements], "execute-api:Invoke", deniedArn).decision === "Allow")
    throw new Error("the deny probe was allowed");
  const lambda: RunFigures[] = [];
  const cachedDeny: RunFigures[] = [];
  await timeLoop(o.scalingRunMs / 2, () => authorize(requestEvent({ authorization: bearer, methodArn: deniedArn })));
  for (let r = 0; r < o.runs; r++) {
    lambda.push(
      await timeLoop(o.scalingRunMs, () => authorize(requestEvent({ authorization: bearer, methodArn: deniedArn }))),
    );
    cachedDeny.push(
      await timeLoop(o.scalingRunMs / 2, () => evaluatePolicies([statements], "execute-api:Invoke", deniedArn)),
    );
  }
  return {
    groups,
    allowedActions: actions,
    policyResources,
    policyBytes: JSON.stringify(first.policyDocument).length,
    lambda: summarize(lambda),
    cachedDeny: summarize(cachedDeny),
  };
}

export async function benchAuthorizer(
  o: AuthorizerOptions,
  progress: (line: string) => void,
): Promise<AuthorizerResults> {
  const main = await measureVariants(o, progress);
  const byGroups: ScalingPoint[] = [];
  for (const g of o.groupCounts) byGroups.push(await scalingPoint(o, g, SLICE));
  progress(`authorizer    groups per user: ${o.groupCounts.join(", ")}`);
  const byResources: ScalingPoint[] = [];
  for (const a of o.actionCounts) byResources.push(await scalingPoint(o, 1, a));
  progress(`authorizer    policy resources: ${byResources.map((p) => p.policyResources).join(", ")}`);
  return { ...main, byGroups, byResources };
}
