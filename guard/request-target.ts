/**
 * The request target as MLflow will route it, or why it must be refused. MLflow (Flask and Starlette)
 * routes the percent-decoded path, redirects `//`, and a proxy in front may read `.`, `..` or an
 * encoded `/` differently; so any target whose decoded path is not a plain path is refused, never
 * normalised and passed on. Pure.
 */
export interface RequestTarget {
  /** The path as sent (percent-encoding kept). */
  readonly rawPath: string;
  /** The query as sent, without "?"; "" when none. */
  readonly rawQuery: string;
  /** The path as MLflow's routers read it: percent-decoded. */
  readonly path: string;
}

export type TargetProblem =
  | "absolute-form"
  | "bad-encoding"
  | "encoded-separator"
  | "empty-segment"
  | "dot-segment"
  | "control-character"
  | "path-parameter";

export type TargetResult =
  { readonly ok: true; readonly target: RequestTarget } | { readonly ok: false; readonly problem: TargetProblem };

/** `%2F` (`/`), `%5C` (`\`) and `%2E` (`.`) in a raw path, also encoded twice (`%252F`, decoded once more by a hop). */
const ENCODED_SEPARATOR = /%(25)?(2f|5c|2e)/i;
/** NUL and the other C0 controls, or DEL. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Splits and checks an origin-form target (`/path?query`). */
export function readRequestTarget(url: string | undefined): TargetResult {
  if (url === undefined || !url.startsWith("/")) return { ok: false, problem: "absolute-form" };
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  const problem = pathProblem(rawPath);
  if (problem) return { ok: false, problem };
  return { ok: true, target: { rawPath, rawQuery, path: decodeURIComponent(rawPath) } };
}

/** Why a raw path (without query) may be read differently by MLflow and whoever authorized it; undefined when it is plain. */
export function pathProblem(rawPath: string): TargetProblem | undefined {
  if (!rawPath.startsWith("/")) return "absolute-form";
  if (ENCODED_SEPARATOR.test(rawPath)) return "encoded-separator";
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return "bad-encoding";
  }
  // A backslash too: some servers read it as "/".
  if (hasControlCharacter(path) || path.includes("\\")) return "control-character";
  // Matrix parameters (`/runs;x=1/create`): some servers strip them before routing.
  if (path.includes(";")) return "path-parameter";
  const segments = path.split("/").slice(1);
  // A trailing "/" is a path of its own to MLflow (404 or another route), not an empty segment in the middle.
  const inner = segments.slice(0, -1);
  if (inner.some((s) => s === "")) return "empty-segment";
  if (segments.some((s) => s === "." || s === "..")) return "dot-segment";
  return undefined;
}
