import { ANSWERS } from "../api-responses";
import { PassResult, refuse } from "../answer";

export interface Target {
  readonly rawPath: string;
  readonly rawQuery: string;
  /** The path as MLflow's routers read it: percent-decoded. */
  readonly path: string;
}

/**
 * Reads the request target. Only origin-form (`/path?query`); a path that does not decode, or that
 * holds segments MLflow and API Gateway might read differently (`//`, `.`, `..`, NUL, backslash), is
 * refused rather than guessed at.
 */
export function readTarget(url: string | undefined): Target | undefined {
  if (!url || !url.startsWith("/")) return undefined;
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (/[\0\\]/.test(path) || /\/\/|\/\.\.?(\/|$)/.test(path)) return undefined;
  return { rawPath, rawQuery, path };
}

/** The first pass: the request target, or 400 when it cannot be read as MLflow would read it. */
export function targetPass(url: string | undefined): PassResult<Target> {
  const target = readTarget(url);
  return target ? { go: target } : refuse(ANSWERS.badRequest, "deny", "bad-target");
}
