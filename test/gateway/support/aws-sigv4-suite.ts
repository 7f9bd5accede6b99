/**
 * Cases of AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite, shipped with
 * botocore's tests), restated as the gateway would receive them from Node: the request target as
 * it arrives on the wire and req.rawHeaders. Every case uses the suite's fixed credential, region,
 * service and time; `authorization` is AWS's expected header, so a verifier that accepts these
 * computes the canonical request exactly as AWS specifies.
 *
 * Left out: get-space and get-utf8 (a raw space or raw UTF-8 in the request line; Node answers
 * 400 before any handler runs) and get-header-value-multiline (obsolete line folding).
 */
export const SUITE = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  service: "service",
  now: new Date("2015-08-30T12:36:00Z"),
  sessionToken:
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
} as const;

export interface SuiteCase {
  readonly name: string;
  readonly method: string;
  readonly target: string;
  /** Without Authorization; Node has already trimmed the spaces around each value. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
  readonly signedHeaders: string;
  readonly signature: string;
  /** The case signs x-amz-security-token. */
  readonly session?: boolean;
}

const HOST = ["Host", "example.amazonaws.com"] as const;
const DATE = ["X-Amz-Date", "20150830T123600Z"] as const;
const SIGNED_BASIC = "host;x-amz-date";
const VANILLA = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const UNRESERVED = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export const SUITE_CASES: readonly SuiteCase[] = [
  {
    name: "get-vanilla",
    method: "GET",
    target: "/",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: VANILLA,
  },
  {
    name: "get-vanilla-query-order-key-case",
    method: "GET",
    target: "/?Param2=value2&Param1=value1",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
  },
  {
    name: "get-vanilla-query-order-key",
    method: "GET",
    target: "/?Param1=value2&Param1=Value1",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
  },
  {
    name: "get-vanilla-query-order-value",
    method: "GET",
    target: "/?Param1=value2&Param1=value1",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
  },
  {
    name: "get-vanilla-query-unreserved",
    method: "GET",
    target: `/?${UNRESERVED}=${UNRESERVED}`,
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
  },
  {
    // The suite's raw "ሴ", percent-encoded by the client as it must be on the wire.
    name: "get-vanilla-utf8-query",
    method: "GET",
    target: "/?%E1%88%B4=bar",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
  },
  {
    name: "get-unreserved",
    method: "GET",
    target: `/${UNRESERVED}`,
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
  },
  {
    name: "get-header-key-duplicate",
    method: "GET",
    target: "/",
    headers: [HOST, ["My-Header1", "value2"], ["My-Header1", "value2"], ["My-Header1", "value1"], DATE],
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
  },
  {
    name: "get-header-value-order",
    method: "GET",
    target: "/",
    headers: [
      HOST,
      ["My-Header1", "value4"],
      ["My-Header1", "value1"],
      ["My-Header1", "value3"],
      ["My-Header1", "value2"],
      DATE,
    ],
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
  },
  {
    name: "get-header-value-trim",
    method: "GET",
    target: "/",
    headers: [HOST, ["My-Header1", "value1"], ["My-Header2", '"a   b   c"'], DATE],
    signedHeaders: "host;my-header1;my-header2;x-amz-date",
    signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
  },
  {
    name: "normalize-path/get-relative",
    method: "GET",
    target: "/example/..",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: VANILLA,
  },
  {
    name: "normalize-path/get-relative-relative",
    method: "GET",
    target: "/example1/example2/../..",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: VANILLA,
  },
  {
    name: "normalize-path/get-slash",
    method: "GET",
    target: "//",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: VANILLA,
  },
  {
    name: "normalize-path/get-slash-dot-slash",
    method: "GET",
    target: "/./",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: VANILLA,
  },
  {
    name: "normalize-path/get-slash-pointless-dot",
    method: "GET",
    target: "/./example",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
  },
  {
    name: "normalize-path/get-slashes",
    method: "GET",
    target: "//example//",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
  },
  {
    name: "post-vanilla",
    method: "POST",
    target: "/",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  },
  {
    name: "post-vanilla-query",
    method: "POST",
    target: "/?Param1=value1",
    headers: [HOST, DATE],
    signedHeaders: SIGNED_BASIC,
    signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
  },
  {
    name: "post-header-key-sort",
    method: "POST",
    target: "/",
    headers: [HOST, ["My-Header1", "value1"], DATE],
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
  },
  {
    name: "post-header-value-case",
    method: "POST",
    target: "/",
    headers: [HOST, ["My-Header1", "VALUE1"], DATE],
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
  },
  {
    name: "post-x-www-form-urlencoded",
    method: "POST",
    target: "/",
    headers: [["Content-Type", "application/x-www-form-urlencoded"], HOST, DATE],
    body: "Param1=value1",
    signedHeaders: "content-type;host;x-amz-date",
    signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
  },
  {
    name: "post-x-www-form-urlencoded-parameters",
    method: "POST",
    target: "/",
    headers: [["Content-Type", "application/x-www-form-urlencoded; charset=utf8"], HOST, DATE],
    body: "Param1=value1",
    signedHeaders: "content-type;host;x-amz-date",
    signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
  },
  {
    name: "post-sts-token/post-sts-header-before",
    method: "POST",
    target: "/",
    headers: [HOST, DATE, ["X-Amz-Security-Token", SUITE.sessionToken]],
    signedHeaders: "host;x-amz-date;x-amz-security-token",
    signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
    session: true,
  },
];

/**
 * post-sts-header-after: the token added after signing, unsigned. Valid SigV4 for services that
 * do not sign the token; refused here because every x-amz-* header must be signed.
 */
export const SUITE_TOKEN_AFTER: SuiteCase = {
  name: "post-sts-token/post-sts-header-after",
  method: "POST",
  target: "/",
  headers: [HOST, DATE, ["X-Amz-Security-Token", SUITE.sessionToken]],
  signedHeaders: SIGNED_BASIC,
  signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  session: true,
};
