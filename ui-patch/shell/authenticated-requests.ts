import { refusalOf } from "./refusal";
import { isServerInfoPath, isServerPath, isWorkspaceHeader, pathInTeam, withoutWorkspaces } from "./team-paths";

export function isServerRequest(url: string, location: Location = window.location): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return false;
  }
  return parsed.origin === location.origin && isServerPath(parsed.pathname);
}

/** A server request's URL on a team's page: under the team's `/ws/<team>/` (same origin: isServerRequest). */
function urlInTeam(url: string, team: string): string {
  const parsed = new URL(url, window.location.href);
  parsed.pathname = pathInTeam(parsed.pathname, team);
  return parsed.href;
}

export interface RequestHooks {
  /** A current access token (Amplify refreshes it when it is about to expire). */
  readonly accessToken: () => Promise<string | undefined>;
  /** Every answer's status; `refusal` is the guard's reason when it refused the request (a 403 it wrote). */
  readonly onStatus: (status: number, method: string, url: string, refusal?: string) => void;
  /**
   * The team of this page (`/ws/<team>/`): MLflow's requests go under it, without the workspace header MLflow's
   * code adds, and server-info says no workspaces. Undefined without teams: requests go as MLflow sends them.
   */
  readonly team?: string;
}

/** Patches fetch and XMLHttpRequest so MLflow's own bundle sends the token without knowing. */
export function installAuthenticatedRequests(hooks: RequestHooks): void {
  const { team } = hooks;
  const originalFetch = window.fetch.bind(window);
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let url = input instanceof Request ? input.url : String(input);
    if (!isServerRequest(url)) return originalFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (team !== undefined) {
      url = urlInTeam(url, team);
      if (input instanceof Request) input = new Request(url, input);
      else input = url;
      for (const name of [...headers.keys()]) if (isWorkspaceHeader(name)) headers.delete(name);
    }
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
    if (team !== undefined && response.ok && isServerInfoPath(new URL(url).pathname)) return serverInfoInTeam(response);
    return response;
  };

  const proto = XMLHttpRequest.prototype;
  const originalOpen = proto.open;
  const originalSend = proto.send;
  const originalSetRequestHeader = proto.setRequestHeader;
  const opened = new WeakMap<XMLHttpRequest, { method: string; url: string }>();
  proto.open = function (this: XMLHttpRequest, ...args: unknown[]) {
    let url = String(args[1]);
    if (team !== undefined && isServerRequest(url)) args[1] = url = urlInTeam(url, team);
    opened.set(this, { method: String(args[0]).toUpperCase(), url });
    return (originalOpen as (...a: unknown[]) => void).apply(this, args);
  } as typeof proto.open;
  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    if (team !== undefined && isWorkspaceHeader(name)) return;
    originalSetRequestHeader.call(this, name, value);
  };
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

/** Server-info's answer with `workspaces_enabled: false` (withoutWorkspaces); an unreadable one as it came. */
async function serverInfoInTeam(response: Response): Promise<Response> {
  try {
    const info = withoutWorkspaces(await response.clone().json());
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    return new Response(JSON.stringify(info), { status: response.status, statusText: response.statusText, headers });
  } catch {
    return response;
  }
}
