import { verifySigV4 } from "../../../gateway/sigv4";
import { CliUsageError } from "../../../scripts/lib/cli-errors";
import {
  buildHttpRequest,
  buildSignPlan,
  escapeUri,
  formatResponseHead,
  looksLikeJson,
  parseHeader,
  regionFromUrl,
  requestTarget,
  SignArgs,
  signRequest,
} from "../../../scripts/lib/sign-request";

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const NOW = new Date("2026-11-24T12:00:00Z");
const args = (over: Partial<SignArgs>): SignArgs => ({
  headers: [],
  include: false,
  url: "http://127.0.0.1:8080/api/2.0/mlflow/experiments/search",
  ...over,
});
const body = (text: string) => Buffer.from(text, "utf8");

describe("parseHeader", () => {
  test.each([
    ["Content-Type: application/json", ["Content-Type", "application/json"]],
    ["X-Team:mlops", ["X-Team", "mlops"]],
    ["X-Empty:", ["X-Empty", ""]],
    ["X-Colon: a:b: c ", ["X-Colon", "a:b: c"]],
  ])("%j is a name and a trimmed value", (line, expected) => {
    // Act / Assess
    expect(parseHeader(line)).toEqual(expected);
  });

  test.each([
    ["X-Team mlops", 'must be "Name: value"'],
    [": value", 'must be "Name: value"'],
    ["X Team: mlops", "is not a valid HTTP header name"],
    ["X-Team: a\r\nX-Evil: b", "line break"],
    ["Authorization: AWS4-HMAC-SHA256 ...", "is set by the signer or the transport"],
    ["host: evil.example", "is set by the signer or the transport"],
    ["X-Amz-Date: 20260101T000000Z", "is set by the signer or the transport"],
    ["Content-Length: 5", "is set by the signer or the transport"],
  ])("%j is a usage error: %s", (line, message) => {
    // Act / Assess
    expect(() => parseHeader(line)).toThrow(CliUsageError);
    expect(() => parseHeader(line)).toThrow(message);
  });
});

describe("buildSignPlan", () => {
  test("GET by default, POST with -d, -X wins and is upper-cased; execute-api by default", () => {
    // Act / Assess
    expect(buildSignPlan(args({})).method).toBe("GET");
    expect(buildSignPlan(args({ data: "{}" })).method).toBe("POST");
    expect(buildSignPlan(args({ data: "{}", method: "patch" })).method).toBe("PATCH");
    expect(buildSignPlan(args({})).service).toBe("execute-api");
  });

  test("-d reads inline text, @file, or @- for stdin", () => {
    // Act / Assess
    expect(buildSignPlan(args({ data: "a=1" })).body).toEqual({ kind: "inline", text: "a=1" });
    expect(buildSignPlan(args({ data: "@body.json" })).body).toEqual({ kind: "file", path: "body.json" });
    expect(buildSignPlan(args({ data: "@-" })).body).toEqual({ kind: "stdin" });
    expect(buildSignPlan(args({})).body).toEqual({ kind: "none" });
  });

  test.each([
    [{ url: "not a url" }, "is not a URL"],
    [{ url: "ftp://example.com/x" }, "must be http or https"],
    [
      { url: "http://abc.execute-api.eu-west-1.amazonaws.com/prod/api" },
      "http:// is accepted only for a loopback address like the local gateway; use https:// for abc.execute-api.eu-west-1.amazonaws.com",
    ],
    [{ url: "https://user:pw@example.com/x" }, "must not hold a user or password"],
    [{ url: "https://example.com/x#frag" }, "#fragment"],
    [{ method: "GE T" }, "is not an HTTP method"],
    [{ region: "mars" }, '--region "mars" is not an AWS region'],
    [{ service: "Execute API" }, "is not an AWS service name"],
    [{ profile: "a b" }, "is not a profile name"],
    [{ data: "@" }, "-d @ needs a file name"],
    [{ headers: ["bad"] }, 'a -H header must be "Name: value" (got 3 characters without a ":")'],
  ])("%j is a usage error", (over, message) => {
    // Act / Assess
    expect(() => buildSignPlan(args(over as Partial<SignArgs>))).toThrow(CliUsageError);
    expect(() => buildSignPlan(args(over as Partial<SignArgs>))).toThrow(message);
  });
});

describe("regionFromUrl and looksLikeJson", () => {
  test("an API Gateway default host names its region; other hosts do not", () => {
    // Act / Assess
    expect(regionFromUrl(new URL("https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/api"))).toBe("eu-west-1");
    expect(regionFromUrl(new URL("https://abc.execute-api.cn-north-1.amazonaws.com.cn/p"))).toBe("cn-north-1");
    expect(regionFromUrl(new URL("https://mlflow.example.com/api"))).toBeUndefined();
    expect(regionFromUrl(new URL("https://abc.execute-api.eu-west-1.amazonaws.com.evil.example/"))).toBeUndefined();
  });

  test("a body is JSON-like when its first non-blank character opens an object or array", () => {
    // Act / Assess
    expect(looksLikeJson(body(' \n{"a":1}'))).toBe(true);
    expect(looksLikeJson(body("[1]"))).toBe(true);
    expect(looksLikeJson(body("a=1&b=2"))).toBe(false);
    expect(looksLikeJson(body(""))).toBe(false);
  });
});

describe("buildHttpRequest", () => {
  test("host from the URL; content type JSON for a JSON body, bytes for another, the user's when given", () => {
    // Act
    const json = buildHttpRequest(buildSignPlan(args({ data: "{}" })), body("{}"));
    const form = buildHttpRequest(buildSignPlan(args({ data: "a=1" })), body("a=1"));
    const given = buildHttpRequest(
      buildSignPlan(args({ data: "{}", headers: ["content-type: text/plain"] })),
      body("{}"),
    );
    const none = buildHttpRequest(buildSignPlan(args({})), body(""));
    // Assess
    expect(json.headers).toEqual({ host: "127.0.0.1:8080", "content-type": "application/json" });
    expect(form.headers["content-type"]).toBe("application/octet-stream");
    expect(given.headers).toEqual({ host: "127.0.0.1:8080", "content-type": "text/plain" });
    expect(none.headers).toEqual({ host: "127.0.0.1:8080" });
    expect(none.body).toBeUndefined();
    expect(json.port).toBe(8080);
  });

  test("repeated headers are joined with a comma, whatever their case", () => {
    // Act
    const req = buildHttpRequest(buildSignPlan(args({ headers: ["X-Tag: a", "x-tag: b"] })), body(""));
    // Assess
    expect(req.headers["X-Tag"]).toBe("a,b");
  });

  test("the query is decoded (+ is a space, repeated keys kept) and sent encoded the way SigV4 canonicalises it", () => {
    // Prepare
    const url =
      "http://127.0.0.1:8080/api/2.0/mlflow/registered-models/search?filter=name+LIKE+%27a%25%27&tag=x&tag=y&flag&max_results=5";
    // Act
    const req = buildHttpRequest(buildSignPlan(args({ url })), body(""));
    // Assess
    expect(req.query).toEqual({ filter: "name LIKE 'a%'", tag: ["x", "y"], flag: "", max_results: "5" });
    expect(requestTarget(req)).toBe(
      "/api/2.0/mlflow/registered-models/search?filter=name%20LIKE%20%27a%25%27&tag=x&tag=y&flag=&max_results=5",
    );
  });

  test("the path is sent as given, percent-encoding kept", () => {
    // Act
    const req = buildHttpRequest(
      buildSignPlan(args({ url: "http://localhost/get-artifact/a%20b/c?path=x" })),
      body(""),
    );
    // Assess
    expect(requestTarget(req)).toBe("/get-artifact/a%20b/c?path=x");
  });

  test("escapeUri keeps only RFC 3986 unreserved characters", () => {
    // Act / Assess
    expect(escapeUri("a-b_c.d~e f!'()*+/=")).toBe("a-b_c.d~e%20f%21%27%28%29%2A%2B%2F%3D");
  });
});

describe("signRequest: what is signed is what is sent (checked by the gateway's own SigV4 verifier)", () => {
  const store = {
    find: (id: string) =>
      id === CREDENTIALS.accessKeyId
        ? { ...CREDENTIALS, principal: "tester", arn: "arn:aws:iam::000000000000:user/tester" }
        : undefined,
  };

  async function signAndVerify(
    over: Partial<SignArgs>,
    payload: string,
    tamper?: (wire: { target: string; headers: Record<string, string>; body: Buffer }) => void,
  ) {
    const plan = buildSignPlan(args(over));
    const signed = await signRequest(
      buildHttpRequest(plan, body(payload)),
      CREDENTIALS,
      "us-east-1",
      "execute-api",
      NOW,
    );
    const wire = {
      target: requestTarget(signed),
      headers: { ...signed.headers } as Record<string, string>,
      body: body(payload),
    };
    tamper?.(wire);
    const [rawPath, rawQuery = ""] = wire.target.split(/\?(.*)/s);
    return verifySigV4(
      {
        method: signed.method,
        rawPath: rawPath as string,
        rawQuery,
        rawHeaders: Object.entries(wire.headers).flat(),
        body: wire.body,
      },
      store,
      { region: "us-east-1", now: () => NOW },
    );
  }

  test.each([
    [
      "a GET with a query holding spaces, quotes, % and repeated keys",
      { url: "http://127.0.0.1:8080/api/2.0/mlflow/registered-models/search?filter=name+LIKE+%27a%25%27&tag=x&tag=y" },
      "",
    ],
    [
      "a POST with a JSON body",
      { url: "http://127.0.0.1:8080/api/2.0/mlflow/experiments/create", data: '{"name":"x"}' },
      '{"name":"x"}',
    ],
    [
      "a percent-encoded path and a custom header",
      {
        url: "http://127.0.0.1:8080/api/2.0/mlflow-artifacts/artifacts/1/a%20b.txt",
        method: "PUT",
        headers: ["X-Team: ml ops"],
      },
      "bytes",
    ],
  ])("%s verifies", async (_name, over, payload) => {
    // Act
    const result = await signAndVerify(over, payload);
    // Assess
    expect(result).toEqual({
      ok: true,
      principal: "tester",
      arn: "arn:aws:iam::000000000000:user/tester",
      accessKeyId: CREDENTIALS.accessKeyId,
    });
  });

  test("the signature covers the body, the query and the signed headers", async () => {
    // Act
    const body2 = await signAndVerify(
      { data: '{"name":"x"}' },
      '{"name":"x"}',
      (w) => (w.body = Buffer.from('{"name":"y"}')),
    );
    const query = await signAndVerify({ url: "http://127.0.0.1:8080/a?x=1" }, "", (w) => (w.target = "/a?x=2"));
    const header = await signAndVerify({ headers: ["X-Team: a"] }, "", (w) => (w.headers["X-Team"] = "b"));
    // Assess
    for (const r of [body2, query, header]) expect(r.ok).toBe(false);
  });

  test("a session token is sent and signed", async () => {
    // Act
    const signed = await signRequest(
      buildHttpRequest(buildSignPlan(args({})), body("")),
      { ...CREDENTIALS, sessionToken: "session-token" },
      "us-east-1",
      "execute-api",
      NOW,
    );
    // Assess
    expect(signed.headers["x-amz-security-token"]).toBe("session-token");
    expect(signed.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });
});

describe("formatResponseHead", () => {
  test("the status line and the headers as received, then a blank line", () => {
    // Act
    const head = formatResponseHead({
      status: 403,
      statusText: "Forbidden",
      httpVersion: "1.1",
      rawHeaders: ["Content-Type", "application/json", "x-amzn-RequestId", "r1"],
    });
    // Assess
    expect(head).toBe("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nx-amzn-RequestId: r1\r\n\r\n");
  });
});
