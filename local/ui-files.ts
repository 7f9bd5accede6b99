import { createReadStream, statSync } from "fs";
import { ServerResponse } from "http";
import { extname, resolve, sep } from "path";
import { splitWorkspacePath, WORKSPACE_PATH_PART } from "../authorizer/core/contract";

/** The paths the patched UI answers (Amplify Hosting serves them in AWS): the page and its static files. */
export function isUiPath(path: string): boolean {
  return path === "/" || path.startsWith("/static-files/");
}

/** How the UI answers a path: a file of its directory (a UI path, for resolveUiFile), or a redirect. */
export type UiRoute = { readonly file: string } | { readonly redirect: string };

/**
 * The UI's answer to a GET of `path`, or undefined when the path is not the UI's. With teams (`workspaces`) the
 * UI is also served under each team's `/ws/<team>/`, so that MLflow's relative requests stay in the team: the
 * page at `/ws/<team>/` (`/ws/<team>` is sent there) and its static files below it. `/` stays the shell's page,
 * which places the user in a team.
 */
export function uiRouteOf(path: string, workspaces: readonly string[] = []): UiRoute | undefined {
  if (isUiPath(path)) return { file: path };
  const bare = new RegExp(`^/${WORKSPACE_PATH_PART}/([^/]+)$`).exec(path)?.[1];
  if (bare !== undefined && workspaces.includes(bare)) return { redirect: `${path}/` };
  const inTeam = splitWorkspacePath(path);
  return inTeam && workspaces.includes(inTeam.workspace) && isUiPath(inTeam.rest) ? { file: inTeam.rest } : undefined;
}

/**
 * The file a UI path names inside `root`, or undefined when there is none. The path is resolved and must
 * stay under `root`: no `..`, encoded or not, and no absolute path can leave it.
 */
export function resolveUiFile(root: string, path: string): string | undefined {
  const base = resolve(root);
  if (path.includes("\0")) return undefined;
  const file = resolve(base, `.${path === "/" ? "/index.html" : path}`);
  if (!file.startsWith(base + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
};

/** Sends a file of the UI; the page is never cached, so a new build shows at once. */
export function sendUiFile(res: ServerResponse, file: string, requestId: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const size = statSync(file).size;
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    const noCache = file.endsWith(".html");
    res.writeHead(200, {
      "content-type": type,
      "content-length": size,
      "cache-control": noCache ? "no-cache" : "public, max-age=3600",
      "x-content-type-options": "nosniff",
      "x-amzn-requestid": requestId,
    });
    const stream = createReadStream(file);
    stream.on("error", () => res.destroy());
    res.on("finish", () => resolveStatus(200));
    res.on("close", () => resolveStatus(200));
    stream.pipe(res);
  });
}
