import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { mlflowState, RawResponse, refusedByGuard, sendRaw } from "./support/attack";

// MLflow 3.17's Flask handlers answer a JSON body that is not an object, or that holds a number beyond a
// double, with an HTML 500, which API Gateway passes on. Against the real stack, with a reader's token
// through the emulated API Gateway: each gets the guard's 400, and MLflow is unchanged.

let t: TestStack;
let token: string;
let before: string;

beforeAll(async () => {
  t = await startTestStack();
  token = await demoAccessToken(t, "reader");
  before = await mlflowState(t);
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const SEARCH_RUNS = "/ajax-api/2.0/mlflow/runs/search";

const post = (body: string): Promise<RawResponse> =>
  sendRaw(t.stack.summary.gatewayUrl, {
    method: "POST",
    target: SEARCH_RUNS,
    headers: [
      ["Authorization", `Bearer ${token}`],
      ["Content-Type", "application/json"],
    ],
    body,
  });

test.each([
  ["abc", "not-json"],
  ['"abc"', "not-an-object"],
  ['{"max_results":1e400}', "non-finite-number"],
])("POST runs/search with the body %s: the guard's 400 (%s), never MLflow's 500", async (body, reason) => {
  const r = await post(body);
  expect({ status: r.status, guard: refusedByGuard(r) }).toEqual({ status: 400, guard: true });
  expect((JSON.parse(r.body) as { reason: string }).reason).toBe(reason);
  expect(await mlflowState(t)).toBe(before);
});

test("the same search with a JSON object gets MLflow's answer", async () => {
  const r = await post(JSON.stringify({ experiment_ids: ["0"], max_results: 1 }));
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toBeInstanceOf(Object);
});
