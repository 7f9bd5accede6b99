import fc from "fast-check";
import { createServer, request as httpRequest, Server } from "http";
import { AddressInfo } from "net";
import {
  buildCanonicalQuery,
  buildCanonicalUri,
  CredentialStore,
  SigV4Credential,
  SIGV4_MESSAGES,
  SigV4Problem,
  SigV4Result,
  SignedRequest,
  verifySigV4,
} from "../../gateway/sigv4";
import { SUITE, SUITE_CASES, SUITE_TOKEN_AFTER, SuiteCase } from "./support/aws-sigv4-suite";
import {
  Keys,
  PythonCase,
  presignWithSmithy,
  signWithPython,
  signWithSmithy,
  SmithyOptions,
  SmithyRequest,
  splitTarget,
} from "./support/signers";

const SIGNED_AT = new Date("2025-01-15T12:00:00Z");
const NOW = new Date(SIGNED_AT.getTime() + 30_000);
const OPTIONS = { region: "us-east-1", now: () => NOW };
const MINUTE = 60_000;

const LONG_TERM: SigV4Credential = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  principal: "mlflow-admin",
  arn: "arn:aws:iam::000000000000:user/mlflow-admin",
};
const SESSION: SigV4Credential = {
  accessKeyId: "ASIAY34FZKBOKMUTVV7A",
  secretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
  principal: "sagemaker-execution-role",
  arn: "arn:aws:sts::000000000000:assumed-role/sagemaker-execution-role/job",
  // Real tokens are base64: '+', '/' and '=' must survive header handling untouched.
  sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+c2Vzc2lvbg/token==",
  expiresAt: new Date(NOW.getTime() + 60 * MINUTE),
};
const EXPIRED: SigV4Credential = {
  ...SESSION,
  accessKeyId: "ASIAEXPIREDEXAMPLE01",
  principal: "expired-role",
  expiresAt: new Date(NOW.getTime() - 1000),
};

const storeOf = (...credentials: SigV4Credential[]): CredentialStore => ({
  find: (id) => credentials.find((c) => c.accessKeyId === id),
});
const STORE = storeOf(LONG_TERM, SESSION, EXPIRED);
const SECRETS = [LONG_TERM, SESSION, EXPIRED].flatMap((c) => [c.secretAccessKey, c.sessionToken ?? c.secretAccessKey]);

const keysOf = (c: SigV4Credential): Keys => ({
  accessKeyId: c.accessKeyId,
  secretAccessKey: c.secretAccessKey,
  sessionToken: c.sessionToken,
});
const verify = (
  req: SignedRequest,
  options: Parameters<typeof verifySigV4>[2] = OPTIONS,
  store: CredentialStore = STORE,
): SigV4Result => verifySigV4(req, store, options);
const smithy = (request: SmithyRequest, options: Partial<SmithyOptions> = {}) =>
  signWithSmithy(request, { keys: keysOf(LONG_TERM), signedAt: SIGNED_AT, ...options });

const headerOf = (req: SignedRequest, name: string): string => {
  const i = req.rawHeaders.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
  if (i < 0) throw new Error(`no ${name} header`);
  return req.rawHeaders[i + 1] as string;
};
const withHeader = (req: SignedRequest, name: string, value: string): SignedRequest => ({
  ...req,
  rawHeaders: [...req.rawHeaders, name, value],
});
const withoutHeader = (req: SignedRequest, name: string): SignedRequest => ({
  ...req,
  rawHeaders: req.rawHeaders.filter((_, i, all) => (all[i - (i % 2)] as string).toLowerCase() !== name),
});
const twice = (req: SignedRequest, name: string): SignedRequest => withHeader(req, name, headerOf(req, name));
const withAuthorization = (req: SignedRequest, edit: (value: string) => string): SignedRequest =>
  withHeader(withoutHeader(req, "authorization"), "Authorization", edit(headerOf(req, "authorization")));
/** The signature a request carries, in its Authorization header or (presigned) its query. */
const signatureOf = (req: SignedRequest): string => {
  const authorization =
    req.rawHeaders.find((_, i, all) => i % 2 === 1 && (all[i - 1] as string).toLowerCase() === "authorization") ?? "";
  return /Signature=([0-9a-fA-F]+)/i.exec(`${authorization} ${req.rawQuery}`)?.[1] ?? "";
};

function expectAccepted(result: SigV4Result, principal: string): void {
  expect(result).toEqual({
    ok: true,
    principal,
    arn: expect.stringMatching(/^arn:aws:/),
    accessKeyId: expect.any(String),
  });
}

/** Refused with `reason`, and the message carries no secret, token or signature. */
function expectRejected(result: SigV4Result, reason: SigV4Problem, req?: SignedRequest): void {
  expect(result).toMatchObject({ ok: false, status: 403, reason });
  if (result.ok) return;
  for (const secret of [...SECRETS, ...(req && signatureOf(req) ? [signatureOf(req)] : [])])
    expect(result.message).not.toContain(secret);
}

const JSON_BODY = JSON.stringify({ experiment_id: "0", run_name: "héllo wörld", tags: [{ key: "a+b", value: "c d" }] });
const BINARY_BODY = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));

/** Requests the AWS SDK for JavaScript would send to MLflow routes, signed by @smithy/signature-v4. */
const SMITHY_REQUESTS: readonly [string, SmithyRequest][] = [
  [
    "GET with a query: repeated keys, spaces, '+', '/', unicode, an empty value",
    {
      method: "GET",
      path: "/api/2.0/mlflow/runs/search",
      query: {
        run_id: ["b", "a"],
        filter: "tags.a = 'x y'",
        plus: "a+b",
        slash: "a/b",
        u: "✓ ü",
        "k y": "v",
        empty: "",
      },
    },
  ],
  [
    "POST with a JSON body and headers smithy leaves unsigned",
    {
      method: "POST",
      path: "/api/2.0/mlflow/runs/create",
      headers: {
        "content-type": "application/json",
        "user-agent": "aws-sdk-js/3.0",
        "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
      },
      body: JSON_BODY,
    },
  ],
  [
    "PUT with a binary body",
    {
      method: "PUT",
      path: "/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/model.bin",
      headers: { "content-type": "application/octet-stream" },
      body: BINARY_BODY,
    },
  ],
  [
    "a path with percent-encoded characters and '//'",
    { method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/0//run%201/a%2Fb+c%25~.txt" },
  ],
  ["a path with dot segments", { method: "GET", path: "/api/2.0/mlflow/./experiments/x/../get" }],
];

/** A presigned GET (smithy's presign, as an SDK's createPresignedUrl would write it). */
const presigned = (credential: SigV4Credential = LONG_TERM, expiresIn?: number) =>
  presignWithSmithy(
    { method: "GET", path: "/api/2.0/mlflow/experiments/get", query: { experiment_id: "1" } },
    { keys: keysOf(credential), signedAt: SIGNED_AT, ...(expiresIn !== undefined ? { expiresIn } : {}) },
  );

describe("verifySigV4", () => {
  // AWS accepts the query-string form on execute-api: the credentials then travel in the URL, which the
  // guard refuses (test/guard/request-headers.test.ts); the emulator accepts what AWS accepts.
  describe("accepts presigned URLs, as API Gateway does", () => {
    it.each([LONG_TERM, SESSION])("signed by smithy's presign ($principal)", async (credential) => {
      expectAccepted(verify(await presigned(credential)), credential.principal);
    });

    it("until they expire, whatever the skew allows", async () => {
      const req = await presigned(LONG_TERM, 60);
      const late = verifySigV4(req, STORE, { ...OPTIONS, now: () => new Date(SIGNED_AT.getTime() + 61_000) });
      expect(late).toMatchObject({ ok: false, reason: "skew", message: "Request has expired" });
      const inTime = verifySigV4(req, STORE, { ...OPTIONS, now: () => new Date(SIGNED_AT.getTime() + 59_000) });
      expect(inTime.ok).toBe(true);
    });
  });

  describe("accepts requests signed by @smithy/signature-v4", () => {
    const cases = SMITHY_REQUESTS.flatMap(([title, request]) =>
      [LONG_TERM, SESSION].flatMap((credential) =>
        [true, false].map(
          (applyChecksum) =>
            [
              `${title} (${credential.principal}, ${applyChecksum ? "with" : "without"} x-amz-content-sha256)`,
              request,
              credential,
              applyChecksum,
            ] as const,
        ),
      ),
    );

    it.each(cases)("%s", async (_, request, credential, applyChecksum) => {
      // Prepare
      const req = await smithy(request, { keys: keysOf(credential), applyChecksum });
      // Act
      const result = verify(req);
      // Assess
      expectAccepted(result, credential.principal);
    });

    it.each([
      ["',' without a space", (a: string) => a.replace(/, /g, ",")],
      ["several spaces around ','", (a: string) => a.replace(/, /g, "  ,   ")],
      ["a tab after the algorithm", (a: string) => a.replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256\t")],
      [
        "the parameters in another order",
        (a: string) =>
          a.split(" ")[0] +
          " " +
          a
            .slice(a.indexOf(" ") + 1)
            .split(", ")
            .reverse()
            .join(", "),
      ],
    ])("accepts the Authorization header written with %s", async (_, edit) => {
      // Prepare
      const req = withAuthorization(await smithy(SMITHY_REQUESTS[1]![1]), edit);
      // Act
      const result = verify(req);
      // Assess
      expectAccepted(result, LONG_TERM.principal);
    });
  });

  describe("requests signed by Python signers (botocore, and requests-auth-aws-sigv4 as the MLflow SDK uses it)", () => {
    const url = (target: string) => `http://localhost:8080${target}`;
    const base = { signedAt: SIGNED_AT, keys: keysOf(LONG_TERM) };
    const QUERY_PARAMS = [
      ["run_id", "b"],
      ["run_id", "a"],
      ["filter", "tags.a = 'x y'"],
      ["plus", "a+b"],
      ["slash", "a/b"],
      ["u", "✓ ü"],
      ["empty", ""],
    ] as const;
    type Expectation = { readonly principal: string } | { readonly reason: SigV4Problem };
    const cases: readonly (readonly [string, PythonCase, Expectation])[] = [
      // botocore: what boto3-based clients (and a correct MLflow auth plugin) send.
      [
        "botocore: GET with a canonical query in the URL",
        {
          ...base,
          id: "bc-query-url",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow/runs/search?run_id=b&run_id=a&q=x%20y&plus=a%2Bb&slash=a%2Fb&u=%E2%9C%93&empty="),
        },
        { principal: LONG_TERM.principal },
      ],
      [
        // botocore sends spaces as '+' (urlencode) but signs them as %20: the reason '+' reads as a space.
        "botocore: GET with params (spaces go on the wire as '+')",
        {
          ...base,
          id: "bc-query-params",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow/runs/search"),
          params: QUERY_PARAMS,
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "botocore: POST with a JSON body",
        {
          ...base,
          id: "bc-post-json",
          signer: "botocore",
          method: "POST",
          url: url("/api/2.0/mlflow/runs/create"),
          headers: { "Content-Type": "application/json" },
          body: Buffer.from(JSON_BODY),
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "botocore: PUT with a binary body",
        {
          ...base,
          id: "bc-put-binary",
          signer: "botocore",
          method: "PUT",
          url: url("/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/model.bin"),
          body: BINARY_BODY,
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "botocore: a path with percent-encoded characters, '//' and '.'",
        {
          ...base,
          id: "bc-path",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow-artifacts/artifacts/0//run%201/./a%2Fb+c%25~.txt"),
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "botocore: temporary credentials with a session token",
        {
          ...base,
          id: "bc-session",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get?experiment_id=1"),
          keys: keysOf(SESSION),
        },
        { principal: SESSION.principal },
      ],
      [
        "botocore: the Date header instead of X-Amz-Date",
        {
          ...base,
          id: "bc-date-header",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get?experiment_id=1"),
          headers: { Date: "replaced by botocore" },
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "botocore: x-amz-content-sha256 UNSIGNED-PAYLOAD",
        {
          ...base,
          id: "bc-unsigned-payload",
          signer: "botocore",
          method: "POST",
          url: url("/api/2.0/mlflow/runs/create"),
          headers: { "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD" },
          body: Buffer.from(JSON_BODY),
        },
        { reason: "unsigned-payload" },
      ],
      [
        "botocore: a wrong secret",
        {
          ...base,
          id: "bc-wrong-secret",
          signer: "botocore",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get?experiment_id=1"),
          keys: { ...keysOf(LONG_TERM), secretAccessKey: "not-the-secret" },
        },
        { reason: "bad-signature" },
      ],
      [
        "botocore: a session token with a long-term key",
        {
          ...base,
          id: "bc-token-long-term",
          signer: "botocore",
          method: "GET",
          url: url("/"),
          keys: { ...keysOf(LONG_TERM), sessionToken: "made-up-token" },
        },
        { reason: "token-mismatch" },
      ],
      [
        "botocore: temporary credentials without their token",
        {
          ...base,
          id: "bc-session-no-token",
          signer: "botocore",
          method: "GET",
          url: url("/"),
          keys: { ...keysOf(SESSION), sessionToken: undefined },
        },
        { reason: "token-mismatch" },
      ],
      // requests-auth-aws-sigv4 0.7 (MLFLOW_TRACKING_AWS_SIGV4=true): MLflow's own requests work...
      [
        "MLflow SDK: GET with simple params",
        {
          ...base,
          id: "ras-get",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get-by-name"),
          params: [["experiment_name", "Default"]],
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "MLflow SDK: GET with params that need percent-encoding and an empty value",
        {
          ...base,
          id: "ras-get-encoded",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow/registered-models/get"),
          params: [
            ["name", "ünïcode/✓~"],
            ["view_type", ""],
          ],
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "MLflow SDK: POST with a JSON body",
        {
          ...base,
          id: "ras-post-json",
          signer: "requests-auth-aws-sigv4",
          method: "POST",
          url: url("/api/2.0/mlflow/runs/log-metric"),
          json: { run_id: "abc", key: "m", value: 1.5, timestamp: 1, step: 0 },
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "MLflow SDK: PUT with a binary body",
        {
          ...base,
          id: "ras-put-binary",
          signer: "requests-auth-aws-sigv4",
          method: "PUT",
          url: url("/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/model.bin"),
          body: BINARY_BODY,
        },
        { principal: LONG_TERM.principal },
      ],
      [
        "MLflow SDK: temporary credentials with a session token",
        {
          ...base,
          id: "ras-session",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get"),
          params: [["experiment_id", "1"]],
          keys: keysOf(SESSION),
        },
        { principal: SESSION.principal },
      ],
      // ...but it signs the query and path as sent, so these fail against the real API Gateway too.
      [
        "MLflow SDK: a space in a param (sent as '+', signed as '+')",
        {
          ...base,
          id: "ras-space",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow/experiments/get-by-name"),
          params: [["experiment_name", "my experiment"]],
        },
        { reason: "bad-signature" },
      ],
      [
        "MLflow SDK: a repeated param (its dict keeps the last)",
        {
          ...base,
          id: "ras-repeated",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow/metrics/get-history-bulk"),
          params: [
            ["run_id", "b"],
            ["run_id", "a"],
          ],
        },
        { reason: "bad-signature" },
      ],
      [
        "MLflow SDK: a percent-encoded path (not double-encoded)",
        {
          ...base,
          id: "ras-encoded-path",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/my%20model.pkl"),
        },
        { reason: "bad-signature" },
      ],
      [
        "MLflow SDK: a path with '//' (not normalized)",
        {
          ...base,
          id: "ras-double-slash",
          signer: "requests-auth-aws-sigv4",
          method: "GET",
          url: url("/api/2.0//mlflow/experiments/get-by-name?experiment_name=Default"),
        },
        { reason: "bad-signature" },
      ],
    ];
    let signed: Map<string, SignedRequest>;

    beforeAll(() => {
      signed = signWithPython(cases.map(([, c]) => c));
    });

    it.each(cases)("%s", (_, pythonCase, expectation) => {
      // Prepare
      const req = signed.get(pythonCase.id) as SignedRequest;
      // Act
      const result = verify(req);
      // Assess
      if ("principal" in expectation) expectAccepted(result, expectation.principal);
      else expectRejected(result, expectation.reason, req);
    });

    it("botocore's params put '+' on the wire for a space: the case that fixes how '+' is read", () => {
      // Prepare
      const req = signed.get("bc-query-params") as SignedRequest;
      // Act
      const query = req.rawQuery;
      // Assess
      expect(query).toContain("filter=tags.a+%3D+%27x+y%27");
      expect(query).toContain("plus=a%2Bb");
    });

    it("verifies requests that went through a real Node HTTP server (req.url and req.rawHeaders)", async () => {
      // Prepare
      const server = await captureServer();
      try {
        const ids = ["bc-query-params", "bc-post-json", "bc-path", "bc-session", "ras-post-json"];
        for (const id of ids) {
          const original = signed.get(id) as SignedRequest;
          // Act
          const received = await sendThrough(server, original);
          const result = verify(received);
          // Assess
          expect(received.rawQuery).toBe(original.rawQuery);
          expect(result.ok).toBe(true);
        }
      } finally {
        server.close();
      }
    });
  });

  describe("AWS's SigV4 test suite", () => {
    const suiteStore = (session: boolean | undefined) =>
      storeOf({
        accessKeyId: SUITE.accessKeyId,
        secretAccessKey: SUITE.secretAccessKey,
        principal: "suite",
        arn: "arn:aws:iam::000000000000:user/suite",
        ...(session ? { sessionToken: SUITE.sessionToken } : {}),
      });
    const requestOf = (c: SuiteCase): SignedRequest => ({
      method: c.method,
      ...splitTarget(c.target),
      rawHeaders: [
        ...c.headers.flat(),
        "Authorization",
        `AWS4-HMAC-SHA256 Credential=${SUITE.accessKeyId}/20150830/${SUITE.region}/${SUITE.service}/aws4_request, SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
      ],
      body: Buffer.from(c.body ?? ""),
    });
    const suiteOptions = { region: SUITE.region, service: SUITE.service, now: () => SUITE.now };

    it.each(SUITE_CASES.map((c) => [c.name, c] as const))("accepts %s", (_, c) => {
      // Act
      const result = verify(requestOf(c), suiteOptions, suiteStore(c.session));
      // Assess
      expectAccepted(result, "suite");
    });

    it("refuses post-sts-header-after: the token is not signed", () => {
      // Act
      const result = verify(requestOf(SUITE_TOKEN_AFTER), suiteOptions, suiteStore(true));
      // Assess
      expectRejected(result, "unsigned-header");
    });

    it("refuses get-header-key-duplicate when one of the repeated values is dropped", () => {
      // Prepare
      const c = SUITE_CASES.find((s) => s.name === "get-header-key-duplicate") as SuiteCase;
      const req = requestOf({ ...c, headers: c.headers.filter((h, i) => !(h[0] === "My-Header1" && i === 2)) });
      // Act
      const result = verify(req, suiteOptions, suiteStore(false));
      // Assess
      expectRejected(result, "bad-signature");
    });
  });

  describe("refuses tampered requests", () => {
    const POST: SmithyRequest = {
      method: "POST",
      path: "/api/2.0/mlflow/runs/create",
      query: { view: "a b", plus: "a+b" },
      headers: { "content-type": "application/json" },
      body: JSON_BODY,
    };

    const tamperings: readonly (readonly [string, () => Promise<SignedRequest>, SigV4Problem])[] = [
      [
        "a changed body (x-amz-content-sha256 sent)",
        async () => ({ ...(await smithy(POST)), body: Buffer.from(JSON_BODY.replace("0", "1")) }),
        "payload-hash",
      ],
      [
        "a changed body (no x-amz-content-sha256)",
        async () => ({
          ...(await smithy(POST, { applyChecksum: false })),
          body: Buffer.from(JSON_BODY.replace("0", "1")),
        }),
        "bad-signature",
      ],
      [
        "a changed path",
        async () => ({ ...(await smithy(POST)), rawPath: "/api/2.0/mlflow/runs/delete" }),
        "bad-signature",
      ],
      [
        "a changed query",
        async () => ({ ...(await smithy(POST)), rawQuery: "view=a%20c&plus=a%2Bb" }),
        "bad-signature",
      ],
      [
        "a query with '+' where '%2B' was signed",
        async () => ({ ...(await smithy(POST)), rawQuery: "view=a%20b&plus=a+b" }),
        "bad-signature",
      ],
      [
        "a query with a parameter added",
        async () => ({ ...(await smithy(POST)), rawQuery: "view=a%20b&plus=a%2Bb&admin=true" }),
        "bad-signature",
      ],
      ["a changed method", async () => ({ ...(await smithy(POST)), method: "PUT" }), "bad-signature"],
      [
        "an added unsigned x-amz-* header",
        async () => withHeader(await smithy(POST), "X-Amz-Meta-Owner", "mallory"),
        "unsigned-header",
      ],
      [
        "a signed header added a second time",
        async () => withHeader(await smithy(POST), "Content-Type", "text/plain"),
        "bad-signature",
      ],
      ["a second Host header", async () => withHeader(await smithy(POST), "Host", "evil.example.com"), "bad-signature"],
      [
        "a wrong secret",
        () =>
          smithy(POST, { keys: { ...keysOf(LONG_TERM), secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY" } }),
        "bad-signature",
      ],
      [
        "an unknown access key",
        () => smithy(POST, { keys: { ...keysOf(LONG_TERM), accessKeyId: "AKIAUNKNOWNEXAMPLE00" } }),
        "unknown-key",
      ],
      ["a wrong region", () => smithy(POST, { region: "eu-west-1" }), "wrong-region"],
      ["a wrong service", () => smithy(POST, { service: "lambda" }), "wrong-service"],
      ["a date 6 minutes old", () => smithy(POST, { signedAt: new Date(NOW.getTime() - 6 * MINUTE) }), "skew"],
      ["a date 6 minutes ahead", () => smithy(POST, { signedAt: new Date(NOW.getTime() + 6 * MINUTE) }), "skew"],
      [
        "a credential scope of another day",
        async () => withAuthorization(await smithy(POST), (a) => a.replace("/20250115/", "/20250114/")),
        "scope-date-mismatch",
      ],
      [
        "temporary credentials without their token",
        () => smithy(POST, { keys: { ...keysOf(SESSION), sessionToken: undefined } }),
        "token-mismatch",
      ],
      [
        "a token with a long-term key",
        () => smithy(POST, { keys: { ...keysOf(LONG_TERM), sessionToken: "made-up-token" } }),
        "token-mismatch",
      ],
      [
        "another token, signed",
        () => smithy(POST, { keys: { ...keysOf(SESSION), sessionToken: `${SESSION.sessionToken}x` } }),
        "token-mismatch",
      ],
      [
        "the token added after signing",
        async () =>
          withHeader(
            await smithy(POST, { keys: { ...keysOf(SESSION), sessionToken: undefined } }),
            "X-Amz-Security-Token",
            SESSION.sessionToken as string,
          ),
        "unsigned-header",
      ],
      ["expired temporary credentials", () => smithy(POST, { keys: keysOf(EXPIRED) }), "expired-credentials"],
      [
        "x-amz-content-sha256 UNSIGNED-PAYLOAD",
        () => smithy({ ...POST, headers: { ...POST.headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } }),
        "unsigned-payload",
      ],
      [
        "a streaming payload",
        () =>
          smithy({
            ...POST,
            headers: { ...POST.headers, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" },
          }),
        "unsigned-payload",
      ],
      [
        "Host left out of SignedHeaders",
        () => smithy(POST, { unsignableHeaders: new Set(["host"]) }),
        "missing-signed-header",
      ],
      [
        "a signed header removed",
        async () => withoutHeader(await smithy(POST), "content-type"),
        "missing-signed-header",
      ],
      ["X-Amz-Date removed", async () => withoutHeader(await smithy(POST), "x-amz-date"), "missing-date"],
      [
        "X-Amz-Date not a date",
        async () => withHeader(withoutHeader(await smithy(POST), "x-amz-date"), "X-Amz-Date", "20250115T250000Z"),
        "malformed-date",
      ],
      [
        "no Authorization header",
        async () => withoutHeader(await smithy(POST), "authorization"),
        "missing-authorization",
      ],
      ["two Authorization headers", async () => twice(await smithy(POST), "authorization"), "malformed-authorization"],
      [
        "a signature in upper-case hex",
        async () =>
          withAuthorization(await smithy(POST), (a) =>
            a.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`),
          ),
        "malformed-authorization",
      ],
      [
        "SignedHeaders out of order",
        async () =>
          withAuthorization(await smithy(POST), (a) =>
            a.replace("SignedHeaders=content-type;host", "SignedHeaders=host;content-type"),
          ),
        "malformed-authorization",
      ],
      [
        "an Authorization header and X-Amz-Signature in the query",
        async () => ({ ...(await smithy(POST)), rawQuery: `view=a%20b&plus=a%2Bb&X-Amz-Signature=${"0".repeat(64)}` }),
        "malformed-authorization",
      ],
      [
        "a presigned URL whose query was changed",
        async () => {
          const req = await presigned();
          return { ...req, rawQuery: req.rawQuery.replace("experiment_id=1", "experiment_id=2") };
        },
        "bad-signature",
      ],
      [
        "a presigned URL with a parameter twice",
        async () => {
          const req = await presigned();
          return { ...req, rawQuery: `${req.rawQuery}&X-Amz-Expires=60` };
        },
        "malformed-authorization",
      ],
      [
        "a presigned URL without X-Amz-Expires",
        async () => {
          const req = await presigned();
          return { ...req, rawQuery: req.rawQuery.replace(/&?X-Amz-Expires=\d+/, "") };
        },
        "malformed-authorization",
      ],
      [
        "a bad percent escape in the query",
        async () => ({ ...(await smithy(POST)), rawQuery: "view=a%2&plus=a%2Bb" }),
        "malformed-request",
      ],
    ];

    it.each(tamperings)("refuses %s", async (_, tamper, reason) => {
      // Prepare
      const req = await tamper();
      // Act
      const result = verify(req);
      // Assess
      expectRejected(result, reason, req);
    });

    it("answers API Gateway's messages", async () => {
      // Prepare
      const good = await smithy(POST);
      // Act
      const results = {
        missing: verify(withoutHeader(good, "authorization")),
        unknown: verify(await smithy(POST, { keys: { ...keysOf(LONG_TERM), accessKeyId: "AKIAUNKNOWNEXAMPLE00" } })),
        signature: verify({ ...good, method: "PUT" }),
        old: verify(await smithy(POST, { signedAt: new Date(NOW.getTime() - 6 * MINUTE) })),
        ahead: verify(await smithy(POST, { signedAt: new Date(NOW.getTime() + 6 * MINUTE) })),
      };
      // Assess
      expect(results.missing).toMatchObject({ message: "Missing Authentication Token" });
      expect(results.unknown).toMatchObject({ message: "The security token included in the request is invalid." });
      expect(results.signature).toMatchObject({ message: SIGV4_MESSAGES.badSignature });
      expect(results.old).toMatchObject({
        message: "Signature expired: 20250115T115430Z is now earlier than 20250115T115530Z (20250115T120030Z - 5 min.)",
      });
      expect(results.ahead).toMatchObject({
        message:
          "Signature not yet current: 20250115T120630Z is still later than 20250115T120530Z (20250115T120030Z + 5 min.)",
      });
    });

    it("accepts a date exactly 5 minutes old and one exactly 5 minutes ahead", async () => {
      // Prepare
      const old = await smithy(POST, { signedAt: new Date(NOW.getTime() - 5 * MINUTE) });
      const ahead = await smithy(POST, { signedAt: new Date(NOW.getTime() + 5 * MINUTE) });
      // Act
      const results = [verify(old), verify(ahead)];
      // Assess
      for (const result of results) expectAccepted(result, LONG_TERM.principal);
    });

    it("honours maxSkewMs", async () => {
      // Prepare
      const req = await smithy(POST, { signedAt: new Date(NOW.getTime() - 2 * MINUTE) });
      // Act
      const result = verify(req, { ...OPTIONS, maxSkewMs: MINUTE });
      // Assess
      expectRejected(result, "skew", req);
      expect(result).toMatchObject({ message: expect.stringContaining("(20250115T120030Z - 1 min.)") });
    });

    it("accepts the same query with a space written '+' instead of '%20', as the backend reads both alike", async () => {
      // Prepare
      const req = await smithy(POST);
      // Act
      const result = verify({ ...req, rawQuery: req.rawQuery.replace("a%20b", "a+b") });
      // Assess
      expectAccepted(result, LONG_TERM.principal);
    });
  });

  describe("never throws on malformed input (seeded fast-check)", () => {
    const FRAGMENTS = [
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256 ",
      " ",
      "\t",
      ",",
      ", ",
      "=",
      "/",
      ";",
      "Credential=",
      "SignedHeaders=",
      "Signature=",
      LONG_TERM.accessKeyId,
      "20250115",
      "us-east-1",
      "execute-api",
      "aws4_request",
      "host;x-amz-date",
      "a".repeat(64),
      "0".repeat(64),
      "%",
      "\u0000",
      "é",
      "\uD800",
    ];
    let good: SignedRequest;
    beforeAll(async () => {
      good = await smithy(SMITHY_REQUESTS[1]![1]);
    });

    it("refuses a few hundred random Authorization headers", () => {
      const arbitrary = fc.oneof(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc
          .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })), { maxLength: 30 })
          .map((parts) => parts.join("")),
      );
      fc.assert(
        fc.property(arbitrary, (authorization) => {
          const result = verify(withAuthorization(good, () => authorization));
          return !result.ok && result.status === 403 && !SECRETS.some((s) => result.message.includes(s));
        }),
        { seed: 20250115, numRuns: 400 },
      );
    });

    it("refuses mutated Authorization headers unless only whitespace changed", () => {
      const authorization = headerOf(good, "authorization");
      const mutation = fc.record({
        at: fc.nat({ max: authorization.length }),
        remove: fc.nat({ max: 3 }),
        insert: fc.string({ unit: "binary", maxLength: 3 }),
      });
      fc.assert(
        fc.property(mutation, ({ at, remove, insert }) => {
          const mutated = authorization.slice(0, at) + insert + authorization.slice(at + remove);
          const result = verify(withAuthorization(good, () => mutated));
          const whitespaceOnly = mutated.replace(/\s/g, "") === authorization.replace(/\s/g, "");
          return result.ok ? whitespaceOnly : result.status === 403;
        }),
        { seed: 20250116, numRuns: 400 },
      );
    });

    it("never throws for random paths, queries, dates and header lists", () => {
      const header = fc.tuple(
        fc.constantFrom(
          "x-amz-date",
          "date",
          "host",
          "x-amz-security-token",
          "x-amz-content-sha256",
          "authorization",
          "X-Amz-Foo",
        ),
        fc.string({ unit: "binary", maxLength: 40 }),
      );
      fc.assert(
        fc.property(
          fc.string({ unit: "binary", maxLength: 60 }),
          fc.string({ unit: "binary", maxLength: 60 }),
          fc.array(header, { maxLength: 4 }),
          (rawPath, rawQuery, extra) => {
            const result = verify({ ...good, rawPath, rawQuery, rawHeaders: [...good.rawHeaders, ...extra.flat()] });
            return typeof result.ok === "boolean";
          },
        ),
        { seed: 20250117, numRuns: 300 },
      );
    });
  });
});

describe("buildCanonicalUri", () => {
  it.each([
    ["/", "/"],
    ["/api/2.0/mlflow/runs/get", "/api/2.0/mlflow/runs/get"],
    ["/a%20b/c", "/a%2520b/c"],
    ["/a%2Fb", "/a%252Fb"],
    ["/a+b", "/a%2Bb"],
    ["/a:b@c!d", "/a%3Ab%40c%21d"],
    ["//a//b//", "/a/b/"],
    ["/a/./b/../c", "/a/c"],
    ["/a/..", "/"],
    ["/../..", "/"],
    ["/a/.", "/a"],
    ["/-._~", "/-._~"],
  ])("canonicalizes %s as %s", (raw, canonical) => {
    // Act
    const uri = buildCanonicalUri(raw);
    // Assess
    expect(uri).toBe(canonical);
  });

  it.each([["relative"], ["/a b"], ["/é"], ["/a\u0000"]])("refuses %j", (raw) => {
    // Act
    const uri = buildCanonicalUri(raw);
    // Assess
    expect(uri).toBeUndefined();
  });
});

describe("buildCanonicalQuery", () => {
  it.each([
    ["", ""],
    ["b=2&a=1", "a=1&b=2"],
    ["a=2&a=1&a=10", "a=1&a=10&a=2"],
    ["q=x+y", "q=x%20y"],
    ["q=x%20y", "q=x%20y"],
    ["q=a%2Bb", "q=a%2Bb"],
    ["q=a%2bb", "q=a%2Bb"],
    ["s=a/b", "s=a%2Fb"],
    ["s=a%2Fb", "s=a%2Fb"],
    ["u=%E2%9C%93", "u=%E2%9C%93"],
    ["bytes=%FF%00", "bytes=%FF%00"],
    ["e=&f", "e=&f="],
    ["a=1&&b=2&", "a=1&b=2"],
    ["v=a=b", "v=a%3Db"],
    ["k%20y=1&k+y=2", "k%20y=1&k%20y=2"],
    ["a-=2&a=1", "a=1&a-=2"],
    ["t=~._-!*'()", "t=~._-%21%2A%27%28%29"],
  ])("canonicalizes %j as %j", (raw, canonical) => {
    // Act
    const query = buildCanonicalQuery(raw);
    // Assess
    expect(query).toBe(canonical);
  });

  it.each([["a=%"], ["a=%2"], ["a=%zz"], ["a=é"], ["a=b c"]])("refuses %j", (raw) => {
    // Act
    const query = buildCanonicalQuery(raw);
    // Assess
    expect(query).toBeUndefined();
  });
});

/** A loopback server that records one request at a time as the gateway would see it. */
interface CaptureServer {
  readonly port: number;
  next(): Promise<SignedRequest>;
  close(): void;
}

async function captureServer(): Promise<CaptureServer> {
  let waiting: ((req: SignedRequest) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      waiting?.({
        method: req.method ?? "",
        ...splitTarget(req.url ?? ""),
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    next: () => new Promise((resolve) => (waiting = resolve)),
    close: () => server.close(),
  };
}

/** Sends the request line and headers exactly as given (Host included) over loopback. */
async function sendThrough(server: CaptureServer, req: SignedRequest): Promise<SignedRequest> {
  const received = server.next();
  await new Promise<void>((resolve, reject) => {
    const out = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        method: req.method,
        path: req.rawQuery ? `${req.rawPath}?${req.rawQuery}` : req.rawPath,
        headers: [...req.rawHeaders],
        setHost: false,
        agent: false,
      },
      (res) => res.resume().on("end", resolve),
    );
    out.on("error", reject);
    out.end(req.body);
  });
  return received;
}
