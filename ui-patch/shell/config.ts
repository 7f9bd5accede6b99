/** What `/mlflow-gate-ui.json` holds: written at build or deploy time, read once at startup. */
export interface UiConfig {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly region: string;
  readonly authFlow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
  /** Only for a local pool (cognito-local); Cognito's own endpoint otherwise. */
  readonly userPoolEndpoint?: string;
}

export const UI_CONFIG_PATH = "/mlflow-gate-ui.json";

/** Validates the config file; lists every problem at once. */
export function parseUiConfig(value: unknown): UiConfig {
  const problems: string[] = [];
  const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  for (const key of ["userPoolId", "userPoolClientId", "region"] as const) {
    if (typeof v[key] !== "string" || v[key] === "") problems.push(`${key} is missing`);
  }
  if (v.authFlow !== "USER_SRP_AUTH" && v.authFlow !== "USER_PASSWORD_AUTH")
    problems.push("authFlow must be USER_SRP_AUTH or USER_PASSWORD_AUTH");
  if (
    v.userPoolEndpoint !== undefined &&
    (typeof v.userPoolEndpoint !== "string" || !/^https?:\/\//.test(v.userPoolEndpoint))
  )
    problems.push("userPoolEndpoint must be an http(s) URL");
  if (problems.length > 0) throw new Error(`invalid ${UI_CONFIG_PATH}: ${problems.join("; ")}`);
  return {
    userPoolId: v.userPoolId as string,
    userPoolClientId: v.userPoolClientId as string,
    region: v.region as string,
    authFlow: v.authFlow as UiConfig["authFlow"],
    ...(typeof v.userPoolEndpoint === "string" ? { userPoolEndpoint: v.userPoolEndpoint } : {}),
  };
}
