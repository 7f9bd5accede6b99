import {
  connectionTokens,
  HOP_BY_HOP_HEADERS,
  HOP_BY_HOP_REQUEST_HEADERS,
  isHopByHopRequestHeader,
} from "../../common/hop-by-hop";

describe("connectionTokens", () => {
  test("the names a Connection header lists, lower-cased, blanks dropped", () => {
    expect([...connectionTokens("keep-alive, X-Secret ,, Upgrade")]).toEqual(["keep-alive", "x-secret", "upgrade"]);
    expect(connectionTokens(undefined).size).toBe(0);
  });
});

describe("isHopByHopRequestHeader", () => {
  test("RFC 9110's hop-by-hop headers, a proxy's credentials, the framing a proxy sets, and what Connection names", () => {
    // Prepare
    const tokens = connectionTokens("close, x-secret");
    // Act, Assess
    for (const name of [...HOP_BY_HOP_HEADERS, "proxy-authorization", "host", "content-length", "expect", "x-secret"])
      expect(isHopByHopRequestHeader(name, tokens)).toBe(true);
    for (const name of ["content-type", "authorization", "x-amz-target", "accept"])
      expect(isHopByHopRequestHeader(name, tokens)).toBe(false);
  });

  test("responses drop the hop-by-hop headers only", () => {
    expect(HOP_BY_HOP_HEADERS.has("content-length")).toBe(false);
    expect([...HOP_BY_HOP_HEADERS].every((h) => HOP_BY_HOP_REQUEST_HEADERS.has(h))).toBe(true);
  });
});
