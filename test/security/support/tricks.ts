// The path tricks of the security suites: one list, sent by test/security/paths-and-methods.test.ts and guard.test.ts.

const lastSlash = (r: string) => r.lastIndexOf("/");
const replaceLastSlash = (r: string, by: string) => `${r.slice(0, lastSlash(r))}${by}${r.slice(lastSlash(r) + 1)}`;
const action = (r: string) => r.slice(lastSlash(r) + 1);

/**
 * Ways to write a route's path so that someone might read it as another route, or not as this one:
 * `[name, (mount, rest) => target]`, with `rest` like "2.0/mlflow/experiments/delete". MLflow's private
 * address is read when a trick is built (the stack starts after the tests are collected).
 */
export function pathTricks(mlflowPrivateUrl: () => string): [string, (mount: string, rest: string) => string][] {
  return [
    ["a double slash in front", (m, r) => `//${m}/${r}`],
    ["a double slash inside", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow//")}`],
    ["a dot segment", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow/./")}`],
    ["a dot-dot segment", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow/runs/../")}`],
    ["an encoded dot-dot (%2e%2e)", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow/runs/%2e%2e/")}`],
    ["an upper-case encoded dot-dot (%2E%2E)", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow/runs/%2E%2E/")}`],
    [
      "an overlong UTF-8 dot-dot (%c0%ae%c0%ae)",
      (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow/runs/%c0%ae%c0%ae/")}`,
    ],
    ["an encoded slash (%2F)", (m, r) => `/${m}/${replaceLastSlash(r, "%2F")}`],
    ["encoded slashes everywhere (%2f)", (m, r) => `/${m}%2f${r.replace(/\//g, "%2f")}`],
    ["a double-encoded slash (%252F)", (m, r) => `/${m}/${replaceLastSlash(r, "%252F")}`],
    ["an encoded backslash (%5C)", (m, r) => `/${m}/${replaceLastSlash(r, "%5C")}`],
    ["a raw backslash", (m, r) => `/${m}/${replaceLastSlash(r, "\\")}`],
    ["a trailing slash", (m, r) => `/${m}/${r}/`],
    ["the mount in upper case", (m, r) => `/${m.toUpperCase()}/${r}`],
    [
      "the action in mixed case",
      (m, r) => `/${m}/${r.slice(0, lastSlash(r) + 1)}${action(r).charAt(0).toUpperCase()}${action(r).slice(1)}`,
    ],
    ["a ; parameter at the end", (m, r) => `/${m}/${r};x=1`],
    ["a ; parameter inside", (m, r) => `/${m}/${r.replace("/mlflow/", "/mlflow;x=1/")}`],
    [
      "percent-encoded letters",
      (m, r) => `/${m}/${r.slice(0, lastSlash(r) + 1)}%${action(r).charCodeAt(0).toString(16)}${action(r).slice(1)}`,
    ],
    ["an encoded NUL at the end", (m, r) => `/${m}/${r}%00`],
    ["an encoded space at the end", (m, r) => `/${m}/${r}%20`],
    ["a fragment", (m, r) => `/${m}/${r}#x`],
    ["a climb out of the static files", (m, r) => `/static-files/../${m}/${r}`],
    ["an encoded climb out of the static files", (m, r) => `/static-files/%2e%2e/${m}/${r}`],
    ["an encoded-slash climb out of the static files", (m, r) => `/static-files/..%2F${m}/${r}`],
    ["an absolute-form target", (m, r) => `http://127.0.0.1/${m}/${r}`],
    ["an absolute-form target naming MLflow's private address", (m, r) => `${mlflowPrivateUrl()}/${m}/${r}`],
    ["a query string", (m, r) => `/${m}/${r}?experiment_id=0`],
  ];
}
