import { createReadStream, statSync } from "fs";
import { ServerResponse } from "http";
import { extname, resolve, sep } from "path";

/** The paths the patched UI answers (Amplify Hosting serves them in AWS): the page and its static files. */
export function isUiPath(path: string): boolean {
  return path === "/" || path.startsWith("/static-files/");
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
