import { pathProblem, TargetProblem } from "./request-target";

/**
 * Whether the request the guard received is the one API Gateway authorized: the same method, and the
 * same path once both are decoded (API Gateway maps the path as the client sent it, the stage first
 * on an execute-api host; it forwards path parameters decoded). A path that either side could read
 * another way is refused before it is compared. Pure.
 */
export type AuthorizedProblem = "method-mismatch" | "path-mismatch" | "authorized-path-unreadable";

export function checkAuthorizedRequest(
  received: { readonly method: string; readonly path: string },
  authorized: { readonly method: string; readonly path: string },
  stagePathPrefix: string,
):
  { readonly ok: true } | { readonly ok: false; readonly problem: AuthorizedProblem; readonly detail?: TargetProblem } {
  if (authorized.method !== received.method) return { ok: false, problem: "method-mismatch" };
  if (stagePathPrefix !== "" && !authorized.path.startsWith(`${stagePathPrefix}/`)) {
    return { ok: false, problem: "path-mismatch" };
  }
  const rawPath = authorized.path.slice(stagePathPrefix.length);
  const problem = pathProblem(rawPath);
  if (problem) return { ok: false, problem: "authorized-path-unreadable", detail: problem };
  return decodeURIComponent(rawPath) === received.path ? { ok: true } : { ok: false, problem: "path-mismatch" };
}
