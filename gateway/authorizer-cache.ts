import type { APIGatewayAuthorizerResult } from "aws-lambda";

/**
 * API Gateway's authorizer result cache: keyed by the values of all the authorizer's identity sources in
 * order (the token, the verb, the resource), kept for the TTL, evaluated on every request. Only policies are
 * cached; a 401 is not (the authorizer is asked again). TTL 0 disables caching, as in API Gateway.
 */
/** The identity sources' values as one key, unambiguous whatever they hold (`["a,b"]` is not `["a", "b"]`). */
const keyOf = (identity: readonly string[]): string => JSON.stringify(identity);

export class AuthorizerCache {
  private readonly entries = new Map<
    string,
    { readonly result: APIGatewayAuthorizerResult; readonly expiresAt: number }
  >();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {}

  get(identity: readonly string[]): APIGatewayAuthorizerResult | undefined {
    const key = keyOf(identity);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.result;
  }

  set(identity: readonly string[], result: APIGatewayAuthorizerResult): void {
    if (this.ttlMs <= 0) return;
    // Bounded: the oldest entry goes first (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(keyOf(identity), { result, expiresAt: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
