import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";

// MLflow serves its own UI build a second time under Flask's default static route, `/build/*`; its index.html
// is MLflow's original page, without the login shell. The patched UI (`/`, `/static-files/*`) is the only UI
// anyone may load: `/build/*` is an admin route now, so a browser (no token) gets a 401 and a reader a 403.

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
}, 240_000);
afterAll(async () => {
  await t?.stop();
});

const get = async (path: string, token?: string) => {
  const r = await fetch(`${t.stack.summary.gatewayUrl}${path}`, {
    headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
    redirect: "manual",
  });
  return { status: r.status, body: await r.text() };
};

test("the UI at / carries the login shell", async () => {
  const page = await get("/");
  expect(page.status).toBe(200);
  expect(page.body).toContain('name="mlflow-gate-main"');
});

test.each([
  ["/build/index.html", 401],
  ["/build/static-files/index.html", 401],
  // `/build/{filename+}` needs a part after `/build/`: the API has no method for it, whoever asks.
  ["/build/", 403],
])("%s, MLflow's unpatched copy, is refused: %i to a browser, 403 to a reader", async (path, browser) => {
  const reader = await demoAccessToken(t, "reader");

  const anonymous = await get(path);
  const asReader = await get(path, reader);

  expect(anonymous.status).toBe(browser);
  expect(asReader.status).toBe(403);
  for (const r of [anonymous, asReader]) expect(r.body).not.toContain("<html");
});
