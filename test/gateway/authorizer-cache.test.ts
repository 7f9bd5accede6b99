import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { AuthorizerCache } from "../../gateway/authorizer-cache";

const result = (principalId: string): APIGatewayAuthorizerResult => ({
  principalId,
  policyDocument: { Version: "2012-10-17", Statement: [] },
});

describe("AuthorizerCache", () => {
  test("keeps an answer for the TTL, per identity sources' values", () => {
    let now = 0;
    const cache = new AuthorizerCache(300_000, () => now);
    cache.set(["Bearer a", "GET", "/r/{proxy+}"], result("a"));
    expect(cache.get(["Bearer a", "GET", "/r/{proxy+}"])?.principalId).toBe("a");
    expect(cache.get(["Bearer b", "GET", "/r/{proxy+}"])).toBeUndefined();
    now = 299_999;
    expect(cache.get(["Bearer a", "GET", "/r/{proxy+}"])?.principalId).toBe("a");
    now = 300_000;
    expect(cache.get(["Bearer a", "GET", "/r/{proxy+}"])).toBeUndefined();
  });

  test("keyed by all values in order: another verb or resource misses, and no two lists share a key", () => {
    const cache = new AuthorizerCache(300_000, () => 0);
    cache.set(["Bearer a", "GET", "/r/{proxy+}"], result("a"));
    cache.set(["a,b"], result("joined"));
    expect(cache.get(["Bearer a", "POST", "/r/{proxy+}"])).toBeUndefined();
    expect(cache.get(["Bearer a", "GET", "/s/{proxy+}"])).toBeUndefined();
    expect(cache.get(["GET", "Bearer a", "/r/{proxy+}"])).toBeUndefined();
    expect(cache.get(["Bearer a"])).toBeUndefined();
    expect(cache.get(["a", "b"])).toBeUndefined();
    expect(cache.get(["a,b"])?.principalId).toBe("joined");
  });

  test("a TTL of 0 disables caching, as in API Gateway", () => {
    const cache = new AuthorizerCache(0);
    cache.set(["Bearer a"], result("a"));
    expect(cache.get(["Bearer a"])).toBeUndefined();
  });

  test("is bounded: the oldest entry goes first", () => {
    const cache = new AuthorizerCache(60_000, () => 0, 2);
    cache.set(["1"], result("1"));
    cache.set(["2"], result("2"));
    cache.set(["3"], result("3"));
    expect(cache.size).toBe(2);
    expect(cache.get(["1"])).toBeUndefined();
    expect(cache.get(["3"])?.principalId).toBe("3");
  });
});
