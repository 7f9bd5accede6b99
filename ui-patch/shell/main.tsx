import { Authenticator, useAuthenticator } from "@aws-amplify/ui-react";
import "@aws-amplify/ui-react/styles.css";
import { Amplify } from "aws-amplify";
import { fetchAuthSession, signIn, signOut, type SignInInput } from "aws-amplify/auth";
import React, { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { installAuthenticatedRequests } from "./authenticated-requests";
import { parseUiConfig, UI_CONFIG_PATH, UiConfig } from "./config";
import "./shell.css";
import { Placement, placeUser, teamHome, teamOfPage } from "./team-paths";

/** Set by the build: where MLflow's own bundle is; it is loaded only once someone is signed in. */
const MLFLOW_MAIN = document.querySelector<HTMLMetaElement>('meta[name="mlflow-gate-main"]')?.content;
/** Survives the reload after a 401, so the login says why it is back. */
const SESSION_ENDED = "mlflow-gate:session-ended";

interface User {
  readonly username: string;
  readonly groups: readonly string[];
}

async function currentToken(): Promise<string | undefined> {
  return (await fetchAuthSession()).tokens?.accessToken?.toString();
}

async function currentUser(): Promise<User | undefined> {
  const token = (await fetchAuthSession()).tokens?.accessToken;
  if (!token) return undefined;
  const groups = token.payload["cognito:groups"];
  return {
    username: String(token.payload.username ?? token.payload.sub ?? ""),
    groups: Array.isArray(groups) ? groups.map(String) : [],
  };
}

let mlflowStarted = false;
function startMlflow(): void {
  if (mlflowStarted || !MLFLOW_MAIN) return;
  mlflowStarted = true;
  const script = document.createElement("script");
  script.src = MLFLOW_MAIN;
  document.head.appendChild(script);
}

/** The banner's state: nothing, a refusal by route (the group lacks it), or the guard's reason. */
type Forbidden = false | { readonly refusal?: string };

function SignedIn(props: { readonly config: UiConfig; readonly forbidden: Forbidden; readonly onDismiss: () => void }) {
  const { signOut: amplifySignOut } = useAuthenticator((c) => [c.user]);
  const [user, setUser] = useState<User>();
  const [placement, setPlacement] = useState<Placement>();
  useEffect(() => {
    sessionStorage.removeItem(SESSION_ENDED);
    document.body.classList.add("mlflow-gate-signed-in");
    void currentUser().then((u) => {
      setUser(u);
      // With teams MLflow's UI runs only on a team's page the user's groups reach.
      const place = placeUser(props.config.teams, u?.groups ?? [], location.pathname);
      setPlacement(place);
      if (place.kind === "go") location.replace(teamHome(place.team));
      else if (place.kind === "mlflow" || place.kind === "team") startMlflow();
    });
  }, []);
  const groups = user?.groups.length ? user.groups.join(", ") : "no group";
  return (
    <>
      <header className="mlflow-gate-bar" data-testid="mlflow-gate-bar">
        {placement?.kind === "team" && <TeamSwitcher team={placement.team} teams={placement.teams} />}
        <span className="mlflow-gate-user">
          Signed in as <strong data-testid="mlflow-gate-username">{user?.username ?? "…"}</strong> ({groups})
        </span>
        <button
          type="button"
          onClick={() =>
            void signOut().then(() => {
              amplifySignOut();
              location.assign("/");
            })
          }
        >
          Sign out
        </button>
      </header>
      {placement && <TeamChoice placement={placement} groups={groups} />}
      {props.forbidden && (
        <div className="mlflow-gate-forbidden" role="alert" data-testid="mlflow-gate-forbidden">
          {props.forbidden.refusal
            ? `Not allowed: ${props.forbidden.refusal}`
            : `Not allowed: your groups (${groups}) do not permit this action.`}
          <button type="button" aria-label="Dismiss" onClick={props.onDismiss}>
            ×
          </button>
        </div>
      )}
    </>
  );
}

/** The bar's team, and links to the user's other teams (a new page: MLflow's bundle keeps its workspace). */
function TeamSwitcher(props: { readonly team: string; readonly teams: readonly string[] }) {
  const others = props.teams.filter((t) => t !== props.team);
  return (
    <nav className="mlflow-gate-team" data-testid="mlflow-gate-team" aria-label="Team">
      Team <strong data-testid="mlflow-gate-current-team">{props.team}</strong>
      {others.length > 0 && (
        <span data-testid="mlflow-gate-team-switcher">
          {" "}
          · switch to{" "}
          {others.map((t) => (
            <a key={t} href={teamHome(t)}>
              {t}
            </a>
          ))}
        </span>
      )}
    </nav>
  );
}

/** Instead of MLflow's UI: the picker (several teams), or why there is nothing here (no team, or not this one). */
function TeamChoice(props: { readonly placement: Placement; readonly groups: string }) {
  const p = props.placement;
  if (p.kind !== "pick" && p.kind !== "outside") return null;
  const message =
    p.kind === "pick"
      ? "Choose a team:"
      : p.teams.length === 0
        ? `Your groups (${props.groups}) give you no team. Ask your platform team to add one of them to a team.`
        : `Your groups (${props.groups}) do not reach team ${p.team ?? ""}. Your teams:`;
  return (
    <main className="mlflow-gate-teams" data-testid="mlflow-gate-teams">
      <p role={p.kind === "pick" ? undefined : "alert"}>{message}</p>
      {p.teams.length > 0 && (
        <ul>
          {p.teams.map((t) => (
            <li key={t}>
              <a href={teamHome(t)}>{t}</a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}

function Shell(props: { readonly config: UiConfig }) {
  const [forbidden, setForbidden] = useState<Forbidden>(false);
  useEffect(() => {
    const team = props.config.teams ? teamOfPage(location.pathname) : undefined;
    installAuthenticatedRequests({
      ...(team !== undefined ? { team } : {}),
      accessToken: () => currentToken().catch(() => undefined),
      onStatus: (status, method, _url, refusal) => {
        // MLflow's pages read a few routes a group may not have (the assistant, users/current) and cope;
        // the banner is for what the user tried to change.
        if (status === 403 && method !== "GET") setForbidden(refusal === undefined ? {} : { refusal });
        if (status === 401 && mlflowStarted) {
          // MLflow's bundle cannot be unloaded: sign out and reload once; a signed-out page never starts it.
          sessionStorage.setItem(SESSION_ENDED, "1");
          void signOut().finally(() => location.assign("/"));
        }
      },
    });
  }, []);
  const services = {
    // USER_SRP_AUTH with Cognito; USER_PASSWORD_AUTH with cognito-local, which has no SRP.
    // Called as (input) or, by newer versions, (context, input).
    async handleSignIn(...args: unknown[]) {
      const input = args[args.length - 1] as SignInInput;
      try {
        return await signIn({ ...input, options: { ...input.options, authFlowType: props.config.authFlow } });
      } catch (e) {
        // cognito-local says InvalidPasswordException where Cognito says NotAuthorizedException.
        if ((e as Error).name === "InvalidPasswordException")
          throw Object.assign(new Error("Incorrect username or password."), { name: "NotAuthorizedException" });
        throw e;
      }
    },
  };
  return (
    <Authenticator hideSignUp services={services as never} components={{ Header: LoginHeader }}>
      <SignedIn config={props.config} forbidden={forbidden} onDismiss={() => setForbidden(false)} />
    </Authenticator>
  );
}

function LoginHeader() {
  const ended = sessionStorage.getItem(SESSION_ENDED) === "1";
  return (
    <div className="mlflow-gate-login-header">
      <h1>MLflow</h1>
      {ended && <p role="status">Your session has ended. Sign in again.</p>}
    </div>
  );
}

async function main(): Promise<void> {
  const container =
    document.getElementById("mlflow-gate") ??
    document.body.insertBefore(document.createElement("div"), document.body.firstChild);
  container.id = "mlflow-gate";
  let config: UiConfig;
  try {
    const response = await fetch(UI_CONFIG_PATH, { cache: "no-store" });
    if (!response.ok) throw new Error(`${UI_CONFIG_PATH} answered ${response.status}`);
    config = parseUiConfig(await response.json());
  } catch (e) {
    container.textContent = `mlflow-gate cannot start: ${(e as Error).message}`;
    return;
  }
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: config.userPoolId,
        userPoolClientId: config.userPoolClientId,
        ...(config.userPoolEndpoint ? { userPoolEndpoint: config.userPoolEndpoint } : {}),
        loginWith: { username: true },
      },
    },
  });
  createRoot(container).render(<Shell config={config} />);
}

void main();
