import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { pidsListeningOn, rssBytes } from "../support/proc";
import { RawResponse, refusedByGuard, sendRaw } from "./support/attack";

// MLflow 3.17 parses a whole GraphQL document before its own limits run (a 9.9 MB one took it past the
// gateway's 29 s and to 1.6 GB), and answers malformed GraphQL requests with an HTML 500. Against the real
// stack, with a reader's token through the emulated API Gateway: the guard refuses each before MLflow
// reads it, and an ordinary query still gets MLflow's answer.

let t: TestStack;
let token: string;

beforeAll(async () => {
  t = await startTestStack();
  token = await demoAccessToken(t, "reader");
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const graphql = (method: string, body?: string): Promise<RawResponse> =>
  sendRaw(t.stack.summary.gatewayUrl, {
    method,
    target: "/graphql",
    headers: [
      ["Authorization", `Bearer ${token}`],
      ["Content-Type", "application/json"],
    ],
    ...(body !== undefined ? { body } : {}),
  });

const reasonOf = (r: RawResponse): string => (JSON.parse(r.body) as { reason: string }).reason;

test("an ordinary query from the UI's shape gets MLflow's answer", async () => {
  const query = "query Q($data: MlflowSearchRunsInput) { mlflowSearchRuns(input: $data) { runs { info { runId } } } }";
  const r = await graphql("POST", JSON.stringify({ query, variables: { data: { experimentIds: ["0"] } } }));
  expect(r.status).toBe(200);
  expect(refusedByGuard(r)).toBe(false);
  expect(JSON.parse(r.body)).toHaveProperty("data.mlflowSearchRuns");
});

/** MLflow's resident memory: the server and the workers that share its listening socket. */
const mlflowRss = (): number =>
  pidsListeningOn(Number(new URL(t.stack.summary.mlflowPrivateUrl).port)).reduce((sum, pid) => sum + rssBytes(pid), 0);

test("a 2.6 MB document, and a 200 KB deeply nested one, are refused quickly by the guard for their size; MLflow's memory does not grow", async () => {
  // Prepare: MLflow settled after an ordinary query (its first GraphQL call loads the schema).
  const before = mlflowRss();
  expect(before).toBeGreaterThan(0);
  const started = performance.now();
  const wide = JSON.stringify({ query: `{ ${"mlflowSearchRuns { runs { info { runId } } } ".repeat(60_000)} }` });
  const deep = JSON.stringify({ query: `${"{ a ".repeat(40_000)}${"}".repeat(40_000)}` });
  expect(wide.length).toBeGreaterThan(2.6e6);
  expect(deep.length).toBeGreaterThan(200e3);
  for (const body of [wide, deep]) {
    const r = await graphql("POST", body);
    expect(r.status).toBe(413);
    expect(refusedByGuard(r)).toBe(true);
    expect(reasonOf(r)).toBe("graphql-too-large");
  }
  const elapsedMs = performance.now() - started;
  const grownBytes = mlflowRss() - before;
  process.stderr.write(
    `graphql: refused in ${Math.round(elapsedMs)} ms; MLflow RSS ${before} -> +${grownBytes} bytes\n`,
  );

  // Assess: MLflow parsed neither (its parse of a 2.6 MB document took seconds and hundreds of MB).
  expect(elapsedMs).toBeLessThan(5_000);
  expect(grownBytes).toBeLessThan(20 * 1024 * 1024);
});

test("within the size limit: too many tokens, too deep, or no document, and a GET, get a 4xx of the guard's, never MLflow's 500", async () => {
  const cases: [string, string | undefined, string][] = [
    ["POST", JSON.stringify({ query: `{ ${"a ".repeat(20_000)}}` }), "graphql-too-many-tokens"],
    ["POST", JSON.stringify({ query: `${"{ a ".repeat(5_000)}${"}".repeat(5_000)}` }), "graphql-too-deep"],
    ["POST", "{}", "graphql-not-a-request"],
    ["POST", "[]", "not-an-object"],
    ["POST", '{"query":"{"}', "graphql-unparsable"],
    ["GET", undefined, "graphql-get"],
  ];
  for (const [method, body, reason] of cases) {
    const r = await graphql(method, body);
    expect({ reason, status: r.status, guard: refusedByGuard(r) }).toEqual({
      reason,
      status: method === "GET" ? 405 : 400,
      guard: true,
    });
    expect(reasonOf(r)).toBe(reason);
  }
});
