import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { pathProblem } from "../../guard/request-target";
import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { expectRefused, mlflowState, RawResponse, refusedByGuard, sendRaw, signHeaders } from "./support/attack";
import { pathTricks } from "./support/tricks";

// What API Gateway lets through and MLflow must never act on, against the real local stack: each attack
// goes through the emulated API Gateway (which passes on what AWS passes on), and straight to the guard
// with the headers API Gateway would have mapped (as if it had forwarded it). The guard refuses each
// with a 400; MLflow, read on its private port, is unchanged.

let t: TestStack;
let adminToken: string;
let before: string;
const admin = () => t.stack.principals.find((p) => p.name === "mlflow-admin")!;

beforeAll(async () => {
  t = await startTestStack();
  adminToken = await demoAccessToken(t, "admin");
  before = await mlflowState(t);
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const gateway = () => t.stack.summary.gatewayUrl;
const guard = () => t.stack.summary.guardPrivateUrl;
const CREATE = "/ajax-api/2.0/mlflow/experiments/create";
const BODY = JSON.stringify({ name: "must-not-exist" });

/**
 * The identity API Gateway maps for the demo admin on a UI route (the contract's headers, exact spelling),
 * calling from `sourceIp` (on AWS the address the caller reached API Gateway from: never loopback).
 */
function mappedAdmin(method: string, path: string, sourceIp = "203.0.113.9"): [string, string][] {
  return [
    ["x-mlflow-gate-request-id", "AtTaCkAtTaCk01E="],
    ["x-mlflow-gate-auth", "cognito"],
    ["x-mlflow-gate-principal", "00000000-0000-4000-8000-000000000000"],
    ["x-mlflow-gate-username", "admin"],
    ["x-mlflow-gate-groups", "admins"],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path],
    ["x-mlflow-gate-source-ip", sourceIp],
    ["Authorization", "-"],
    ["Content-Type", "application/json"],
  ];
}

async function expectGuardRefused(r: RawResponse, reason: string | RegExp): Promise<void> {
  expect(r.status).toBe(400);
  expect(refusedByGuard(r)).toBe(true);
  expect((JSON.parse(r.body) as { reason: string }).reason).toMatch(reason);
  expect(await mlflowState(t)).toBe(before);
}

describe("forged identity headers", () => {
  test.each(["X-Mlflow-Gate-Groups", "X-MLFLOW-GATE-GROUPS", "x-mlflow-gate-Groups"])(
    "%s beside an admin's own: refused by the guard through the gateway and directly",
    async (name) => {
      // Act
      const through = await sendRaw(gateway(), {
        method: "POST",
        target: CREATE,
        headers: [
          ["Authorization", `Bearer ${adminToken}`],
          ["Content-Type", "application/json"],
          [name, "readers"],
        ],
        body: BODY,
      });
      const direct = await sendRaw(guard(), {
        method: "POST",
        target: CREATE,
        headers: [...mappedAdmin("POST", CREATE), [name, "readers"]],
        body: BODY,
      });
      // Assess
      await expectGuardRefused(through, "identity-header-spelling");
      await expectGuardRefused(direct, "identity-header-spelling");
    },
  );

  test("the contract's own spelling from a client is replaced by the API's mapping, never trusted", async () => {
    // A reader claims admins in the exact mapped spelling: API Gateway overwrites it; the write stays denied.
    const token = await demoAccessToken(t, "reader");
    const r = await sendRaw(gateway(), {
      method: "POST",
      target: CREATE,
      headers: [
        ["Authorization", `Bearer ${token}`],
        ["Content-Type", "application/json"],
        ["x-mlflow-gate-groups", "admins"],
      ],
      body: BODY,
    });
    await expectRefused(t, r, before);
    expect(r.status).toBe(403);
  });
});

describe("a second Authorization header in another letter case", () => {
  // API Gateway spells every copy `Authorization` and keys its authorizer cache on the identity source:
  // the request is refused (two tokens on a miss), or decided as the holder of the cached first token.
  test("through the gateway: refused on a miss, and never decided by the second token on a hit", async () => {
    // Prepare: a reader's token, cached by a read
    const readerToken = await demoAccessToken(t, "reader");
    const headersOf = (first: string, second: string): [string, string][] => [
      ["Authorization", `Bearer ${first}`],
      ["authorization", `Bearer ${second}`],
      ["Content-Type", "application/json"],
    ];
    // A token the authorizer has not seen yet: a fresh sign-in of the admin.
    const fresh = await demoAccessToken(t, "admin");
    const miss = await sendRaw(gateway(), {
      method: "POST",
      target: CREATE,
      headers: headersOf(fresh, readerToken),
      body: BODY,
    });
    await sendRaw(gateway(), {
      method: "POST",
      target: "/ajax-api/2.0/mlflow/experiments/search",
      headers: [
        ["Authorization", `Bearer ${readerToken}`],
        ["Content-Type", "application/json"],
      ],
      body: "{}",
    });
    // Act: the reader's cached token first, the admin's second
    const hit = await sendRaw(gateway(), {
      method: "POST",
      target: CREATE,
      headers: headersOf(readerToken, adminToken),
      body: BODY,
    });
    // Assess
    expect(miss.status).toBe(401);
    await expectRefused(t, hit, before);
    expect(hit.status).toBe(403);
  });

  test("directly, as if API Gateway had passed both tokens on: refused by the guard", async () => {
    const r = await sendRaw(guard(), {
      method: "POST",
      target: CREATE,
      headers: [
        ...mappedAdmin("POST", CREATE),
        ["authorization", `Bearer ${adminToken}`],
        ["AUTHORIZATION", "Bearer b"],
      ],
      body: BODY,
    });
    await expectGuardRefused(r, "two-credentials");
  });
});

describe("every path trick of the suite MLflow could read as another path, as an admin (who may call any route)", () => {
  // The others (a trailing slash, a query, letter case...) are no trick to MLflow: test/security/paths-and-methods.test.ts.
  const rest = "2.0/mlflow/experiments/create";
  const isOdd = (target: string) =>
    !target.startsWith("/") || pathProblem(target.split("?")[0]!.split("#")[0]!) !== undefined;
  const odd = pathTricks(() => "http://127.0.0.1:1").filter(([, trick]) => isOdd(trick("ajax-api", rest)));
  const tricks = pathTricks(() => t.stack.summary.mlflowPrivateUrl).filter(([name]) => odd.some(([n]) => n === name));

  test("the list is not empty", () => expect(tricks.length).toBeGreaterThan(15));

  test.each(tricks)(
    "%s: refused by the guard, through the gateway (if it gets there) and directly",
    async (_n, trick) => {
      // Prepare
      const target = trick("ajax-api", rest);
      const path = target.startsWith("/") ? target.split("?")[0]!.split("#")[0]! : target;
      // Act
      const through = await sendRaw(gateway(), {
        method: "POST",
        target,
        headers: [
          ["Authorization", `Bearer ${adminToken}`],
          ["Content-Type", "application/json"],
        ],
        body: BODY,
      });
      const direct = await sendRaw(guard(), { method: "POST", target, headers: mappedAdmin("POST", path), body: BODY });
      // Assess: the gateway refuses a target it cannot read at all (400); whatever it forwards, the guard refuses
      await expectGuardRefused(direct, /./);
      if (refusedByGuard(through)) await expectGuardRefused(through, /./);
      else await expectRefused(t, through, before);
    },
  );
});

describe("a presigned-query SigV4 request", () => {
  test("API Gateway accepts it; the guard refuses the credentials in the URL, in both places", async () => {
    // Prepare: smithy's presign, as an SDK's presigned URL is made
    const url = new URL(gateway());
    const signer = new SignatureV4({
      credentials: { accessKeyId: admin().accessKeyId, secretAccessKey: admin().secretAccessKey },
      region: t.stack.summary.region,
      service: "execute-api",
      sha256: Sha256,
    });
    const presigned = await signer.presign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/api/2.0/mlflow/experiments/create",
        headers: { host: url.host },
        body: BODY,
      }),
    );
    const query = Object.entries(presigned.query as Record<string, string>)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");
    const target = `/api/2.0/mlflow/experiments/create?${query}`;
    // Act
    const through = await sendRaw(gateway(), {
      method: "POST",
      target,
      headers: [["Content-Type", "application/json"]],
      body: BODY,
    });
    // Assess
    await expectGuardRefused(through, "presigned-query");
    expect(through.body).not.toContain(admin().secretAccessKey);
  });
});

describe("a request other than the one API Gateway authorized", () => {
  test("a mismatched method/path header pair, straight to the guard: refused", async () => {
    const method = await sendRaw(guard(), {
      method: "POST",
      target: CREATE,
      headers: mappedAdmin("GET", CREATE),
      body: BODY,
    });
    const path = await sendRaw(guard(), {
      method: "POST",
      target: CREATE,
      headers: mappedAdmin("POST", "/ajax-api/2.0/mlflow/experiments/search"),
      body: BODY,
    });
    await expectGuardRefused(method, "method-mismatch");
    await expectGuardRefused(path, "path-mismatch");
  });

  // API Gateway forwards path parameters decoded: what it authorized as one artifact path segment reaches
  // MLflow as a climb. The emulator forwards it so; the guard sees the two paths differ.
  test("through the gateway: an encoded climb in an artifact path is refused by the guard", async () => {
    const headers = await signHeaders(t, "GET", "/api/2.0/mlflow-artifacts/artifacts/0%2F..%2F..%2Fmlflow.db", "", "", {
      accessKeyId: admin().accessKeyId,
      secretAccessKey: admin().secretAccessKey,
    });
    const r = await sendRaw(gateway(), {
      method: "GET",
      target: "/api/2.0/mlflow-artifacts/artifacts/0%2F..%2F..%2Fmlflow.db",
      headers,
    });
    await expectGuardRefused(r, /dot-segment|encoded-separator/);
  });
});

// MLflow's Assistant opens its localhost-only routes (project paths, skills written to the MLflow host) to a
// loopback client. uvicorn takes the client from the X-Forwarded-For of a loopback peer (its default
// forwarded_allow_ips), and the guard connects from loopback: MLflow must be told the caller's mapped address
// and nothing a client wrote. Straight to the guard, as API Gateway forwards an admin's request: the catalog
// routes PUT .../assistant/config to admins (class admin), the guard checks the identity, MLflow answers.
describe("the client address MLflow sees, on its Assistant's localhost-only route", () => {
  const CONFIG = "/ajax-api/3.0/mlflow/assistant/config";
  // A project path that does not exist: past its localhost check MLflow refuses it (400) before it writes its
  // configuration, so no case here changes the Assistant's configuration on this machine.
  const UPDATE = JSON.stringify({ projects: { "0": { location: "/nonexistent/mlflow-gate-assistant-test" } } });
  const update = (sourceIp: string, extra: [string, string][] = []) =>
    sendRaw(guard(), {
      method: "PUT",
      target: CONFIG,
      headers: [...mappedAdmin("PUT", CONFIG, sourceIp), ...extra],
      body: UPDATE,
    });

  test("the control: a caller mapped from loopback (the local stack's own browser) gets past MLflow's localhost check", async () => {
    const r = await update("127.0.0.1");
    expect(refusedByGuard(r)).toBe(false);
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/Project path does not exist/);
  });

  test("a caller mapped from elsewhere, without any address header of their own: MLflow's 403", async () => {
    const r = await update("203.0.113.9");
    expect(refusedByGuard(r)).toBe(false);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/only accessible from the same host/);
  });

  test.each([
    ["X-Forwarded-For", "127.0.0.1"],
    ["x-forwarded-for", "127.0.0.1"],
    ["X-FORWARDED-FOR", "::1"],
    ["X-Forwarded-For", "203.0.113.9, 127.0.0.1"],
    ["Forwarded", "for=127.0.0.1"],
    ["X-Real-IP", "127.0.0.1"],
  ])("a caller mapped from elsewhere who sends %s: %s gets MLflow's 403, not its 200", async (name, value) => {
    const r = await update("203.0.113.9", [[name, value]]);
    expect(refusedByGuard(r)).toBe(false);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/only accessible from the same host/);
  });
});
