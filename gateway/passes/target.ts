import { ANSWERS } from "../api-responses";
import { PassResult, refuse } from "../answer";

export interface Target {
  readonly rawPath: string;
  readonly rawQuery: string;
  /** The path as MLflow's routers read it: percent-decoded. */
  readonly path: string;
}

/**
 * Reads the request target: origin-form (`/path?query`) whose path decodes. Nothing else is refused
 * here: `//`, `.`, `..`, a NUL or a backslash reach the integration as API Gateway forwards them, and the
 * guard refuses what MLflow could read differently (guard/request-target.ts), in both places.
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
  return { rawPath, rawQuery, path };
}

/** The first pass: the request target, or 400 when it cannot be read at all. */
export function targetPass(url: string | undefined): PassResult<Target> {
  const target = readTarget(url);
  return target ? { go: target } : refuse(ANSWERS.badRequest, "deny", "bad-target");
}
