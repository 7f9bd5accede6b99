import { refusalOf } from "./refusal";

/** The server paths of MLflow's UI: every same-origin request to them carries the user's access token. */
const SERVER_PATH = /^\/(ajax-api\/|graphql(\/|$)|get-artifact(\/|$)|model-versions\/get-artifact(\/|$))/;

export function isServerRequest(url: string, location: Location = window.location): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return false;
  }
  return parsed.origin === location.origin && SERVER_PATH.test(parsed.pathname);
}

export interface RequestHooks {
  /** A current access token (Amplify refreshes it when it is about to expire). */
  readonly accessToken: () => Promise<string | undefined>;
  /** Every answer's status; `refusal` is the guard's reason when it refused the request (a 403 it wrote). */
  readonly onStatus: (status: number, method: string, url: string, refusal?: string) => void;
}

/** Patches fetch and XMLHttpRequest so MLflow's own bundle sends the token without knowing. */
export function installAuthenticatedRequests(hooks: RequestHooks): void {
  const originalFetch = window.fetch.bind(window);
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (!isServerRequest(url)) return originalFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const token = await hooks.accessToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    const response = await originalFetch(input, { ...init, headers });
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    // A refusal's body is read from a copy: MLflow's code reads the answer itself.
    const body =
      response.status === 403
        ? await response
            .clone()
            .text()
            .catch(() => "")
        : "";
    hooks.onStatus(response.status, method, url, refusalOf(response.status, body));
    return response;
  };

  const proto = XMLHttpRequest.prototype;
  const originalOpen = proto.open;
  const originalSend = proto.send;
  const opened = new WeakMap<XMLHttpRequest, { method: string; url: string }>();
  proto.open = function (this: XMLHttpRequest, ...args: unknown[]) {
    opened.set(this, { method: String(args[0]).toUpperCase(), url: String(args[1]) });
    return (originalOpen as (...a: unknown[]) => void).apply(this, args);
  } as typeof proto.open;
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const { method, url } = opened.get(this) ?? { method: "GET", url: "" };
    if (!isServerRequest(url)) return originalSend.call(this, body);
    this.addEventListener("loadend", () => {
      const text = this.responseType === "" || this.responseType === "text" ? this.responseText : "";
      hooks.onStatus(this.status, method, url, refusalOf(this.status, text));
    });
    // The token may need a refresh first; the request is sent once it is there.
    void hooks.accessToken().then(
      (token) => {
        if (token) this.setRequestHeader("Authorization", `Bearer ${token}`);
        originalSend.call(this, body);
      },
      () => originalSend.call(this, body),
    );
  };
}
