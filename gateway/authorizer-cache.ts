import type { APIGatewayAuthorizerResult } from "aws-lambda";

/**
 * API Gateway's authorizer result cache: keyed by the identity source (the Authorization header's
 * value), kept for the TTL, evaluated on every request. Only policies are cached; a 401 is not
 * (the authorizer is asked again). TTL 0 disables caching, as in API Gateway.
 */
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

  get(identity: string): APIGatewayAuthorizerResult | undefined {
    const hit = this.entries.get(identity);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.entries.delete(identity);
      return undefined;
    }
    return hit.result;
  }

  set(identity: string, result: APIGatewayAuthorizerResult): void {
    if (this.ttlMs <= 0) return;
    // Bounded: the oldest entry goes first (Map keeps insertion order).
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(identity, { result, expiresAt: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
