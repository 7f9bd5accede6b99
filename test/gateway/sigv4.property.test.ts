import fc from "fast-check";
import { CredentialStore, SigV4Credential, SignedRequest, verifySigV4 } from "../../gateway/sigv4";
import { PythonCase, signWithPython, signWithSmithy, SmithyRequest } from "./support/signers";

// Properties: the gateway's SigV4 canonicalisation agrees with the real signers on generated
// requests. @smithy/signature-v4 runs in-process under fast-check; botocore signs one generated
// batch in a single Python process. Every request a signer signs must verify; the same request
// with one byte of its body, path or query changed must not.

const SIGNED_AT = new Date("2025-01-15T12:00:00Z");
const OPTIONS = { region: "us-east-1", now: () => new Date(SIGNED_AT.getTime() + 30_000) };
const KEY: SigV4Credential = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  principal: "mlflow-admin",
  arn: "arn:aws:iam::000000000000:user/mlflow-admin",
};
const STORE: CredentialStore = { find: (id) => (id === KEY.accessKeyId ? KEY : undefined) };

/** Text with the characters that encoders disagree on: space, '+', '/', '%', '=', '&', quotes, unicode. */
const awkwardText = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(..."abcXYZ019-_.~") },
    { weight: 3, arbitrary: fc.constantFrom(..." +/%=&?#;:@!$'()*,[]\"<>\\^`{|}") },
    { weight: 1, arbitrary: fc.constantFrom("é", "✓", "😀", "\u00a0", "ü") },
  ),
  maxLength: 10,
});
/** A path segment as a client puts it on the wire: unreserved characters kept, the rest percent-encoded. */
const wireSegment = fc.oneof(
  {
    weight: 4,
    arbitrary: awkwardText.filter((s) => s !== "" && s !== "." && s !== "..").map((s) => encodeURIComponent(s)),
  },
  { weight: 1, arbitrary: fc.constantFrom("api", "2.0", "mlflow", "mlflow-artifacts", "artifacts", "runs", "search") },
);
const wirePath = fc.array(wireSegment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join("/")}`);
const queryPairs = fc.array(
  fc.tuple(
    awkwardText.filter((k) => k !== ""),
    awkwardText,
  ),
  { maxLength: 5 },
);
const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.json().map((j) => Buffer.from(j)),
);
const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE");
const headerValue = fc.string({ unit: fc.constantFrom(..."ab c\t1=;,/"), maxLength: 12 }).map((v) => `x${v}x`);

const flip = (b: Buffer, at: number): Buffer => {
  const copy = Buffer.from(b);
  copy[at % copy.length] = (copy[at % copy.length] as number) ^ 0x01;
  return copy;
};

describe("SigV4 canonicalisation agrees with @smithy/signature-v4", () => {
  test("every generated request smithy signs verifies, and one changed byte does not", async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        wirePath,
        queryPairs,
        body,
        fc.dictionary(fc.constantFrom("x-amz-meta-a", "x-custom", "content-type"), headerValue),
        fc.nat(),
        async (m, path, pairs, b, headers, at) => {
          // Prepare
          const query: Record<string, string[]> = {};
          for (const [k, v] of pairs) (query[k] ??= []).push(v);
          const request: SmithyRequest = { method: m, path, query, headers, body: b };
          // Act
          const signed = await signWithSmithy(request, { keys: KEY, signedAt: SIGNED_AT });
          const result = verifySigV4(signed, STORE, OPTIONS);
          const tamperedBody = b.length > 0 ? verifySigV4({ ...signed, body: flip(b, at) }, STORE, OPTIONS) : undefined;
          const tamperedPath = verifySigV4({ ...signed, rawPath: `${signed.rawPath}x` }, STORE, OPTIONS);
          // Assess
          expect(result).toEqual({
            ok: true,
            principal: "mlflow-admin",
            arn: KEY.arn,
            accessKeyId: KEY.accessKeyId,
          });
          if (tamperedBody) expect(tamperedBody.ok).toBe(false);
          expect(tamperedPath.ok).toBe(false);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe("SigV4 canonicalisation agrees with botocore", () => {
  // Prepare: one batch of generated requests, signed by botocore in one Python process
  const generated = fc.sample(fc.tuple(method, wirePath, queryPairs, body), { numRuns: 250, seed: 4242 });
  const cases: PythonCase[] = generated.map(([m, path, pairs, b], i) => ({
    id: `case-${i}`,
    signer: "botocore",
    method: m,
    url: `http://localhost:8080${path}`,
    params: pairs,
    body: b,
    keys: KEY,
    signedAt: SIGNED_AT,
  }));
  const signed = signWithPython(cases);

  test("every generated request botocore signs verifies", () => {
    // Act
    const failures = cases
      .map((c) => [c, verifySigV4(signed.get(c.id) as SignedRequest, STORE, OPTIONS)] as const)
      .filter(([, r]) => !r.ok);
    // Assess
    expect(
      failures.slice(0, 3).map(([c, r]) => ({ method: c.method, url: c.url, params: c.params, result: r })),
    ).toEqual([]);
    expect(signed.size).toBe(cases.length);
  });

  test("a query value changed after botocore signed: refused", () => {
    const withQuery = cases.filter((c) => (signed.get(c.id) as SignedRequest).rawQuery !== "");
    expect(withQuery.length).toBeGreaterThan(cases.length / 3);
    for (const c of withQuery) {
      const req = signed.get(c.id) as SignedRequest;
      expect(verifySigV4({ ...req, rawQuery: `${req.rawQuery}&injected=1` }, STORE, OPTIONS).ok).toBe(false);
    }
  });
});
