import { mkdirSync, mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium";
import { pluginOps, sdkEnv, startTestStack, TestStack } from "../integration/support/stack";
import { runPython } from "../support/python";
import { cliEnv, runCliProcess } from "../scripts/support/run-cli";

// The patched UI in Debian's Chromium against the whole local stack: the login shell, MLflow's own
// bundle behind it, the gateway's authorizer and the private MLflow seeded with the real SDK.

/** The page's storage, for functions evaluated in the browser (this project compiles without the DOM library). */
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "ui");
const TOKEN_SECONDS = 20;
jest.setTimeout(180_000);

interface Seed {
  readonly experimentId: string;
  readonly runId: string;
  readonly modelName: string;
  readonly modelVersion: string;
}

let t: TestStack;
let browser: Browser;
let seed: Seed;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Tokens live 20 s and the authorizer's cache is off, so an expired token would be refused at once.
  t = await startTestStack({ config: { accessTokenValiditySeconds: TOKEN_SECONDS, authorizerCacheTtlSeconds: 0 } });
  const r = await runPython(
    [join("test", "browser", "python", "seed_ui.py"), "ui-experiment"],
    sdkEnv(t.stack, "private"),
  );
  if (r.code !== 0) throw new Error(`seed_ui.py failed: ${r.stderr.slice(-2000)}`);
  // MLflow prints a "View run" line on set_terminated; the ids are the last line.
  seed = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Seed;
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await t?.stop();
});

function passwordOf(username: string): string {
  const user = t.stack.summary.demoUsers.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  return user.password;
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  return context.newPage();
}

async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.goto(t.stack.summary.gatewayUrl);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
}

async function login(username: string): Promise<Page> {
  const page = await newPage();
  await submitLogin(page, username, passwordOf(username));
  await page.getByTestId("mlflow-gate-username").filter({ hasText: username }).waitFor();
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

/** The access token Amplify keeps for the signed-in user. */
const storedAccessToken = (page: Page) =>
  page.evaluate(() => {
    const key = Object.keys(localStorage).find(
      (k) => k.startsWith("CognitoIdentityServiceProvider.") && k.endsWith(".accessToken"),
    );
    return key ? localStorage.getItem(key) : undefined;
  });

test("a wrong password shows the error and stays on the login", async () => {
  // Prepare
  const page = await newPage();

  // Act
  await submitLogin(page, "reader", "Wrong-password-1!");

  // Assess
  await page.getByText("Incorrect username or password.").waitFor();
  await shot(page, "wrong-password");
  expect(await page.getByTestId("mlflow-gate-bar").count()).toBe(0);
  expect(await page.locator("#root").innerHTML()).toBe("");
});

test("a reader sees the experiments, a run's metric chart and its image artifact", async () => {
  // Prepare
  const page = await login("reader");

  // Act + Assess: the experiment list
  await page.getByText("ui-experiment").first().waitFor();
  await expect(page.getByTestId("mlflow-gate-bar").innerText()).resolves.toMatch(/reader.*readers/s);
  await shot(page, "reader-experiments");

  // the run's metric chart
  await page.goto(`${t.stack.summary.gatewayUrl}/#/experiments/${seed.experimentId}/runs/${seed.runId}/model-metrics`);
  await page.getByText("loss").first().waitFor();
  await page.locator("canvas, svg.main-svg").first().waitFor();
  await shot(page, "reader-run-metrics");

  // the image artifact, loaded with the token
  await page.goto(
    `${t.stack.summary.gatewayUrl}/#/experiments/${seed.experimentId}/runs/${seed.runId}/artifacts/plot.png`,
  );
  const image = page.locator('img[src^="blob:"], img[src*="plot.png"]').first();
  await image.waitFor();
  await page.waitForFunction(
    (el) => {
      const img = el as unknown as { complete: boolean; naturalWidth: number };
      return img.complete && img.naturalWidth === 64;
    },
    await image.elementHandle(),
  );
  await shot(page, "reader-image-artifact");
});

test("a new user signs in with a temporary password, sets their own in the Authenticator, and lands in MLflow", async () => {
  // Prepare: a user as `users add --temporary-password` makes one
  const file = join(mkdtempSync(join(tmpdir(), "mlflow-gate-ui-temp-")), "nina.password");
  const added = await runCliProcess(
    ["users", "add", "nina", "--group", "readers", "--temporary-password", "--password-file", file],
    { env: cliEnv({ MLFLOW_GATE_DATA: t.config.dataDir }) },
  );
  expect(added.code).toBe(0);
  const temporary = readFileSync(file, "utf8").trimEnd();
  const chosen = "Nina-chose-this-1!";
  const page = await newPage();

  // Act: the temporary password, then the Authenticator's new-password form
  await submitLogin(page, "nina", temporary);
  await page.locator('input[name="confirm_password"]').waitFor();
  await shot(page, "new-password");
  await page.locator('input[name="password"]').fill(chosen);
  await page.locator('input[name="confirm_password"]').fill(chosen);
  await page.locator('button[type="submit"]').click();

  // Assess: signed in, MLflow's UI up; the chosen password is the user's from now on
  await page.getByTestId("mlflow-gate-username").filter({ hasText: "nina" }).waitFor();
  await page.getByText("Default").first().waitFor();
  await expect(t.stack.userPool.login("nina", chosen)).resolves.toMatchObject({ accessToken: expect.any(String) });
  await expect(t.stack.userPool.login("nina", temporary)).rejects.toThrow();
});

test("sign-out returns to the login", async () => {
  // Prepare
  const page = await login("reader");

  // Act
  await page.getByRole("button", { name: "Sign out" }).click();

  // Assess
  await page.locator('input[name="username"]').waitFor();
  await shot(page, "signed-out");
  expect(await page.getByTestId("mlflow-gate-bar").count()).toBe(0);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
async function privateMlflow(path: string): Promise<any> {
  const response = await fetch(`${t.stack.summary.mlflowPrivateUrl}${path}`);
  return response.json();
}

async function openExperimentMenuItem(page: Page, item: string): Promise<void> {
  await page.goto(`${t.stack.summary.gatewayUrl}/#/experiments/${seed.experimentId}`);
  // MLflow's first-visit guidance covers the page until it is dismissed.
  const gotIt = page.getByRole("button", { name: "Got it" });
  await gotIt.waitFor({ timeout: 5000 }).then(
    () => gotIt.click(),
    () => undefined,
  );
  await page.getByTestId("overflow-menu-trigger").click();
  await page.getByRole("menuitem", { name: item }).click();
}

test("a reader's rename and delete of an experiment are denied, visibly, and change nothing", async () => {
  // Prepare
  const page = await login("reader");

  // Act: rename
  await openExperimentMenuItem(page, "Edit experiment");
  const dialog = page.getByRole("dialog");
  await dialog.locator("input").first().waitFor();
  await shot(page, "reader-rename-dialog");
  await dialog.locator("input").first().fill("renamed-by-reader");
  await dialog.getByRole("button", { name: "Save" }).click();

  // Assess: MLflow's own error, and the shell's banner naming the group
  await dialog.getByText("User is not authorized to access this resource").waitFor();
  await page.getByTestId("mlflow-gate-forbidden").filter({ hasText: "readers" }).waitFor();
  await shot(page, "reader-rename-denied");

  // Act: delete
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.getByTestId("mlflow-gate-forbidden").getByRole("button", { name: "Dismiss" }).click();
  await openExperimentMenuItem(page, "Delete");
  await page
    .getByRole("dialog")
    .getByRole("button", { name: /delete/i })
    .click();

  // Assess
  await page.getByTestId("mlflow-gate-forbidden").filter({ hasText: "readers" }).waitFor();
  await shot(page, "reader-delete-denied");
  const denied = t.accessLog.filter((e) => e.username === "reader" && e.status === 403).map((e) => e.action);
  expect(denied).toEqual(expect.arrayContaining(["UpdateExperiment", "DeleteExperiment"]));
  const experiment = (await privateMlflow(`/api/2.0/mlflow/experiments/get?experiment_id=${seed.experimentId}`))
    .experiment;
  expect(experiment).toMatchObject({ name: "ui-experiment", lifecycle_stage: "active" });
});

test("an admin renames an experiment", async () => {
  // Prepare
  const page = await login("admin");

  // Act
  await openExperimentMenuItem(page, "Edit experiment");
  const dialog = page.getByRole("dialog");
  await dialog.locator("input").first().fill("renamed-by-admin");
  await dialog.getByRole("button", { name: "Save" }).click();

  // Assess
  await dialog.waitFor({ state: "hidden" });
  await shot(page, "admin-renamed");
  expect(
    (await privateMlflow(`/api/2.0/mlflow/experiments/get?experiment_id=${seed.experimentId}`)).experiment.name,
  ).toBe("renamed-by-admin");
  expect(await page.getByTestId("mlflow-gate-forbidden").count()).toBe(0);
});

test("a model approver sets an alias on a model version", async () => {
  // Prepare
  const page = await login("model-approver");
  await page.goto(`${t.stack.summary.gatewayUrl}/#/models/${seed.modelName}/versions/${seed.modelVersion}`);

  // Act
  await page.getByRole("button", { name: "Add" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await shot(page, "approver-alias-dialog");
  await dialog.locator("input").first().fill("challenger");
  await dialog.locator("input").first().press("Enter");
  await dialog.getByRole("button", { name: /save/i }).click();

  // Assess
  await dialog.waitFor({ state: "hidden" });
  await shot(page, "approver-alias-set");
  const alias = await privateMlflow(
    `/api/2.0/mlflow/registered-models/alias?name=${encodeURIComponent(seed.modelName)}&alias=challenger`,
  );
  expect(alias.model_version?.version).toBe(seed.modelVersion);
});

/**
 * Moves a version to a stage with MLflow's own controls: the stage menu of the classic registry view (the new
 * one hides stages), then the transition dialog's OK.
 */
async function transitionInUi(page: Page, version: string, stage: string): Promise<void> {
  await page.goto(`${t.stack.summary.gatewayUrl}/#/models/${seed.modelName}/versions/${version}`);
  await page.getByRole("switch").click();
  await page.getByRole("dialog").getByRole("button", { name: "Disable" }).click();
  await page
    .getByText(/^None$/)
    .first()
    .click();
  await page.getByRole("menuitem").filter({ hasText: stage }).click();
  await page.getByRole("dialog").getByRole("button", { name: "OK" }).click();
}

describe("promotion in the UI (the default group files)", () => {
  /** A version registered through the gateway by mlflow-admin: the guard stamped its creator. */
  let version: string;
  const storedStage = async () =>
    (
      await privateMlflow(
        `/api/2.0/mlflow/model-versions/get?name=${encodeURIComponent(seed.modelName)}&version=${version}`,
      )
    ).model_version.current_stage;

  beforeAll(async () => {
    const r = await pluginOps(t.stack, "mlflow-admin", [
      ["v", "create_model_version", { name: seed.modelName, source: `runs:/${seed.runId}/model`, run_id: seed.runId }],
    ]);
    if (!r.v?.ok) throw new Error(`could not register a version: ${r.v?.error}`);
    version = (r.v.value as { version: string }).version;
  });

  test("a model approver's move to Production is refused, and the banner names the rule", async () => {
    // Prepare
    const page = await login("model-approver");
    // Act
    await transitionInUi(page, version, "Production");
    // Assess
    await page
      .getByTestId("mlflow-gate-forbidden")
      .filter({ hasText: "Not allowed: policies/groups/model-approvers.yaml allows no promotion to Production" })
      .waitFor();
    await shot(page, "approver-production-refused");
    expect(await storedStage()).toBe("None");
  });

  test("a release manager moves someone else's version to Production", async () => {
    // Prepare
    const page = await login("release-manager");
    // Act
    await transitionInUi(page, version, "Production");
    // Assess
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    await page
      .getByText(/^Production$/)
      .first()
      .waitFor();
    await shot(page, "release-manager-production");
    expect(await storedStage()).toBe("Production");
    expect(await page.getByTestId("mlflow-gate-forbidden").count()).toBe(0);
  });
});

test("the session keeps working past the first access token's expiry", async () => {
  // Prepare
  const page = await login("reader");
  await page.goto(`${t.stack.summary.gatewayUrl}/#/experiments`);
  await page.getByRole("link", { name: "Default" }).first().waitFor();
  const refusedBefore = t.accessLog.filter((e) => e.reason === "authorizer-unauthorized").length;
  const firstToken = await storedAccessToken(page);

  // Act: outlive the first token, then move on inside MLflow's app
  await page.waitForTimeout((TOKEN_SECONDS + 5) * 1000);
  await page.goto(`${t.stack.summary.gatewayUrl}/#/experiments/${seed.experimentId}/runs/${seed.runId}/model-metrics`);

  // Assess
  await page.getByText("loss").first().waitFor();
  await shot(page, "after-token-expiry");
  expect(t.accessLog.filter((e) => e.reason === "authorizer-unauthorized").length).toBe(refusedBefore);
  expect(await page.getByTestId("mlflow-gate-username").innerText()).toBe("reader");
  const refreshedToken = await storedAccessToken(page);
  expect(firstToken).toBeDefined();
  expect(refreshedToken).toBeDefined();
  expect(refreshedToken).not.toBe(firstToken);
});

test("a token the gateway refuses (401) returns to the login once, without a reload loop", async () => {
  // Prepare: a signed-in page whose stored token no longer verifies (as after a revocation)
  const page = await login("reader");
  await page.getByText("Default").first().waitFor();
  const loads: string[] = [];
  page.on("load", () => loads.push(page.url()));
  await page.evaluate(() => {
    const key = Object.keys(localStorage).find(
      (k) => k.startsWith("CognitoIdentityServiceProvider.") && k.endsWith(".accessToken"),
    );
    if (key) localStorage.setItem(key, `${localStorage.getItem(key)?.slice(0, -8)}AAAAAAAA`);
  });

  // Act: MLflow's next request carries the bad token
  await page.goto(`${t.stack.summary.gatewayUrl}/#/experiments/${seed.experimentId}/runs/${seed.runId}`);

  // Assess
  await page.getByText("Your session has ended. Sign in again.").waitFor();
  await page.waitForTimeout(3000);
  await shot(page, "session-ended");
  expect(loads.length).toBeLessThanOrEqual(1);
  expect(await page.locator('input[name="username"]').count()).toBe(1);
  expect(await page.getByTestId("mlflow-gate-bar").count()).toBe(0);
});
