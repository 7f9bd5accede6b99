// The login page: the shell's size, and its time to interactive in Chromium, as built now and as built before
// issue 19 (React DOM and every dictionary of Amplify UI). Both builds are served from loopback by a plain static
// server with a config naming an unreachable pool: the page's first screen (the sign-in form) needs no network
// beyond its own files, so what is measured is loading, parsing and rendering the shell.
import { mkdtempSync, readFileSync, rmSync, statSync } from "fs";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { extname, join, normalize, sep } from "path";
import { gzipSync } from "zlib";
import { Browser } from "playwright-core";
import { launchChromium } from "../test/support/chromium";
import { buildUi, SHELL_SCRIPT } from "../ui-patch/build-ui";
import { median } from "./lib/stats";

export interface ShellOptions {
  /** Page loads per build, each in a fresh browser context (nothing cached), the builds alternating. */
  readonly loads: number;
}

export interface ShellBuildFigures {
  readonly minifiedBytes: number;
  /** The minified bytes by npm package, largest first (the build's own account). */
  readonly packages: readonly { readonly name: string; readonly bytes: number }[];
  readonly gzipBytes: number;
  /** Median ms from navigation start to the sign-in form's username field on screen, and each load's. */
  readonly timeToInteractiveMs: number;
  readonly loadsMs: readonly number[];
}

export interface ShellResults {
  readonly loads: number;
  /** As `npm run build:ui` builds it. */
  readonly shell: ShellBuildFigures;
  /** As it was built before issue 19. */
  readonly before: ShellBuildFigures;
}

/** At most this many bytes of minified shell (issue 19). */
export const SHELL_MAX_BYTES = 500_000;

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

/** Serves a built UI directory as the gateway's front does: `/` is the page, everything else a file under it. */
function serveDirectory(dir: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = normalize(join(dir, path === "/" ? "index.html" : decodeURIComponent(path)));
    if (!file.startsWith(dir + sep)) return void res.writeHead(404).end();
    try {
      if (!statSync(file).isFile()) return void res.writeHead(404).end();
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

/** One cold load: ms from navigation start until the username field is on screen (polled every frame). */
async function timeToInteractive(browser: Browser, origin: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(origin, { waitUntil: "commit" });
    const at = await page.waitForFunction(
      () => {
        // In the page; this program's TypeScript has no DOM types.
        type Field = { offsetParent: unknown; disabled: boolean };
        const page = globalThis as unknown as { document: { querySelector(s: string): Field | null } };
        const input = page.document.querySelector('input[name="username"]');
        return input && input.offsetParent !== null && !input.disabled ? performance.now() : false;
      },
      undefined,
      { polling: "raf", timeout: 30_000 },
    );
    return (await at.jsonValue()) as number;
  } finally {
    await context.close();
  }
}

export async function benchShell(o: ShellOptions, progress: (line: string) => void): Promise<ShellResults> {
  const root = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-shell-"));
  const config = {
    userPoolId: "us-east-1_benchpool",
    userPoolClientId: "benchclient",
    region: "us-east-1",
    authFlow: "USER_SRP_AUTH" as const,
  };
  const servers: Server[] = [];
  let browser: Browser | undefined;
  try {
    const builds = await Promise.all(
      (["light", "react"] as const).map(async (kind) => {
        const built = await buildUi(join(root, kind), config, undefined, kind);
        const bytes = readFileSync(join(built.outDir, SHELL_SCRIPT));
        const { server, origin } = await serveDirectory(built.outDir);
        servers.push(server);
        return {
          kind,
          origin,
          minifiedBytes: bytes.length,
          packages: built.shellPackages,
          gzipBytes: gzipSync(bytes).length,
          loads: [] as number[],
        };
      }),
    );
    browser = await launchChromium();
    // One load of each first, not measured: Chromium's own start-up costs.
    for (const b of builds) await timeToInteractive(browser, b.origin);
    for (let i = 0; i < o.loads; i++)
      for (const b of i % 2 === 0 ? builds : [...builds].reverse())
        b.loads.push(await timeToInteractive(browser, b.origin));
    const figures = (b: (typeof builds)[number]): ShellBuildFigures => ({
      minifiedBytes: b.minifiedBytes,
      packages: b.packages,
      gzipBytes: b.gzipBytes,
      timeToInteractiveMs: Math.round(median(b.loads) * 10) / 10,
      loadsMs: b.loads.map((ms) => Math.round(ms * 10) / 10),
    });
    const [shell, before] = [figures(builds[0]!), figures(builds[1]!)];
    const kb = (n: number) => `${(n / 1000).toFixed(0)} KB`;
    progress(
      `shell         ${kb(shell.minifiedBytes)} minified (${kb(shell.gzipBytes)} gzip), interactive in ${shell.timeToInteractiveMs} ms; before issue 19 ${kb(before.minifiedBytes)} (${kb(before.gzipBytes)}), ${before.timeToInteractiveMs} ms (median of ${o.loads} cold loads each)`,
    );
    return { loads: o.loads, shell, before };
  } finally {
    await browser?.close();
    for (const s of servers) await new Promise((r) => s.close(r));
    rmSync(root, { recursive: true, force: true });
  }
}
