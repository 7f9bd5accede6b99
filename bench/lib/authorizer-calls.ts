// How many times API Gateway would invoke the Lambda authorizer for a recorded stream of Cognito requests, with
// its result cache on, under two designs of the cache key (the authorizer's identity sources): the token alone
// (one answer over the caller's whole route set), or the token with the request's verb and API resource (an
// answer scoped to them). Pure: the requests carry their own times.

/** One Cognito request as the replay needs it; `token` names a token (a hash or a label), never holds one. */
export interface RecordedRequest {
  /** Milliseconds, on any clock the stream shares. */
  readonly atMs: number;
  readonly token: string;
  readonly method: string;
  /** `context.resourcePath`: the API resource the request matched. */
  readonly resourcePath: string;
}

/**
 * `token`: identity source `method.request.header.Authorization` (before);
 * `token+verb+resource`: adds `context.httpMethod` and `context.resourcePath` (after).
 */
export const CACHE_KEY_DESIGNS = ["token", "token+verb+resource"] as const;
export type CacheKeyDesign = (typeof CACHE_KEY_DESIGNS)[number];

export interface ReplayFigures {
  readonly requests: number;
  readonly authorizerCalls: number;
  /** Requests answered from the cache, over all requests (0 for none). */
  readonly hitRate: number;
}

export function cacheKeyOf(r: RecordedRequest, design: CacheKeyDesign): string {
  return design === "token" ? r.token : `${r.token} ${r.method} ${r.resourcePath}`;
}

/** The (verb, resource) pairs of the stream, distinct. */
export function distinctRouteKeys(requests: readonly RecordedRequest[]): string[] {
  return [...new Set(requests.map((r) => `${r.method} ${r.resourcePath}`))].sort();
}

/**
 * Replays the stream, in time order, through a cache that keeps an answer for `ttlMs` from the call that
 * produced it (API Gateway's); every answer is cached (a recorded stream holds no 401), TTL 0 caches nothing.
 */
export function replayAuthorizerCache(
  requests: readonly RecordedRequest[],
  design: CacheKeyDesign,
  ttlMs: number,
): ReplayFigures {
  const expiresAt = new Map<string, number>();
  let calls = 0;
  for (const r of [...requests].sort((a, b) => a.atMs - b.atMs)) {
    const key = cacheKeyOf(r, design);
    const until = expiresAt.get(key);
    if (until !== undefined && until > r.atMs) continue;
    calls++;
    if (ttlMs > 0) expiresAt.set(key, r.atMs + ttlMs);
  }
  const n = requests.length;
  return { requests: n, authorizerCalls: calls, hitRate: n === 0 ? 0 : (n - calls) / n };
}

/**
 * Which design a measured count of calls matches: the one whose replay gives the same number, both when they
 * agree, and an error naming all three numbers when neither does (the measurement or the replay is wrong).
 */
export function matchDesign(
  measuredCalls: number,
  simulated: Readonly<Record<CacheKeyDesign, ReplayFigures>>,
): CacheKeyDesign | "either" {
  const matching = CACHE_KEY_DESIGNS.filter((d) => simulated[d].authorizerCalls === measuredCalls);
  if (matching.length === 0)
    throw new Error(
      `measured ${measuredCalls} authorizer calls, but the replay gives ${CACHE_KEY_DESIGNS.map((d) => `${simulated[d].authorizerCalls} keyed by ${d}`).join(" and ")}`,
    );
  return matching.length === 2 ? "either" : (matching[0] as CacheKeyDesign);
}

/** Both designs' replays of one stream. */
export function replayBothDesigns(
  requests: readonly RecordedRequest[],
  ttlMs: number,
): Record<CacheKeyDesign, ReplayFigures> {
  return {
    token: replayAuthorizerCache(requests, "token", ttlMs),
    "token+verb+resource": replayAuthorizerCache(requests, "token+verb+resource", ttlMs),
  };
}
