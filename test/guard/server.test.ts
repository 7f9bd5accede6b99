import { RawAnswer, rawRequest } from "../support/raw-request";
import { IncomingHttpHeaders, Server } from "http";
import { AddressInfo, connect, Socket } from "net";
import { RouteMatcher } from "../../authorizer/core/catalog";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { parseGroupFile } from "../../authorizer/core/group-file";
import { PolicySet } from "../../authorizer/core/policy-set";
import { closeServer } from "../../common/http-server";
import { AuditRecord } from "../../guard/audit";
import { createGuardServer, KEEP_ALIVE_MS } from "../../guard/server";
import { GuardWorkspaces } from "../../guard/workspaces";
import { CATALOG_FILE, GROUPS_DIR } from "../../project/paths";
import { SeenRequest, startRecordingUpstream } from "../support/recording-upstream";

// The guard against a recording upstream on port 0 (it stands for MLflow on loopback; the integration
// and security suites run the guard in front of real MLflow).

type Seen = SeenRequest;

const matcher = new RouteMatcher(loadRouteCatalog(CATALOG_FILE));
let upstream: Server;
let upstreamUrl: URL;
let seen: Seen[] = [];
let answer: { status: number; body: string } = { status: 200, body: "{}" };
/** Answers by request, where one answer for all will not do (the guard's own registry lookups). */
let answerFor: ((r: Seen) => { status: number; body: string; delayMs?: number } | undefined) | undefined;
let guard: Server;
let base: string;
let audit: AuditRecord[] = [];

const MAX_BODY_BYTES = 64 * 1024;

/** The repository's groups, with model approvers restricted as a promotion block says (and one role's group). */
const PROMOTION = {
  policySet: PolicySet.fromFiles(loadRouteCatalog(CATALOG_FILE), [
    ...loadGroupFiles(GROUPS_DIR).filter((f) => f.name !== "model-approvers"),
    parseGroupFile(
      "model-approvers",
      "policies/groups/model-approvers.yaml",
      "description: a\nextends: readers\nallow: ['class:registry-promote']\npromotion:\n  stages: { to: [Staging] }\n  aliases: { allow: ['challenger-*'] }\n",
    ),
    parseGroupFile(
      "registry-stewards",
      "policies/groups/registry-stewards.yaml",
      "description: s\nextends: readers\nallow: ['class:registry-write', 'class:registry-promote']\npromotion:\n  stages: { to: [Staging, Archived], from: [None, Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion] }\n",
    ),
  ]),
  iamGroups: new Map([
    ["role/Approver", "model-approvers"],
    ["role/Steward", "registry-stewards"],
  ]),
};

async function startGuard(
  options: {
    upstream?: URL;
    stagePathPrefix?: string;
    auditReads?: boolean;
    maxBufferedBytes?: number;
    requestTimeoutMs?: number;
    workspaces?: GuardWorkspaces;
  } = {},
) {
  guard = createGuardServer({
    upstream: options.upstream ?? upstreamUrl,
    stagePathPrefix: options.stagePathPrefix ?? "",
    matcher,
    maxBodyBytes: MAX_BODY_BYTES,
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.workspaces !== undefined ? { workspaces: options.workspaces } : {}),
    audit: (r) => void audit.push(r),
    auditReads: options.auditReads ?? false,
    promotion: PROMOTION,
  });
  await new Promise<void>((resolve) => guard.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(guard.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  ({ server: upstream, url: upstreamUrl } = await startRecordingUpstream(
    (r) => seen.push(r),
    () => {
      const a: { status: number; body: string; delayMs?: number } = answerFor?.(seen.at(-1)!) ?? answer;
      return { status: a.status, headers: { "content-type": "application/json" }, body: a.body, delayMs: a.delayMs };
    },
  ));
  await startGuard();
});
afterAll(async () => {
  await closeServer(guard);
  await closeServer(upstream);
});
beforeEach(() => {
  seen = [];
  audit = [];
  answer = { status: 200, body: "{}" };
  answerFor = undefined;
});

/** The caller's address as API Gateway maps it (`context.identity.sourceIp`): never loopback on AWS. */
const SOURCE_IP = "203.0.113.9";

/** What API Gateway maps for a Cognito user (the contract's headers, exact spelling). */
function cognito(method: string, path: string, username = "alice", groups = "admins"): [string, string][] {
  return [
    ["x-mlflow-gate-request-id", "AbCdEfGhIjKlMnO="],
    ["x-mlflow-gate-auth", "cognito"],
    ["x-mlflow-gate-principal", "sub-alice"],
    ["x-mlflow-gate-username", username],
    ["x-mlflow-gate-groups", groups],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path],
    ["x-mlflow-gate-source-ip", SOURCE_IP],
    ["Authorization", "-"],
  ];
}
/** What API Gateway maps for a SigV4 caller. */
function iam(
  method: string,
  path: string,
  arn = "arn:aws:sts::123456789012:assumed-role/SageMakerRole/job-1",
): [string, string][] {
  return [
    ["x-mlflow-gate-request-id", "PqRsTuVwXyZaBcD="],
    ["x-mlflow-gate-auth", "iam"],
    ["x-mlflow-gate-principal", arn],
    ["x-mlflow-gate-username", arn],
    ["x-mlflow-gate-groups", "(iam)"],
    ["x-mlflow-gate-method", method],
    ["x-mlflow-gate-path", path],
    ["x-mlflow-gate-source-ip", "10.0.1.23"],
    ["Authorization", "-"],
    ["X-Amz-Security-Token", "-"],
    ["X-Amz-Date", "20260101T000000Z"],
  ];
}

function send(method: string, target: string, headers: [string, string][], body?: string): Promise<RawAnswer> {
  return rawRequest(new URL(base), method, target, headers, body);
}

const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;
const SEARCH = "/ajax-api/2.0/mlflow/experiments/search";
const CREATE_RUN = "/api/2.0/mlflow/runs/create";

describe("what reaches MLflow", () => {
  test("a Cognito user's read: forwarded without our headers or credentials, and not audited", async () => {
    // Act
    const r = await send("POST", SEARCH, [...cognito("POST", SEARCH), ["Content-Type", "application/json"]], "{}");

    // Assess
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    const names = seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n.startsWith("x-mlflow-gate-") || n === "authorization")).toEqual([]);
    expect(seen[0]!.headers.host).toBe(upstreamUrl.host);
    expect(seen[0]!.body.toString()).toBe("{}");
    expect(audit).toEqual([]);
  });

  test("a SigV4 caller's CreateRun: stamped with the caller, audited with the ids MLflow assigned", async () => {
    // Prepare
    answer = { status: 200, body: JSON.stringify({ run: { info: { run_id: "run-1", experiment_id: "7" } } }) };
    const body = JSON.stringify({
      experiment_id: "7",
      user_id: "somebody-else",
      tags: [{ key: "mlflow.user", value: "root" }],
    });

    // Act
    const r = await send("POST", CREATE_RUN, [...iam("POST", CREATE_RUN), ["Content-Type", "application/json"]], body);

    // Assess
    expect(r.status).toBe(200);
    const sent = JSON.parse(seen[0]!.body.toString());
    expect(sent).toEqual({
      user_id: "assumed-role/SageMakerRole/job-1",
      tags: [{ key: "mlflow.user", value: "assumed-role/SageMakerRole/job-1" }],
      experiment_id: "7",
    });
    expect(Number(seen[0]!.headers["content-length"])).toBe(Buffer.byteLength(seen[0]!.body));
    expect(seen[0]!.headers["x-amz-date"]).toBeUndefined();
    expect(seen[0]!.headers["x-amz-security-token"]).toBeUndefined();
    expect(audit).toEqual([
      expect.objectContaining({
        requestId: "PqRsTuVwXyZaBcD=",
        surface: "iam",
        caller: "assumed-role/SageMakerRole/job-1",
        sourceIp: "10.0.1.23",
        action: "CreateRun",
        resources: { experiment: "7", run: "run-1" },
        status: 200,
        decision: "forwarded",
      }),
    ]);
  });

  test("a body the guard reads but does not rewrite reaches MLflow byte for byte", async () => {
    // Arrange: LogBatch has a rule (no creator tag), and this one passes it unchanged.
    const target = "/api/2.0/mlflow/runs/log-batch";
    const body = '{"run_id":"r","metrics":[{"key":"k","value":12345678901234567890,"timestamp":1,"step":0.0}]}';

    // Act
    const r = await send("POST", target, [...iam("POST", target), ["Content-Type", "application/json"]], body);

    // Assess
    expect(r.status).toBe(200);
    expect(seen[0]!.body.toString()).toBe(body);
  });

  test("a public route without identity (the NLB's health check) is forwarded and not audited", async () => {
    const r = await send("GET", "/health", []);
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(audit).toEqual([]);
  });

  test("the source address API Gateway mapped is the one address header MLflow gets", async () => {
    // Act
    const r = await send("POST", SEARCH, cognito("POST", SEARCH), "{}");

    // Assess
    expect(r.status).toBe(200);
    const raw = seen[0]!.rawHeaders;
    expect(raw.filter((n, i) => i % 2 === 0 && /^(forwarded|x-real-ip|x-forwarded-.*)$/i.test(n))).toEqual([
      "x-forwarded-for",
    ]);
    expect(seen[0]!.headers["x-forwarded-for"]).toBe(SOURCE_IP);
  });

  // MLflow's Assistant opens its localhost-only routes to a loopback client, and uvicorn believes
  // X-Forwarded-For from the guard's loopback connection: no client address header may reach it.
  test.each([
    ["X-Forwarded-For", "127.0.0.1"],
    ["x-forwarded-for", "127.0.0.1"],
    ["X-FORWARDED-FOR", "::1"],
    ["x-Forwarded-For", "127.0.0.1, 127.0.0.1"],
    ["Forwarded", "for=127.0.0.1;proto=http"],
    ["X-Real-IP", "127.0.0.1"],
    ["X-Forwarded-Host", "127.0.0.1:5000"],
    ["X-Forwarded-Proto", "http"],
    ["X-Forwarded-Port", "5000"],
    ["X-Forwarded-Prefix", "/"],
  ])("a client's %s never reaches MLflow; the mapped address does", async (name, value) => {
    // Act
    const r = await send("POST", SEARCH, [...cognito("POST", SEARCH), [name, value], [name, value]], "{}");

    // Assess
    expect(r.status).toBe(200);
    const raw = seen[0]!.rawHeaders;
    const address = raw.flatMap((n, i) =>
      i % 2 === 0 && /^(forwarded|x-real-ip|x-forwarded-.*)$/i.test(n) ? [[n, raw[i + 1]]] : [],
    );
    expect(address).toEqual([["x-forwarded-for", SOURCE_IP]]);
  });

  test("on a public route, where API Gateway maps nothing, MLflow is told the guard's peer, not the client's claim", async () => {
    const r = await send("GET", "/health", [
      ["X-Forwarded-For", "203.0.113.200"],
      ["X-Real-IP", "203.0.113.201"],
    ]);
    expect(r.status).toBe(200);
    const raw = seen[0]!.rawHeaders;
    expect(raw.filter((n, i) => i % 2 === 0 && /^(forwarded|x-real-ip|x-forwarded-.*)$/i.test(n))).toEqual([
      "x-forwarded-for",
    ]);
    expect(seen[0]!.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("with the switch on, reads are audited too", async () => {
    await closeServer(guard);
    await startGuard({ auditReads: true });
    try {
      await send("POST", SEARCH, cognito("POST", SEARCH), "{}");
      expect(audit).toEqual([
        expect.objectContaining({ action: "SearchExperiments", caller: "alice", decision: "forwarded" }),
      ]);
    } finally {
      await closeServer(guard);
      await startGuard();
    }
  });

  test("behind an execute-api host, the stage in the authorized path is expected and taken off", async () => {
    await closeServer(guard);
    await startGuard({ stagePathPrefix: "/prod" });
    try {
      const ok = await send("POST", SEARCH, cognito("POST", `/prod${SEARCH}`), "{}");
      const bad = await send("POST", SEARCH, cognito("POST", SEARCH), "{}");
      expect([ok.status, bad.status]).toEqual([200, 400]);
      expect(json(bad).reason).toBe("path-mismatch");
    } finally {
      await closeServer(guard);
      await startGuard();
    }
  });
});

describe("with teams (real MLflow with workspaces: workspaces.mlflow.test.ts)", () => {
  const WORKSPACES: GuardWorkspaces = { reachable: () => new Set(["team-a"]), mayManage: () => false };
  const LIST = "/ws/team-a/ajax-api/3.0/mlflow/workspaces";

  test.each([
    ["not JSON", "<html>"],
    ["not MLflow's shape", JSON.stringify({ workspaces: [{ title: "team-b" }] })],
  ])("a workspace list the guard cannot filter is a 502, never passed on: %s", async (_why, body) => {
    await closeServer(guard);
    await startGuard({ workspaces: WORKSPACES });
    try {
      answer = { status: 200, body };
      const r = await send("GET", LIST, [
        ...cognito("GET", LIST, "alice", "team-a-members"),
        ["x-mlflow-gate-workspace", "team-a"],
      ]);
      expect(r.status).toBe(502);
      expect(json(r).reason).toBe("workspace-list-unreadable");
      expect(r.body).not.toContain("team-b");
      expect(seen.map((q) => [q.url, q.headers["x-mlflow-workspace"]])).toEqual([
        ["/ajax-api/3.0/mlflow/workspaces", "team-a"],
      ]);
    } finally {
      await closeServer(guard);
      await startGuard();
    }
  });

  test("without teams, a path under /ws/ is MLflow's to answer, and a mapped team is refused", async () => {
    const path = "/ws/team-a/ajax-api/2.0/mlflow/experiments/search";
    const plain = await send("POST", path, cognito("POST", path), "{}");
    const mapped = await send(
      "POST",
      SEARCH,
      [...cognito("POST", SEARCH), ["x-mlflow-gate-workspace", "team-a"]],
      "{}",
    );
    expect(plain.status).toBe(200);
    expect(seen.map((q) => q.url)).toEqual([path]);
    expect(seen[0]!.headers["x-mlflow-workspace"]).toBeUndefined();
    expect([mapped.status, json(mapped).reason]).toEqual([400, "workspace-identity-unexpected"]);
  });
});

describe("what the guard refuses, before MLflow sees anything", () => {
  const refused = async (
    r: { status: number; headers: IncomingHttpHeaders; body: string },
    reason: string,
    status = 400,
  ) => {
    expect(r.status).toBe(status);
    expect(r.headers["x-mlflow-gate-refused-by"]).toBe("guard");
    expect(json(r)).toMatchObject({ reason, message: expect.stringMatching(/^mlflow-gate: /) });
    expect(seen).toEqual([]);
    expect(audit.at(-1)).toMatchObject({ decision: "refused", reason, status });
  };

  test.each(["X-Mlflow-Gate-Groups", "X-MLFLOW-GATE-GROUPS", "x-mlflow-gate-Groups"])(
    "a forged %s beside the mapped identity",
    async (name) => {
      await refused(
        await send("POST", SEARCH, [...cognito("POST", SEARCH, "alice", "readers"), [name, "admins"]], "{}"),
        "identity-header-spelling",
      );
    },
  );

  test("two tokens: a second Authorization header in another letter case beside a client's own", async () => {
    await refused(
      await send(
        "POST",
        SEARCH,
        [
          ...cognito("POST", SEARCH),
          ["X-Authorization-Unused", "x"],
          ["authorization", "Bearer stolen"],
          ["AUTHORIZATION", "Bearer mine"],
        ],
        "{}",
      ),
      "two-credentials",
    );
  });

  test("an authenticated route without the mapped source address, or with one that is not an IP address", async () => {
    const without = cognito("POST", SEARCH).filter(([n]) => n !== "x-mlflow-gate-source-ip");
    await refused(await send("POST", SEARCH, without, "{}"), "identity-incomplete");
    for (const value of ["127.0.0.1, 203.0.113.9", "localhost", "::1%lo"]) {
      await refused(
        await send("POST", SEARCH, [...without, ["x-mlflow-gate-source-ip", value]], "{}"),
        "source-ip-malformed",
      );
    }
  });

  test("a refusal after the caller was read names them and their address; before, the request id is API Gateway's only on an authenticated route", async () => {
    // A method other than the authorized one: the caller is known.
    await refused(await send("POST", SEARCH, cognito("GET", SEARCH), "{}"), "method-mismatch");
    expect(audit.at(-1)).toMatchObject({ requestId: "AbCdEfGhIjKlMnO=", caller: "alice", sourceIp: SOURCE_IP });
    // A forged identity on a public route: neither the client's request id nor its address is recorded.
    await refused(
      await send("GET", "/health", [
        ["x-mlflow-gate-request-id", "AbCdEfGhIjKlMnO="],
        ["x-mlflow-gate-source-ip", "198.51.100.7"],
      ]),
      "identity-on-public-route",
    );
    expect(audit.at(-1)!.requestId).not.toBe("AbCdEfGhIjKlMnO=");
    expect(audit.at(-1)!.sourceIp).toBeUndefined();
    // A request id that is not an id's shape is refused, and the audit line names an id of the guard's own.
    const odd = cognito("POST", SEARCH).filter(([n]) => n !== "x-mlflow-gate-request-id");
    await refused(
      await send("POST", SEARCH, [...odd, ["x-mlflow-gate-request-id", "a b"]], "{}"),
      "identity-malformed",
    );
    expect(audit.at(-1)!.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a presigned-query SigV4 request: its credentials would land in MLflow's access log", async () => {
    const target = `${CREATE_RUN}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101&X-Amz-Signature=abc`;
    await refused(await send("POST", target, iam("POST", CREATE_RUN), "{}"), "presigned-query");
  });

  test("a method or path other than the authorized one", async () => {
    await refused(
      await send(
        "DELETE",
        "/api/2.0/mlflow/experiments/delete",
        iam("GET", "/api/2.0/mlflow/experiments/delete"),
        "{}",
      ),
      "method-mismatch",
    );
    seen = [];
    await refused(
      await send("POST", "/api/2.0/mlflow/experiments/delete", iam("POST", "/api/2.0/mlflow/experiments/search"), "{}"),
      "path-mismatch",
    );
  });

  test.each([
    ["//api/2.0/mlflow/runs/create", "empty-segment"],
    ["/api/2.0/mlflow/experiments/../runs/create", "dot-segment"],
    ["/api/2.0/mlflow/runs%2Fcreate", "encoded-separator"],
    ["/api/2.0/mlflow/runs;a=b/create", "path-parameter"],
  ])("the path trick %s", async (target, reason) => {
    await refused(await send("POST", target, iam("POST", target), "{}"), reason);
  });

  test("an authenticated route without identity (someone who reached the guard without API Gateway)", async () => {
    await refused(await send("POST", CREATE_RUN, [["Content-Type", "application/json"]], "{}"), "identity-missing");
  });

  test("an identity of the other surface than the route's", async () => {
    await refused(await send("POST", CREATE_RUN, cognito("POST", CREATE_RUN), "{}"), "surface-mismatch");
  });

  test("a GET with a body", async () => {
    const target = "/ajax-api/2.0/mlflow/experiments/get?experiment_id=1";
    await refused(
      await send("GET", target, cognito("GET", "/ajax-api/2.0/mlflow/experiments/get"), '{"experiment_id":"2"}'),
      "get-with-body",
    );
  });

  test("a body MLflow would read otherwise on a route the guard rewrites", async () => {
    await refused(
      await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), '"{\\"user_id\\":\\"x\\"}"'),
      "not-an-object",
    );
  });

  test("a change of the creator tag", async () => {
    const target = "/api/2.0/mlflow/runs/set-tag";
    await refused(
      await send("POST", target, iam("POST", target), '{"run_id":"r","key":"mlflow.user","value":"x"}'),
      "stamp-refused",
    );
    expect(audit.at(-1)!.resources).toMatchObject({ run: "r", tag: "mlflow.user" });
  });

  test("a creator tag deleted by its key in the path", async () => {
    const target = "/api/2.0/mlflow/logged-models/m-1/tags/mlflow.user";
    await refused(await send("DELETE", target, iam("DELETE", target)), "stamp-refused");
    expect(audit.at(-1)!.resources).toMatchObject({ loggedModel: "m-1", tag: "mlflow.user" });
  });

  test("an integer beyond 2^53 in a body the guard rewrites (it would reach MLflow rounded)", async () => {
    await refused(
      await send(
        "POST",
        CREATE_RUN,
        iam("POST", CREATE_RUN),
        '{"experiment_id":"7","start_time":12345678901234567890}',
      ),
      "inexact-number",
    );
  });

  test("GraphQL: a GET, a body that is not a request, a document too large, too deep or unparsable", async () => {
    const GRAPHQL = "/graphql";
    const post = (body: string) => send("POST", GRAPHQL, cognito("POST", GRAPHQL), body);
    const get = await send("GET", GRAPHQL, cognito("GET", GRAPHQL));
    expect(get.status).toBe(405);
    expect(json(get)).toMatchObject({ reason: "graphql-get" });
    for (const body of ["{}", "[]", '"abc"']) {
      const r = await post(body);
      expect(r.status).toBe(400);
    }
    await refused(await post('{"query":"{"}'), "graphql-unparsable");
    await refused(await post(JSON.stringify({ query: `${"{ a ".repeat(40)}${"}".repeat(40)}` })), "graphql-too-deep");
    const large = await post(JSON.stringify({ query: `{ a${" ".repeat(70 * 1024)} }` }));
    expect(large.status).toBe(413);
    expect(json(large)).toMatchObject({ error_code: "RESOURCE_LIMIT_EXCEEDED", reason: "graphql-too-large" });
    expect(seen).toHaveLength(0);
    // A query within the limits reaches MLflow byte for byte.
    const ok = JSON.stringify({ query: "query Q { mlflowSearchRuns(input: {}) { runs { info { runId } } } }" });
    expect((await post(ok)).status).toBe(200);
    expect(seen.map((r) => r.body.toString())).toEqual([ok]);
  });

  test("a JSON body MLflow would answer with a 500: not JSON, not an object, a number beyond a double", async () => {
    const SEARCH_RUNS = "/ajax-api/2.0/mlflow/runs/search";
    const post = (body: string) =>
      send("POST", SEARCH_RUNS, [...cognito("POST", SEARCH_RUNS), ["Content-Type", "application/json"]], body);
    await refused(await post("abc"), "not-json");
    await refused(await post('"abc"'), "not-an-object");
    await refused(await post("[]"), "not-an-object");
    await refused(await post('{"max_results":1e400}'), "non-finite-number");
    expect(seen).toHaveLength(0);
    // A good one streams on, byte for byte; so does a body that does not say it is JSON (MLflow refuses it itself).
    expect((await post('{"experiment_ids":["0"]}')).status).toBe(200);
    const plain = await send("POST", SEARCH_RUNS, cognito("POST", SEARCH_RUNS), "abc");
    expect(plain.status).toBe(200);
    expect(seen.map((r) => r.body.toString())).toEqual(['{"experiment_ids":["0"]}', "abc"]);
  });

  test("a body over the limit: 413", async () => {
    await refused(
      await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), `{"x":"${"a".repeat(70 * 1024)}"}`),
      "payload-too-large",
      413,
    );
  });
});

/**
 * A client that sent a request's headers and the start of its body, and holds the rest back: what it
 * has read of the answer so far, and whether the connection closed.
 */
async function trickle(target: string, headers: [string, string][], declared: number) {
  const socket: Socket = connect(Number(new URL(base).port), "127.0.0.1");
  const state = { received: "", closed: false, socket };
  socket.on("data", (c: Buffer) => (state.received += c.toString()));
  socket.on("close", () => (state.closed = true));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const head = [`POST ${target} HTTP/1.1`, `Host: ${new URL(base).host}`, `Content-Length: ${declared}`];
  for (const [name, value] of headers) head.push(`${name}: ${value}`);
  socket.write(`${head.join("\r\n")}\r\n\r\n{"experiment_id":`);
  return state;
}

const until = async (check: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe("what the guard holds at once, and for how long", () => {
  afterEach(async () => {
    await closeServer(guard);
    await startGuard();
  });

  test("past its budget of bodies a request is answered 503 with Retry-After, and served once a body is let go", async () => {
    // Arrange: room for one body of the limit and a little more; a client holds one of the limit.
    await closeServer(guard);
    await startGuard({ maxBufferedBytes: MAX_BODY_BYTES + 1000 });
    const held = await trickle(CREATE_RUN, iam("POST", CREATE_RUN), MAX_BODY_BYTES);
    const body = `{"experiment_id":"7","run_name":"${"r".repeat(2000)}"}`;
    // Act
    await new Promise((r) => setTimeout(r, 100));
    const busy = await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), body);
    held.socket.destroy();
    await until(() => held.closed, 2000);
    const served = await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), body);
    // Assess
    expect(busy.status).toBe(503);
    expect(busy.headers["retry-after"]).toBe("1");
    expect(json(busy)).toMatchObject({ error_code: "TEMPORARILY_UNAVAILABLE", reason: "guard-busy" });
    expect(audit.find((r) => r.reason === "guard-busy")).toMatchObject({ status: 503, decision: "refused" });
    expect(served.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  test("a body that has not arrived within the request timeout gets Node's 408, and its share of the budget is let go", async () => {
    // Arrange: a budget of one body, which the slow client takes.
    await closeServer(guard);
    await startGuard({ maxBufferedBytes: MAX_BODY_BYTES, requestTimeoutMs: 1000 });
    const slow = await trickle(CREATE_RUN, iam("POST", CREATE_RUN), MAX_BODY_BYTES);
    // Act
    const cut = await until(() => slow.closed, 5000);
    const after = await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), '{"experiment_id":"7"}');
    // Assess
    expect(cut).toBe(true);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(after.status).toBe(200);
    expect(seen.map((r) => r.url)).toEqual([CREATE_RUN]);
  });
});

describe("when MLflow is not there", () => {
  test("a 502 in MLflow's error shape, audited", async () => {
    await closeServer(guard);
    await startGuard({ upstream: new URL("http://127.0.0.1:9") });
    try {
      const r = await send("POST", CREATE_RUN, iam("POST", CREATE_RUN), "{}");
      expect(r.status).toBe(502);
      expect(json(r)).toMatchObject({ error_code: "TEMPORARILY_UNAVAILABLE" });
      expect(audit.at(-1)).toMatchObject({ status: 502, decision: "forwarded", reason: "upstream-ECONNREFUSED" });
    } finally {
      await closeServer(guard);
      await startGuard();
    }
  });
});

test("idle client connections outlive the NLB's 350 s idle timeout, so the NLB is the one that ends them", () => {
  expect(guard.keepAliveTimeout).toBe(KEEP_ALIVE_MS);
  expect(KEEP_ALIVE_MS).toBeGreaterThan(350_000);
});

describe("promotion rules", () => {
  const TRANSITION = "/ajax-api/2.0/mlflow/model-versions/transition-stage";
  const ALIAS = "/api/2.0/mlflow/registered-models/alias";
  const VERSION = JSON.stringify({
    model_version: { current_stage: "None", tags: [{ key: "mlflow.user", value: "bob" }] },
  });
  const jsonType: [string, string] = ["Content-Type", "application/json"];
  /** A model approver's transition, as API Gateway forwards it. */
  const approverTransition = (body: string) =>
    send("POST", TRANSITION, [...cognito("POST", TRANSITION, "ann", "model-approvers"), jsonType], body);

  test("an approver's Production transition: 403 naming the rule; MLflow only answered the guard's own lookup", async () => {
    answer = { status: 200, body: VERSION };
    const body = JSON.stringify({ name: "m", version: "1", stage: "production" });
    const r = await approverTransition(body);

    expect(r.status).toBe(403);
    expect(json(r)).toMatchObject({
      error_code: "PERMISSION_DENIED",
      message: "mlflow-gate: policies/groups/model-approvers.yaml allows no promotion to Production",
      reason: "promotion-stage-not-allowed",
    });
    expect(seen.map((q) => `${q.method} ${q.url}`)).toEqual([
      "GET /api/2.0/mlflow/model-versions/get?name=m&version=1",
    ]);
    expect(audit.at(-1)).toMatchObject({ decision: "refused", reason: "promotion-stage-not-allowed", caller: "ann" });
  });

  test("the audit line of a refused promotion: the model, the version, the stage as sent and as read, the stage before, the message", async () => {
    answer = { status: 200, body: VERSION };
    const body = JSON.stringify({ name: "m", version: "1", stage: "production" });
    await approverTransition(body);

    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "TransitionModelVersionStage",
      caller: "ann",
      groups: ["model-approvers"],
      resources: { model: "m", version: "1", stage: "production" },
      promotion: {
        kind: "transition",
        to: "Production",
        from: "None",
        creator: "bob",
        message: "policies/groups/model-approvers.yaml allows no promotion to Production",
      },
      status: 403,
      decision: "refused",
      reason: "promotion-stage-not-allowed",
    });
    expect(JSON.stringify(audit[0])).not.toMatch(/Authorization|X-Amz/i);
  });

  test("the audit line of a promotion MLflow answered: what was asked and the stage before, no message", async () => {
    answer = { status: 200, body: VERSION };
    const body = JSON.stringify({ name: "m", version: "1", alias: "challenger-3" });
    const alias = `/ajax-api${ALIAS.slice("/api".length)}`;
    const r = await send("POST", alias, [...cognito("POST", alias, "ann", "model-approvers"), jsonType], body);

    expect(r.status).toBe(200);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "SetRegisteredModelAlias",
      resources: { model: "m", version: "1", alias: "challenger-3" },
      promotion: { kind: "set-alias", alias: "challenger-3", from: "None", creator: "bob" },
      status: 200,
      decision: "forwarded",
    });
    expect(audit[0]!.promotion).not.toHaveProperty("message");
  });

  test("a promotion refused because MLflow could not be read is audited with what was asked", async () => {
    answer = { status: 500, body: "<html>" };
    const body = JSON.stringify({ name: "m", version: "1", stage: "Staging" });
    await approverTransition(body);

    expect(audit.at(-1)).toMatchObject({
      decision: "refused",
      status: 502,
      resources: { model: "m", version: "1" },
      promotion: { kind: "transition", to: "Staging" },
    });
  });

  test("an approver's Staging transition is forwarded after the lookup", async () => {
    answer = { status: 200, body: VERSION };
    const body = JSON.stringify({ name: "m", version: "1", stage: "Staging" });
    const r = await approverTransition(body);
    expect(r.status).toBe(200);
    expect(seen.map((q) => q.method)).toEqual(["GET", "POST"]);
  });

  test("a role session's group comes from the role table; a DELETE's body is read whatever its Content-Type", async () => {
    const body = JSON.stringify({ name: "m", alias: "champion" });
    const r = await send(
      "DELETE",
      ALIAS,
      [...iam("DELETE", ALIAS, "arn:aws:sts::123456789012:assumed-role/Approver/job"), ["Content-Type", "text/plain"]],
      body,
    );
    expect(r.status).toBe(403);
    expect(json(r)).toMatchObject({ reason: "promotion-alias-not-allowed" });
    expect(seen).toEqual([]);
  });

  test("two decided writes of one model run one after the other: the second is read after the first's answer", async () => {
    // Without this an approver's archive, decided while the version is Archived, could land after a release
    // manager's move to Production (the decision read a state the other write was changing).
    answerFor = (q) =>
      q.method === "GET" ? { status: 200, body: VERSION } : { status: 200, body: "{}", delayMs: 300 };
    const transition = (stage: string) => approverTransition(JSON.stringify({ name: "m", version: "1", stage }));
    const [a, b] = await Promise.all([transition("Staging"), transition("Staging")]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(seen.map((q) => q.method)).toEqual(["GET", "POST", "GET", "POST"]);
  });

  test("a name MLflow refuses at the lookup: the client's 400 with MLflow's reason, nothing forwarded", async () => {
    answer = { status: 400, body: JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "bad name" }) };
    const r = await approverTransition(JSON.stringify({ name: "a/b", version: "1", stage: "Staging" }));
    expect(r.status).toBe(400);
    expect(json(r)).toMatchObject({
      error_code: "INVALID_PARAMETER_VALUE",
      reason: "promotion-lookup-refused",
      message: "mlflow-gate: MLflow cannot read what this request names: bad name",
    });
    expect(seen.map((q) => q.method)).toEqual(["GET"]);
  });

  test("a version MLflow does not have: the guard's own 404, nothing forwarded", async () => {
    answer = { status: 404, body: JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "x" }) };
    const r = await approverTransition(JSON.stringify({ name: "m", version: "2", stage: "Production" }));
    expect(r.status).toBe(404);
    expect(json(r)).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST", reason: "promotion-not-found" });
    expect(seen.map((q) => q.method)).toEqual(["GET"]);
  });

  test("MLflow unreadable during the lookup: 502, nothing forwarded", async () => {
    answer = { status: 500, body: "<html>" };
    const body = JSON.stringify({ name: "m", version: "1", stage: "Staging" });
    const r = await approverTransition(body);
    expect(r.status).toBe(502);
    expect(seen.map((q) => q.method)).toEqual(["GET"]);
  });
});

describe("promotion rules on the registry writes that take stages and aliases along", () => {
  const DELETE_VERSION = "/api/2.0/mlflow/model-versions/delete";
  const RENAME = "/ajax-api/2.0/mlflow/registered-models/rename";
  const DELETE_MODEL = "/ajax-api/2.0/mlflow/registered-models/delete";
  const version = (stage: string, aliases: string[] = []) => ({
    status: 200,
    body: JSON.stringify({ model_version: { current_stage: stage, aliases, tags: [] } }),
  });
  /** Model m: version 1 in Production, version 2 holding champion. */
  const registry = (r: Seen) => {
    if (r.url.startsWith("/api/2.0/mlflow/registered-models/get?"))
      return {
        status: 200,
        body: JSON.stringify({
          registered_model: {
            name: "m",
            aliases: [{ alias: "champion", version: "2" }],
            latest_versions: [
              { version: "1", current_stage: "Production" },
              { version: "2", current_stage: "None" },
            ],
          },
        }),
      };
    if (r.url === "/api/2.0/mlflow/model-versions/get?name=m&version=1") return version("Production");
    if (r.url === "/api/2.0/mlflow/model-versions/get?name=m&version=2") return version("None", ["champion"]);
    return undefined;
  };

  test("a steward's DELETE of a version holding champion, in a text/plain body: 403 naming the rule, after one lookup", async () => {
    answerFor = registry;
    const r = await send(
      "DELETE",
      DELETE_VERSION,
      [
        ...iam("DELETE", DELETE_VERSION, "arn:aws:sts::123456789012:assumed-role/Steward/job"),
        ["Content-Type", "text/plain"],
      ],
      JSON.stringify({ name: "m", version: "2" }),
    );
    expect(r.status).toBe(403);
    expect(json(r)).toMatchObject({
      error_code: "PERMISSION_DENIED",
      reason: "promotion-alias-not-allowed",
      message:
        'mlflow-gate: policies/groups/registry-stewards.yaml allows no deleting alias champion (deleting version 2 of "m" removes alias champion of version 2)',
    });
    expect(seen.map((q) => `${q.method} ${q.url}`)).toEqual([
      "GET /api/2.0/mlflow/model-versions/get?name=m&version=2",
    ]);
    expect(audit.at(-1)).toMatchObject({
      action: "DeleteModelVersion",
      resources: { model: "m", version: "2" },
      promotion: {
        kind: "delete-version",
        from: "None",
        message:
          'policies/groups/registry-stewards.yaml allows no deleting alias champion (deleting version 2 of "m" removes alias champion of version 2)',
      },
      decision: "refused",
      reason: "promotion-alias-not-allowed",
    });
  });

  test("a steward's rename of a model with a version in Production: 403; every version up to the newest read", async () => {
    answerFor = registry;
    const r = await send(
      "POST",
      RENAME,
      [...cognito("POST", RENAME, "sam", "registry-stewards"), ["Content-Type", "application/json"]],
      JSON.stringify({ name: "m", new_name: "n" }),
    );
    expect(r.status).toBe(403);
    expect(json(r)).toMatchObject({ reason: "promotion-stage-not-allowed" });
    expect(audit.at(-1)).toMatchObject({
      action: "RenameRegisteredModel",
      resources: { model: "m", newModel: "n" },
      promotion: { kind: "rename", message: expect.stringContaining("registry-stewards.yaml") },
      decision: "refused",
    });
    expect(audit.at(-1)!.promotion).not.toHaveProperty("from");
    // The versions are read a few at a time: in any order.
    expect(seen.map((q) => q.url).sort()).toEqual([
      "/api/2.0/mlflow/model-versions/get?name=m&version=1",
      "/api/2.0/mlflow/model-versions/get?name=m&version=2",
      "/api/2.0/mlflow/registered-models/get?name=m",
    ]);
    expect(seen[0]?.url).toBe("/api/2.0/mlflow/registered-models/get?name=m");
  });

  test("an admin's model deletion is forwarded without a lookup", async () => {
    const r = await send(
      "DELETE",
      DELETE_MODEL,
      [...cognito("DELETE", DELETE_MODEL, "root", "admins"), ["Content-Type", "application/json"]],
      JSON.stringify({ name: "m" }),
    );
    expect(r.status).toBe(200);
    expect(seen.map((q) => `${q.method} ${q.url}`)).toEqual([`DELETE ${DELETE_MODEL}`]);
  });

  test("a steward's model deletion when MLflow's answer cannot be read: 502, nothing forwarded", async () => {
    answer = { status: 200, body: JSON.stringify({ registered_model: { latest_versions: "x" } }) };
    const r = await send(
      "DELETE",
      DELETE_MODEL,
      [...cognito("DELETE", DELETE_MODEL, "sam", "registry-stewards"), ["Content-Type", "application/json"]],
      JSON.stringify({ name: "m" }),
    );
    expect(r.status).toBe(502);
    expect(seen.map((q) => q.method)).toEqual(["GET"]);
  });
});

describe("MLflow's error answers, without the database's words", () => {
  const SQL =
    "Experiment(name=a) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name\n[SQL: INSERT INTO experiments (name) VALUES (?)]\n[parameters: ('a',)]";
  const create = () =>
    send(
      "POST",
      "/api/2.0/mlflow/experiments/create",
      [...iam("POST", "/api/2.0/mlflow/experiments/create"), ["Content-Type", "application/json"]],
      '{"name":"a"}',
    );

  test("MLflow's sentence and code stay, the statement and parameters go; the length is the new body's; the audit says so", async () => {
    // Prepare
    answer = { status: 400, body: JSON.stringify({ error_code: "RESOURCE_ALREADY_EXISTS", message: SQL }) };
    // Act
    const r = await create();
    // Assess
    expect(r.status).toBe(400);
    expect(json(r)).toEqual({ error_code: "RESOURCE_ALREADY_EXISTS", message: "Experiment(name=a) already exists." });
    expect(Number(r.headers["content-length"])).toBe(Buffer.byteLength(r.body));
    expect(audit.at(-1)).toMatchObject({ decision: "forwarded", status: 400, reason: "database-details-withheld" });
  });

  test("an error answer without database details goes out as it came", async () => {
    // Prepare
    const body = JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "bad name" });
    answer = { status: 400, body };
    // Act
    const r = await create();
    // Assess
    expect([r.status, r.body]).toEqual([400, body]);
    expect(audit.at(-1)!.reason).toBeUndefined();
  });

  test("an error answer larger than MLflow's ever are is not passed on unread: 502", async () => {
    // Prepare
    answer = { status: 500, body: JSON.stringify({ error_code: "INTERNAL_ERROR", message: "x".repeat(70 * 1024) }) };
    // Act
    const r = await create();
    // Assess
    expect(r.status).toBe(502);
    expect(json(r)).toMatchObject({ error_code: "INTERNAL_ERROR", reason: "error-answer-unreadable" });
  });
});
