import { BodyFacts, BodyLimits, planBody, vetBody, VetContext } from "../../guard/body-plan";
import { DEFAULT_GRAPHQL_LIMITS } from "../../guard/graphql";

const LIMITS: BodyLimits = { maxBodyBytes: 10 * 1024 * 1024, graphql: DEFAULT_GRAPHQL_LIMITS };
const facts = (over: Partial<BodyFacts>): BodyFacts => ({
  action: "SearchRuns",
  method: "POST",
  routeSource: "flask",
  contentType: "application/json",
  contentEncoding: undefined,
  contentLength: "20",
  hasBody: true,
  audited: false,
  ...over,
});
const context = (over: Partial<VetContext> = {}): VetContext => ({
  action: "SearchRuns",
  contentType: "application/json",
  contentEncoding: undefined,
  caller: "alice",
  params: {},
  limits: LIMITS,
  ...over,
});

describe("planBody", () => {
  test("a read without a body, or a FastAPI read, streams", () => {
    expect(planBody(facts({ method: "GET", contentLength: undefined, hasBody: false }), LIMITS)).toEqual({
      kind: "stream",
    });
    expect(planBody(facts({ routeSource: "fastapi", action: "DownloadArtifact" }), LIMITS)).toEqual({ kind: "stream" });
  });

  test("a JSON body to a Flask route is read strictly, reserving its declared length", () => {
    expect(planBody(facts({}), LIMITS)).toMatchObject({
      kind: "read",
      checks: { strict: true, graphql: false, otlp: false, stamps: false, promotion: false },
      limit: LIMITS.maxBodyBytes,
      reserve: 20,
    });
  });

  test("the UI's raw artifact upload is not JSON, whatever its Content-Type says", () => {
    expect(planBody(facts({ action: "UploadArtifact" }), LIMITS)).toEqual({ kind: "stream" });
  });

  test("an audited JSON write is read for the ids it names; a stamped route always", () => {
    expect(planBody(facts({ routeSource: "fastapi", action: "X", audited: true }), LIMITS)).toMatchObject({
      kind: "read",
      checks: { strict: false, stamps: false },
    });
    expect(planBody(facts({ action: "CreateRun" }), LIMITS)).toMatchObject({
      kind: "read",
      checks: { stamps: true, strict: true },
    });
  });

  test("GraphQL: only POST, read with its own smaller limit; a declared length past it is refused before reading", () => {
    expect(planBody(facts({ action: "GraphQL", method: "GET" }), LIMITS)).toMatchObject({
      kind: "refuse",
      refusal: { reason: "graphql-get", answer: { status: 405 } },
    });
    expect(planBody(facts({ action: "GraphQL" }), LIMITS)).toMatchObject({
      kind: "read",
      checks: { graphql: true },
      limit: DEFAULT_GRAPHQL_LIMITS.maxBytes,
    });
    expect(planBody(facts({ action: "GraphQL", contentLength: "70000" }), LIMITS)).toMatchObject({
      kind: "refuse",
      refusal: { reason: "graphql-too-large", answer: { status: 413 } },
    });
  });

  test("a chunked body reserves the whole limit; a compressed OTLP export also what it may inflate to", () => {
    expect(planBody(facts({ contentLength: undefined }), LIMITS)).toMatchObject({ reserve: LIMITS.maxBodyBytes });
    expect(
      planBody(
        facts({
          action: "ExportOtelTraces",
          routeSource: "fastapi",
          contentType: "application/x-protobuf",
          contentEncoding: "gzip",
        }),
        LIMITS,
      ),
    ).toMatchObject({ kind: "read", checks: { otlp: true }, reserve: 20 + LIMITS.maxBodyBytes });
  });

  test("a declared length that is not a number is never read", () => {
    expect(planBody(facts({ contentLength: "abc" }), LIMITS)).toMatchObject({
      kind: "refuse",
      refusal: { reason: "payload-too-large" },
    });
  });
});

describe("vetBody", () => {
  const strict = { otlp: false, graphql: false, stamps: false, strict: true, promotion: false };
  const lenient = { otlp: false, graphql: false, stamps: false, strict: false, promotion: false };

  test.each([
    ['"abc"', "not-an-object"],
    ["[]", "not-an-object"],
    ['{"max_results":1e400}', "non-finite-number"],
    ["{", "not-json"],
  ])("strict: %s is refused as %s", (text, reason) => {
    expect(vetBody(strict, Buffer.from(text), context())).toMatchObject({ ok: false, refusal: { reason } });
  });

  test("an audited body that is not JSON goes on as it is; an empty one reads as {}", () => {
    expect(vetBody(lenient, Buffer.from("{"), context())).toEqual({ ok: true, body: Buffer.from("{") });
    expect(vetBody(strict, Buffer.alloc(0), context())).toEqual({ ok: true, body: Buffer.alloc(0), json: {} });
  });

  test("a GraphQL refusal keeps the client's JSON for the audit line", () => {
    const json = { query: "{" };
    expect(
      vetBody({ ...lenient, graphql: true }, Buffer.from(JSON.stringify(json)), context({ action: "GraphQL" })),
    ).toEqual({
      ok: false,
      refusal: expect.objectContaining({ reason: "graphql-unparsable", json }),
    });
  });

  test("a stamped route gets the caller written in; an integer beyond 2^53 is refused rather than rounded", () => {
    const ok = vetBody(
      { ...strict, stamps: true },
      Buffer.from('{"experiment_id":"1"}'),
      context({ action: "CreateRun" }),
    );
    expect(ok).toMatchObject({ ok: true, json: { user_id: "alice", experiment_id: "1" } });
    expect(
      vetBody(
        { ...strict, stamps: true },
        Buffer.from('{"experiment_id":"1","start_time":9007199254740993}'),
        context({ action: "CreateRun" }),
      ),
    ).toMatchObject({ ok: false, refusal: { reason: "inexact-number" } });
  });

  test("without a caller (a public route) nothing is stamped", () => {
    const body = Buffer.from('{"experiment_id":"1"}');
    expect(vetBody({ ...strict, stamps: true }, body, context({ action: "CreateRun", caller: undefined }))).toEqual({
      ok: true,
      body,
      json: { experiment_id: "1" },
    });
  });
});
