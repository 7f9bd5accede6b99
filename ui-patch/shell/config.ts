import { isTeamName } from "../../authorizer/core/contract";

/** A workspace the shell may place a user in, and the Cognito groups that reach it. */
export interface UiTeam {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What `/mlflow-gate-ui.json` holds: written at build or deploy time, read once at startup. */
export interface UiConfig {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly region: string;
  readonly authFlow: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH";
  /** Only for a local pool (cognito-local); Cognito's own endpoint otherwise. */
  readonly userPoolEndpoint?: string;
  /**
   * Only with teams: every workspace under `/ws/<name>/` and the groups that reach it (ui-patch/ui-config.ts).
   * The file is public: these names are visible to anyone who loads the login page (docs/teams.md, The UI).
   */
  readonly teams?: readonly UiTeam[];
}

export const UI_CONFIG_PATH = "/mlflow-gate-ui.json";

function teamProblems(teams: unknown): string[] {
  if (!Array.isArray(teams) || teams.length === 0) return ["teams must be a non-empty list"];
  return teams.flatMap((t: unknown, i) => {
    const team = (typeof t === "object" && t !== null ? t : {}) as Record<string, unknown>;
    const problems: string[] = [];
    if (typeof team.name !== "string" || !isTeamName(team.name)) problems.push(`teams[${i}].name must be a team name`);
    if (!Array.isArray(team.groups) || !team.groups.every((g) => typeof g === "string" && g !== ""))
      problems.push(`teams[${i}].groups must be a list of group names`);
    return problems;
  });
}

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
  if (v.teams !== undefined) problems.push(...teamProblems(v.teams));
  if (problems.length > 0) throw new Error(`invalid ${UI_CONFIG_PATH}: ${problems.join("; ")}`);
  return {
    userPoolId: v.userPoolId as string,
    userPoolClientId: v.userPoolClientId as string,
    region: v.region as string,
    authFlow: v.authFlow as UiConfig["authFlow"],
    ...(typeof v.userPoolEndpoint === "string" ? { userPoolEndpoint: v.userPoolEndpoint } : {}),
    ...(v.teams !== undefined
      ? {
          teams: (v.teams as UiTeam[]).map((t) => ({ name: t.name, groups: [...t.groups] })),
        }
      : {}),
  };
}
