import { mkdirSync } from "fs";
import { join } from "path";
import { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium";
import { bearerCall, demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";
import { EXAMPLE_TEAMS_DIR } from "../../project/paths";
import { mlflowCall } from "../local/support/mlflow-rest";

// The patched UI with teams, in Debian's Chromium against a local stack with the example teams (team-a, team-b):
// the shell places each user in their team's /ws/<team>/, MLflow's UI runs there, and every request it sends is
// under that team, without MLflow's own workspace header (the guard would refuse it).

const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "ui-teams");
const EXPERIMENT = { "team-a": "ui-team-a-experiment", "team-b": "ui-team-b-experiment" } as const;
type Team = keyof typeof EXPERIMENT;
/** MLflow's server paths, wherever they are: what the shell must keep in the page's team. */
const SERVER_PATH = /^(\/ws\/[^/]+)?\/(ajax-api\/|graphql|get-artifact|model-versions\/get-artifact)/;
jest.setTimeout(120_000);

let t: TestStack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  t = await startTestStack({ env: { MLFLOW_GATE_TEAMS_DIR: EXAMPLE_TEAMS_DIR } });
  // One experiment per team, created by the admin through the API, as a person would.
  const admin = await demoAccessToken(t, "admin");
  for (const [team, name] of Object.entries(EXPERIMENT)) {
    const r = await bearerCall(t.stack, admin, "POST", `/ws/${team}/ajax-api/2.0/mlflow/experiments/create`, { name });
    if (r.status !== 200) throw new Error(`creating ${name} in ${team}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await t?.stop();
});

interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly workspaceHeader: boolean;
}

/** The experiment of that name in a team's workspace, read on MLflow's private address. */
async function experimentIn(team: string, name: string): Promise<unknown> {
  const mlflow = { url: new URL(t.stack.summary.mlflowPrivateUrl) };
  const r = await mlflowCall(
    mlflow,
    "GET",
    `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${name}`,
    undefined,
    team,
  );
  return r.status === 200 ? r.json.experiment : undefined;
}

/** A signed-in page and every same-origin request to MLflow's server paths it sent. */
async function login(username: string): Promise<{ page: Page; sent: SentRequest[] }> {
  const user = t.stack.summary.demoUsers.find((u) => u.username === username);
  if (!user) throw new Error(`no demo user ${username}`);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const sent: SentRequest[] = [];
  const origin = new URL(t.stack.summary.gatewayUrl).origin;
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin || !SERVER_PATH.test(url.pathname)) return;
    const workspaceHeader = Object.keys(r.headers()).some((h) => h.toLowerCase() === "x-mlflow-workspace");
    sent.push({ method: r.method(), path: url.pathname, workspaceHeader });
  });
  await page.goto(t.stack.summary.gatewayUrl);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('button[type="submit"]').click();
  return { page, sent };
}

const teamPage = (team: string) => new RegExp(`/ws/${team}/(#.*)?$`);
const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

/**
 * The page shows its team's experiment and never the other team's, nor MLflow's workspace selector; every
 * request stayed in the team.
 */
async function expectOnlyTeam(page: Page, sent: readonly SentRequest[], team: Team): Promise<void> {
  const other: Team = team === "team-a" ? "team-b" : "team-a";
  await page.getByText(EXPERIMENT[team]).first().waitFor();
  await expect(page.getByTestId("mlflow-gate-current-team").innerText()).resolves.toBe(team);
  expect(await page.getByText(EXPERIMENT[other]).count()).toBe(0);
  expect(await page.getByText(/^(Select a workspace|Workspace)$/).count()).toBe(0);
  expect(sent.some((r) => r.path === `/ws/${team}/ajax-api/2.0/mlflow/experiments/search`)).toBe(true);
  expect(sent.filter((r) => r.workspaceHeader)).toEqual([]);
  expect(sent.filter((r) => !r.path.startsWith(`/ws/${team}/`))).toEqual([]);
}

test("a writer of team-a lands in /ws/team-a/, sees team-a's experiment only and creates one in team-a", async () => {
  // Act
  const { page, sent } = await login("team-a-writer");
  const serverInfo = page.waitForResponse((r) => r.url().endsWith("/ajax-api/3.0/mlflow/server-info"));
  await page.waitForURL(teamPage("team-a"));

  // Assess: MLflow has workspaces; the page's MLflow UI was told otherwise (no selector, no header)
  await expectOnlyTeam(page, sent, "team-a");
  await shot(page, "team-a-writer");
  expect(await page.getByTestId("mlflow-gate-team-switcher").count()).toBe(0);
  const info = await serverInfo;
  expect([new URL(info.url()).pathname, ((await info.json()) as Record<string, unknown>).workspaces_enabled]).toEqual([
    "/ws/team-a/ajax-api/3.0/mlflow/server-info",
    true,
  ]);

  // Act: a new experiment from MLflow's own dialog
  await page.goto(`${t.stack.summary.gatewayUrl}/ws/team-a/#/experiments`);
  await page.getByTestId("create-experiment-button").click();
  // The create dialog itself: MLflow may open a guidance popover (also a dialog) on the page meanwhile.
  const dialog = page.getByRole("dialog").filter({ has: page.getByRole("button", { name: "Create" }) });
  await dialog.locator("input").first().fill("ui-team-a-by-writer");
  const created = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/mlflow/experiments/create"));
  await dialog.getByRole("button", { name: "Create" }).click();
  expect((await created).status()).toBe(200);
  await dialog.waitFor({ state: "hidden" });

  // Assess: in team-a's workspace only, sent under /ws/team-a/
  await shot(page, "team-a-writer-created");
  expect(await experimentIn("team-a", "ui-team-a-by-writer")).toMatchObject({ name: "ui-team-a-by-writer" });
  expect(await experimentIn("team-b", "ui-team-a-by-writer")).toBeUndefined();
  expect(sent).toContainEqual({
    method: "POST",
    path: "/ws/team-a/ajax-api/2.0/mlflow/experiments/create",
    workspaceHeader: false,
  });
  expect(sent.filter((r) => r.workspaceHeader || !r.path.startsWith("/ws/team-a/"))).toEqual([]);
});

test("a reader of team-b lands in /ws/team-b/, sees team-b's experiment only, and the page's root requests stay in team-b", async () => {
  // Act
  const { page, sent } = await login("team-b-reader");
  await page.waitForURL(teamPage("team-b"));

  // Assess
  await expectOnlyTeam(page, sent, "team-b");
  await shot(page, "team-b-reader");

  // Act: requests to MLflow's root paths, as MLflow's bundle sends a few, through the page's fetch and XHR
  sent.length = 0;
  const statuses = await page.evaluate(async () => {
    const viaFetch = await fetch("/ajax-api/2.0/mlflow/experiments/search?max_results=5");
    // The test's TypeScript has no DOM types: the page's XMLHttpRequest, as much of it as is used here.
    interface Xhr {
      status: number;
      onloadend: () => void;
      open(method: string, url: string): void;
      setRequestHeader(name: string, value: string): void;
      send(body: string): void;
    }
    const XhrOfPage = (globalThis as unknown as { XMLHttpRequest: new () => Xhr }).XMLHttpRequest;
    const viaXhr = await new Promise<number>((resolve) => {
      const xhr = new XhrOfPage();
      xhr.open("POST", "/graphql");
      xhr.setRequestHeader("content-type", "application/json");
      xhr.setRequestHeader("X-MLFLOW-WORKSPACE", "team-a");
      xhr.onloadend = () => resolve(xhr.status);
      xhr.send(JSON.stringify({ query: "query { __typename }" }));
    });
    return [viaFetch.status, viaXhr];
  });

  // Assess: both went under the page's team, with the token and without the header the page's code added
  expect(statuses).toEqual([200, 200]);
  expect(sent).toEqual([
    { method: "GET", path: "/ws/team-b/ajax-api/2.0/mlflow/experiments/search", workspaceHeader: false },
    { method: "POST", path: "/ws/team-b/graphql", workspaceHeader: false },
  ]);
});

test("the admin picks team-a, then switches to team-b and to default", async () => {
  // Prepare
  const { page, sent } = await login("admin");
  const picker = page.getByTestId("mlflow-gate-teams");
  await picker.waitFor();
  await expect(picker.getByRole("link").allInnerTexts()).resolves.toEqual(["team-a", "team-b", "default"]);
  await shot(page, "admin-picker");
  expect(await page.locator("#root").innerHTML()).toBe("");

  // Act: team-a
  await picker.getByRole("link", { name: "team-a" }).click();
  await page.waitForURL(teamPage("team-a"));

  // Assess
  await expectOnlyTeam(page, sent, "team-a");
  await expect(page.getByTestId("mlflow-gate-team-switcher").getByRole("link").allInnerTexts()).resolves.toEqual([
    "team-b",
    "default",
  ]);

  // Act: the switcher
  sent.length = 0;
  await page.getByTestId("mlflow-gate-team-switcher").getByRole("link", { name: "team-b" }).click();
  await page.waitForURL(teamPage("team-b"));

  // Assess
  await expectOnlyTeam(page, sent, "team-b");
  await shot(page, "admin-team-b");

  // Act: the switcher again, to the default workspace (admins only)
  sent.length = 0;
  const searched = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/ws/default/ajax-api/2.0/mlflow/experiments/search",
  );
  await page.getByTestId("mlflow-gate-team-switcher").getByRole("link", { name: "default" }).click();
  await page.waitForURL(teamPage("default"));

  // Assess: MLflow's UI runs in default, none of the teams' experiments shows, every request stayed there
  expect((await searched).status()).toBe(200);
  await page.getByText("Default", { exact: true }).first().waitFor();
  await expect(page.getByTestId("mlflow-gate-current-team").innerText()).resolves.toBe("default");
  for (const team of ["team-a", "team-b"] as const) expect(await page.getByText(EXPERIMENT[team]).count()).toBe(0);
  expect(sent.some((r) => r.path === "/ws/default/ajax-api/2.0/mlflow/experiments/search")).toBe(true);
  expect(sent.filter((r) => r.workspaceHeader || !r.path.startsWith("/ws/default/"))).toEqual([]);
});

test("a team's page the user's groups do not reach says so and does not start MLflow's UI", async () => {
  // Prepare
  const { page, sent } = await login("team-a-reader");
  await page.waitForURL(teamPage("team-a"));
  await page.getByText(EXPERIMENT["team-a"]).first().waitFor();
  sent.length = 0;

  // Act
  await page.goto(`${t.stack.summary.gatewayUrl}/ws/team-b/`);

  // Assess
  await page.getByText(/do not reach team team-b/).waitFor();
  await expect(page.getByTestId("mlflow-gate-teams").getByRole("link").allInnerTexts()).resolves.toEqual(["team-a"]);
  await shot(page, "team-a-reader-in-team-b");
  expect(await page.locator("#root").innerHTML()).toBe("");
  expect(sent).toEqual([]);
});
