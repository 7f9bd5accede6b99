import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { AddressInfo } from "net";
import { Server } from "http";
import { parsePrincipals, Principal, principalStore } from "../../local/principals";
import { closeServer } from "../../common/http-server";
import {
  AssumeRolePolicy,
  buildAssumeRoleResponse,
  buildErrorResponse,
  createStsServer,
  decideAssumeRole,
  parseStsRequest,
  SessionStore,
  StsError,
  StsLogEntry,
  stsErrorOfSigV4,
  withSessions,
} from "../../local/sts";

const ACCOUNT = "000000000000";
const GROUPS = new Set(["admins", "readers", "model-approvers"]);
const { principals } = parsePrincipals(
  {
    version: 2,
    principals: [
      { name: "mlflow-admin", group: "admins", trustedBy: [{ principal: "data-science", externalId: "ext-1" }] },
      {
        name: "mlflow-reader",
        group: "readers",
        trustedBy: [{ principal: "data-science" }, { principal: "mlflow-admin" }],
      },
      { name: "data-science" },
    ],
  },
  GROUPS,
  "principals.json",
);
const byName = (name: string) => principals.find((p) => p.name === name) as Principal;
const POLICY: AssumeRolePolicy = {
  accountId: ACCOUNT,
  roles: new Map(principals.map((p) => [p.name, p])),
  minDurationSeconds: 900,
  maxDurationSeconds: 3600,
};
const arn = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;
const form = (o: Record<string, string>) => new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15", ...o });
const assume = (o: Record<string, string>) => {
  const r = parseStsRequest(form(o));
  if ("code" in r || r.action !== "AssumeRole") throw new Error(`not an AssumeRole: ${JSON.stringify(r)}`);
  return r;
};

describe("parseStsRequest", () => {
  test("reads AssumeRole's parameters", () => {
    expect(
      parseStsRequest(
        form({
          RoleArn: arn("mlflow-reader"),
          RoleSessionName: "job-1",
          DurationSeconds: "900",
          ExternalId: "ext-1",
          SourceIdentity: "alice",
        }),
      ),
    ).toEqual({
      action: "AssumeRole",
      roleArn: arn("mlflow-reader"),
      roleSessionName: "job-1",
      durationSeconds: 900,
      externalId: "ext-1",
      sourceIdentity: "alice",
    });
    expect(parseStsRequest(new URLSearchParams({ Action: "GetCallerIdentity", Version: "2011-06-15" }))).toEqual({
      action: "GetCallerIdentity",
    });
  });

  test("lists every constraint failure in AWS's words", () => {
    const r = parseStsRequest(
      form({ RoleSessionName: "bad name", DurationSeconds: "ten", ExternalId: "x" }),
    ) as StsError;
    expect(r).toMatchObject({ status: 400, code: "ValidationError", type: "Sender" });
    expect(r.message).toMatch(/^4 validation errors detected: /);
    expect(r.message).toContain("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    expect(r.message).toContain("Value 'bad name' at 'roleSessionName' failed to satisfy constraint");
    expect(r.message).toContain("at 'durationSeconds' failed to satisfy constraint: Member must be an integer");
    expect(r.message).toContain("at 'externalId' failed to satisfy constraint");
  });

  test("refuses other actions and versions, repeated parameters and session policies (ignoring them would grant more than asked)", () => {
    expect(parseStsRequest(new URLSearchParams({ Action: "GetSessionToken", Version: "2011-06-15" }))).toMatchObject({
      status: 400,
      code: "InvalidAction",
    });
    expect(parseStsRequest(new URLSearchParams({ Action: "AssumeRole", Version: "2010-01-01" }))).toMatchObject({
      status: 400,
      code: "InvalidAction",
    });
    expect(parseStsRequest(new URLSearchParams({ Version: "2011-06-15" }))).toMatchObject({
      status: 400,
      code: "MissingAction",
    });
    expect(
      parseStsRequest(new URLSearchParams("Action=AssumeRole&Version=2011-06-15&RoleArn=a&RoleArn=b")),
    ).toMatchObject({ status: 400, code: "InvalidParameterValue" });
    expect(parseStsRequest(form({ RoleArn: arn("mlflow-reader"), RoleSessionName: "s1", Policy: "{}" }))).toMatchObject(
      { status: 400, code: "ValidationError", message: expect.stringContaining("Session policies (Policy)") },
    );
    expect(
      parseStsRequest(
        form({
          RoleArn: arn("mlflow-reader"),
          RoleSessionName: "s1",
          "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/x",
        }),
      ),
    ).toMatchObject({ code: "ValidationError" });
  });
});

describe("decideAssumeRole", () => {
  const ds = { kind: "principal", name: "data-science" } as const;

  test("a trusted caller gets the role, for 3600 s by default (capped by the roles' maximum)", () => {
    expect(decideAssumeRole(ds, assume({ RoleArn: arn("mlflow-reader"), RoleSessionName: "s1" }), POLICY)).toEqual({
      ok: true,
      role: byName("mlflow-reader"),
      durationSeconds: 3600,
    });
    expect(
      decideAssumeRole(ds, assume({ RoleArn: arn("mlflow-reader"), RoleSessionName: "s1" }), {
        ...POLICY,
        maxDurationSeconds: 60,
        minDurationSeconds: 30,
      }),
    ).toMatchObject({ ok: true, durationSeconds: 60 });
    expect(
      decideAssumeRole(
        ds,
        assume({ RoleArn: arn("mlflow-admin"), RoleSessionName: "s1", ExternalId: "ext-1", DurationSeconds: "900" }),
        POLICY,
      ),
    ).toMatchObject({ ok: true, durationSeconds: 900 });
  });

  test("untrusted caller, wrong or missing ExternalId, unknown role, other account: the same AccessDenied naming caller and role", () => {
    const denied = (caller: Parameters<typeof decideAssumeRole>[0], o: Record<string, string>) =>
      decideAssumeRole(caller, assume({ RoleSessionName: "s1", ...o }), POLICY);
    const cases = [
      denied({ kind: "principal", name: "mlflow-reader" }, { RoleArn: arn("mlflow-admin") }),
      denied(ds, { RoleArn: arn("mlflow-admin"), ExternalId: "ext-2" }),
      denied(ds, { RoleArn: arn("mlflow-admin") }),
      denied(ds, { RoleArn: arn("no-such-role") }),
      denied(ds, { RoleArn: "arn:aws:iam::123456789012:role/mlflow-reader" }),
      denied(ds, { RoleArn: arn("data-science") }),
    ];
    for (const c of cases) expect(c).toMatchObject({ ok: false, error: { status: 403, code: "AccessDenied" } });
    expect(cases[0]).toMatchObject({
      error: {
        message: `User: arn:aws:iam::${ACCOUNT}:user/mlflow-reader is not authorized to perform: sts:AssumeRole on resource: ${arn("mlflow-admin")}`,
      },
    });
  });

  test("DurationSeconds outside the configured bounds, or over an hour when chaining roles, is a ValidationError", () => {
    const r = (caller: Parameters<typeof decideAssumeRole>[0], d: string, role = "mlflow-reader") =>
      decideAssumeRole(caller, assume({ RoleArn: arn(role), RoleSessionName: "s1", DurationSeconds: d }), {
        ...POLICY,
        maxDurationSeconds: 43_200,
      });
    expect(r(ds, "899")).toMatchObject({
      ok: false,
      error: { code: "ValidationError", message: expect.stringContaining("greater than or equal to 900") },
    });
    expect(r(ds, "43201")).toMatchObject({
      ok: false,
      error: {
        code: "ValidationError",
        message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      },
    });
    expect(r(ds, "43200")).toMatchObject({ ok: true });
    const session = { kind: "session", role: "mlflow-admin", sessionName: "s0" } as const;
    expect(r(session, "3600")).toMatchObject({ ok: true });
    expect(r(session, "3601")).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining("role chaining") },
    });
  });
});

describe("responses", () => {
  test("AssumeRole's XML holds the assumed-role ARN, the credentials and Expiration in whole seconds", () => {
    const store = new SessionStore(() => new Date("2026-01-02T03:04:05.678Z"));
    const s = store.issue("mlflow-reader", "job-1", 900)!;
    const xml = buildAssumeRoleResponse(ACCOUNT, s, "req-1");
    expect(xml).toMatch(/^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/);
    expect(xml).toContain(`<Arn>arn:aws:sts::${ACCOUNT}:assumed-role/mlflow-reader/job-1</Arn>`);
    expect(xml).toMatch(/<AssumedRoleId>AROA[A-Z2-7]{17}:job-1<\/AssumedRoleId>/);
    expect(xml).toMatch(/<AccessKeyId>ASIA[A-Z2-7]{16}<\/AccessKeyId>/);
    expect(xml).toContain(`<SessionToken>${s.sessionToken}</SessionToken>`);
    expect(xml).toContain("<Expiration>2026-01-02T03:19:05Z</Expiration>");
    expect(xml).toContain("<RequestId>req-1</RequestId>");
  });

  test("errors are AWS's ErrorResponse, the message escaped", () => {
    expect(
      buildErrorResponse({ status: 400, type: "Sender", code: "ValidationError", message: "a <b> & 'c'" }, "req-2"),
    ).toBe(
      [
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
        "  <Error>",
        "    <Type>Sender</Type>",
        "    <Code>ValidationError</Code>",
        "    <Message>a &lt;b&gt; &amp; &apos;c&apos;</Message>",
        "  </Error>",
        "  <RequestId>req-2</RequestId>",
        "</ErrorResponse>",
        "",
      ].join("\n"),
    );
  });

  test("SigV4 refusals map to STS's codes", () => {
    expect(stsErrorOfSigV4("missing-authorization", "")).toMatchObject({
      status: 403,
      code: "MissingAuthenticationToken",
    });
    expect(stsErrorOfSigV4("unknown-key", "")).toMatchObject({ status: 403, code: "InvalidClientTokenId" });
    expect(stsErrorOfSigV4("token-mismatch", "")).toMatchObject({ status: 403, code: "InvalidClientTokenId" });
    expect(stsErrorOfSigV4("expired-credentials", "")).toMatchObject({ status: 400, code: "ExpiredToken" });
    expect(stsErrorOfSigV4("bad-signature", "m")).toMatchObject({
      status: 403,
      code: "SignatureDoesNotMatch",
      message: "m",
    });
    expect(stsErrorOfSigV4("wrong-service", "m")).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(stsErrorOfSigV4("malformed-authorization", "m")).toMatchObject({ status: 400, code: "IncompleteSignature" });
  });
});

describe("SessionStore", () => {
  test("a session signs as its role with its token until it expires; expired ones are dropped after an hour; the store is bounded", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const store = new SessionStore(() => new Date(now), ACCOUNT, 2);
    const s = store.issue("mlflow-reader", "a1", 60)!;
    expect(store.find(s.accessKeyId)).toEqual({
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      principal: "mlflow-reader",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/mlflow-reader/a1`,
      sessionToken: s.sessionToken,
      expiresAt: new Date(now + 60_000),
    });
    store.issue("mlflow-reader", "a2", 60);
    expect(store.issue("mlflow-reader", "a3", 60)).toBeUndefined();
    now += 60_000 + 60 * 60 * 1000 + 1;
    expect(store.issue("mlflow-reader", "a4", 60)).toBeDefined();
    expect(store.find(s.accessKeyId)).toBeUndefined();
    expect(store.size).toBe(1);
  });

  test("withSessions finds ASIA keys among sessions, others among principals; the group is the role's", () => {
    const store = new SessionStore(() => new Date());
    const s = store.issue("mlflow-reader", "a1", 60)!;
    const both = withSessions(principalStore(principals), store);
    expect(both.find(s.accessKeyId)?.principal).toBe("mlflow-reader");
    expect(both.find(byName("data-science").accessKeyId)?.principal).toBe("data-science");
    expect(both.groupOf("mlflow-reader")).toBe("readers");
    expect(both.groupOf("data-science")).toBeUndefined();
  });
});

describe("the STS listener (signed with @smithy/signature-v4)", () => {
  let server: Server;
  let base: string;
  let now = Date.now();
  const logs: StsLogEntry[] = [];
  const sessions = new SessionStore(() => new Date(now));

  beforeAll(async () => {
    server = createStsServer({
      region: "us-east-1",
      accountId: ACCOUNT,
      principals,
      credentials: withSessions(principalStore(principals), sessions),
      sessions,
      minDurationSeconds: 30,
      maxDurationSeconds: 60,
      log: (e) => void logs.push(e),
      now: () => new Date(now),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => closeServer(server));

  async function call(
    params: Record<string, string>,
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    service = "sts",
  ) {
    const body = new URLSearchParams({ Version: "2011-06-15", ...params }).toString();
    const url = new URL(base);
    let request = new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body,
    });
    if (credentials)
      request = (await new SignatureV4({ service, region: "us-east-1", credentials, sha256: Sha256 }).sign(request, {
        signingDate: new Date(now),
      })) as HttpRequest;
    const res = await fetch(`${base}/`, { method: "POST", headers: request.headers, body });
    return { status: res.status, text: await res.text() };
  }
  const keysOf = (name: string) => ({
    accessKeyId: byName(name).accessKeyId,
    secretAccessKey: byName(name).secretAccessKey,
  });
  const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

  test("data-science assumes mlflow-reader; the session's keys work for GetCallerIdentity until they expire", async () => {
    // Act
    const r = await call(
      { Action: "AssumeRole", RoleArn: arn("mlflow-reader"), RoleSessionName: "job-1" },
      keysOf("data-science"),
    );
    // Assess
    expect(r.status).toBe(200);
    const session = {
      accessKeyId: tag(r.text, "AccessKeyId")!,
      secretAccessKey: tag(r.text, "SecretAccessKey")!,
      sessionToken: tag(r.text, "SessionToken")!,
    };
    expect(new Date(tag(r.text, "Expiration")!).getTime()).toBe(Math.floor(now / 1000) * 1000 + 60_000);
    const who = await call({ Action: "GetCallerIdentity" }, session);
    expect(tag(who.text, "Arn")).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/mlflow-reader/job-1`);
    const log = logs.find((e) => e.action === "sts:AssumeRole")!;
    expect(log).toMatchObject({
      decision: "allow",
      status: 200,
      principal: `arn:aws:iam::${ACCOUNT}:user/data-science`,
      issuedAccessKeyId: session.accessKeyId,
    });
    expect(JSON.stringify(logs)).not.toContain(session.secretAccessKey);
    expect(JSON.stringify(logs)).not.toContain(session.sessionToken);

    now += 61_000;
    const expired = await call({ Action: "GetCallerIdentity" }, session);
    expect(expired.status).toBe(400);
    expect(tag(expired.text, "Code")).toBe("ExpiredToken");
  });

  test("refusals: unsigned, unknown key, signed for another service, untrusted role, wrong ExternalId", async () => {
    const cases: [Promise<{ status: number; text: string }>, number, string][] = [
      [
        call({ Action: "AssumeRole", RoleArn: arn("mlflow-reader"), RoleSessionName: "s1" }),
        403,
        "MissingAuthenticationToken",
      ],
      [
        call({ Action: "GetCallerIdentity" }, { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "x".repeat(40) }),
        403,
        "InvalidClientTokenId",
      ],
      [call({ Action: "GetCallerIdentity" }, keysOf("data-science"), "execute-api"), 403, "SignatureDoesNotMatch"],
      [
        call({ Action: "AssumeRole", RoleArn: arn("mlflow-admin"), RoleSessionName: "s1" }, keysOf("mlflow-reader")),
        403,
        "AccessDenied",
      ],
      [
        call(
          { Action: "AssumeRole", RoleArn: arn("mlflow-admin"), RoleSessionName: "s1", ExternalId: "wrong" },
          keysOf("data-science"),
        ),
        403,
        "AccessDenied",
      ],
      [
        call(
          { Action: "AssumeRole", RoleArn: arn("mlflow-reader"), RoleSessionName: "s1", DurationSeconds: "61" },
          keysOf("data-science"),
        ),
        400,
        "ValidationError",
      ],
    ];
    for (const [pending, status, code] of cases) {
      const r = await pending;
      expect([r.status, tag(r.text, "Code")]).toEqual([status, code]);
    }
  });
});

test("a request with very many parameters is refused at once (a linear check: the STS shares the gateway's event loop)", () => {
  // Prepare: 20,000 distinct keys, about as many as a 64 KiB body holds.
  const params = new URLSearchParams([
    ["Action", "AssumeRole"],
    ["Version", "2011-06-15"],
    ...Array.from({ length: 20_000 }, (_, i) => [`k${i}`, "v"] as [string, string]),
  ]);

  // Act
  const started = performance.now();
  const result = parseStsRequest(params);
  const elapsedMs = performance.now() - started;

  // Assess: refused; the figure is printed, not asserted (speed is for benchmarks).
  expect(result).toMatchObject({ code: "InvalidParameterValue", message: "more than 64 parameters" });
  process.stderr.write(`sts: 20,000-parameter request refused in ${elapsedMs.toFixed(2)} ms\n`);
});
