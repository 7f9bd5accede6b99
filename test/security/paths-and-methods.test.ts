import { request } from "http";
import { startTestStack, TestStack } from "../integration/support/stack";

// Attacks on how the gateway reads a request, against the real local stack: a reader (whose token
// is valid) tries to delete an experiment through path and method tricks. Every attempt must get a
// 4xx, never reach MLflow as a write, and leave MLflow unchanged (checked on the private MLflow).

let t: TestStack;
let readerToken: string;
let experimentId: string;

beforeAll(async () => {
  t = await startTestStack();
  const reader = t.stack.summary.demoUsers.find((u) => u.username === "reader")!;
  readerToken = (await t.stack.userPool.login(reader.username, reader.password)).accessToken;
  experimentId = (await t.sdk("private", [["exp", "create_experiment", { name: "target" }]])).exp!.value;
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

/** A raw request (fetch would normalise the path and refuse some methods and headers). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  const url = new URL(t.stack.summary.gatewayUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { authorization: `Bearer ${readerToken}`, "content-type": "application/json", ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function experimentState(): Promise<{ name: string; lifecycle: string }> {
  const r = await t.sdk("private", [["e", "get_experiment", { experiment_id: experimentId }]]);
  return { name: r.e!.value.name, lifecycle: r.e!.value.lifecycle_stage };
}

const deleteBody = () => JSON.stringify({ experiment_id: experimentId });

describe("path tricks around a denied write (a reader deleting an experiment)", () => {
  test.each([
    ["the plain request", "/ajax-api/2.0/mlflow/experiments/delete"],
    ["a double slash", "//ajax-api/2.0/mlflow/experiments/delete"],
    ["a dot segment", "/ajax-api/2.0/mlflow/./experiments/delete"],
    ["a dot-dot segment", "/ajax-api/2.0/mlflow/runs/../experiments/delete"],
    ["an encoded dot-dot", "/ajax-api/2.0/mlflow/runs/%2e%2e/experiments/delete"],
    ["encoded slashes", "/ajax-api/2.0/mlflow%2Fexperiments%2Fdelete"],
    ["double-encoded slashes", "/ajax-api/2.0/mlflow%252Fexperiments%252Fdelete"],
    ["a trailing slash", "/ajax-api/2.0/mlflow/experiments/delete/"],
    ["upper case", "/AJAX-API/2.0/mlflow/experiments/delete"],
    ["a matrix parameter", "/ajax-api/2.0/mlflow/experiments/delete;x=1"],
    ["the SDK mount with a bearer token", "/api/2.0/mlflow/experiments/delete"],
    ["a climb out of the static files", "/static-files/../ajax-api/2.0/mlflow/experiments/delete"],
    ["an encoded climb out of the static files", "/static-files/%2e%2e/ajax-api/2.0/mlflow/experiments/delete"],
    ["an absolute-form target", "http://127.0.0.1/ajax-api/2.0/mlflow/experiments/delete"],
    ["a query string", "/ajax-api/2.0/mlflow/experiments/delete?experiment_id=0"],
  ])("%s: 4xx, and MLflow unchanged", async (_name, path) => {
    const status = await send("POST", path, {}, deleteBody());
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(await experimentState()).toEqual({ name: "target", lifecycle: "active" });
  });

  test("a forged Host header changes nothing", async () => {
    const status = await send("POST", "/ajax-api/2.0/mlflow/experiments/delete", { host: "mlflow.internal" }, deleteBody());
    expect(status).toBe(403);
    expect(await experimentState()).toEqual({ name: "target", lifecycle: "active" });
  });
});

describe("method tricks", () => {
  test.each(["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])("%s: DELETE on an allowed search does not delete", async (header) => {
    const status = await send("POST", "/ajax-api/2.0/mlflow/experiments/search", { [header]: "DELETE" }, JSON.stringify({ max_results: 1 }));
    expect(status).toBe(200);
    const del = await send("POST", `/ajax-api/2.0/mlflow/experiments/search`, { [header]: "POST", "x-original-url": "/ajax-api/2.0/mlflow/experiments/delete" }, deleteBody());
    expect(del).toBeLessThan(500);
    expect(await experimentState()).toEqual({ name: "target", lifecycle: "active" });
  });

  test.each(["HEAD", "OPTIONS", "TRACE", "PROPFIND"])("%s on a write route: 4xx", async (method) => {
    const status = await send(method, "/ajax-api/2.0/mlflow/experiments/delete", {}, method === "HEAD" ? undefined : deleteBody());
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(await experimentState()).toEqual({ name: "target", lifecycle: "active" });
  });
});
