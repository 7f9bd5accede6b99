// `mlflow-gate verify`: whom to verify as, from the local stack's stack.json or a configuration file for a
// deployment. Pure: the command reads the files and the environment and hands their contents here.
import { dirname, resolve } from "path";
import { isLoopbackHost, REGION } from "../../../authorizer/core/contract";
import { CliFailure, CliUsageError } from "../cli-errors";
import { regionFromUrl, SharedFiles } from "../sign-request";
import { VerifyPrincipal } from "./plan";

export interface VerifyTarget {
  readonly apiUrl: URL;
  readonly region: string;
  readonly principals: readonly VerifyPrincipal[];
  readonly cognito?: { readonly endpoint: string; readonly clientId: string };
  readonly awsFiles?: SharedFiles;
  readonly auditFile?: string;
  /** The team files the deployment was built from (a config's `teamsDir`); undefined: the command decides (local). */
  readonly teamsDir?: string;
  /** The teams a local stack runs (stack.json's `teams`): verify's team files must name the same. */
  readonly stackTeams?: readonly string[];
}

export function parseApiUrl(raw: string | undefined): URL {
  if (raw === undefined)
    throw new CliUsageError(
      "verify needs the API's URL (http://127.0.0.1:8080, or https://<id>.execute-api.<region>.amazonaws.com/<stage>)",
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliUsageError(`"${raw}" is not a URL`);
  }
  if (url.search !== "" || url.hash !== "") throw new CliUsageError(`the API URL takes no query or fragment: ${raw}`);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname)))
    throw new CliUsageError(`the API URL must be https (http only for a loopback address): ${raw}`);
  return url;
}

const str = (v: unknown): v is string => typeof v === "string" && v !== "";

/** The local stack's principals: its SigV4 profiles and its demo users, from stack.json. */
export function targetFromStack(apiUrl: URL, stack: unknown, stackFile: string, auditFile?: string): VerifyTarget {
  const s = (stack ?? {}) as Record<string, unknown>;
  const cognito = (s.cognito ?? {}) as Record<string, unknown>;
  const profiles = Array.isArray(s.profiles) ? (s.profiles as Record<string, unknown>[]) : [];
  const users = Array.isArray(s.demoUsers) ? (s.demoUsers as Record<string, unknown>[]) : [];
  if (
    !str(s.region) ||
    !str(cognito.endpoint) ||
    !str(cognito.clientId) ||
    !str(s.awsCredentialsFile) ||
    !str(s.awsConfigFile)
  )
    throw new CliFailure([
      `mlflow-gate: ${stackFile}: not a local stack summary; restart the local stack ("npm start")`,
    ]);
  const principals: VerifyPrincipal[] = [
    ...profiles
      .filter((p) => str(p.name) && str(p.group))
      .map((p) => ({ kind: "sigv4" as const, name: p.name as string, group: p.group as string })),
    ...users
      .filter((u) => str(u.username) && str(u.group) && str(u.password))
      .map((u) => ({
        kind: "bearer" as const,
        name: u.username as string,
        group: u.group as string,
        password: u.password as string,
      })),
  ];
  return {
    apiUrl,
    region: s.region as string,
    principals,
    cognito: { endpoint: cognito.endpoint as string, clientId: cognito.clientId as string },
    awsFiles: { credentialsFile: s.awsCredentialsFile as string, configFile: s.awsConfigFile as string },
    stackTeams: Array.isArray(s.teams) ? (s.teams as unknown[]).filter(str) : [],
    ...((auditFile ?? (str(s.auditFile) ? s.auditFile : undefined)) !== undefined
      ? { auditFile: (auditFile ?? s.auditFile) as string }
      : {}),
  };
}

/**
 * A deployment's principals from a configuration file (JSON):
 * `{ "region"?, "profiles": [{ "profile", "group" }], "users": [{ "username", "group", "passwordEnv" | "refreshTokenEnv" }],
 *    "cognito"?: { "clientId", "endpoint"? }, "auditFile"?, "teamsDir"? }`. Secrets are never in the file: it names
 * the environment variables that hold them. `teamsDir`, relative to the file: the team files the deployment was
 * built from; with them verify works in the teams' workspaces (`<url>/ws/<team>/`).
 */
export function targetFromConfig(
  apiUrl: URL,
  config: unknown,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  auditFile?: string,
): VerifyTarget {
  const c = (config ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const region = str(c.region) ? c.region : regionFromUrl(apiUrl);
  if (region === undefined || !REGION.test(region))
    problems.push(`"region" is needed (the API URL is not an execute-api host name that names it)`);
  const principals: VerifyPrincipal[] = [];
  for (const [i, p] of (Array.isArray(c.profiles) ? (c.profiles as Record<string, unknown>[]) : []).entries()) {
    if (!str(p.profile) || !str(p.group)) problems.push(`profiles[${i}] needs "profile" and "group"`);
    else principals.push({ kind: "sigv4", name: p.profile, group: p.group });
  }
  for (const [i, u] of (Array.isArray(c.users) ? (c.users as Record<string, unknown>[]) : []).entries()) {
    const secretEnv = str(u.passwordEnv) ? u.passwordEnv : str(u.refreshTokenEnv) ? u.refreshTokenEnv : undefined;
    if (!str(u.username) || !str(u.group) || secretEnv === undefined) {
      problems.push(
        `users[${i}] needs "username", "group" and "passwordEnv" or "refreshTokenEnv" (the variable holding it)`,
      );
      continue;
    }
    const secret = env[secretEnv];
    if (!str(secret)) {
      problems.push(`users[${i}] (${u.username}): ${secretEnv} is not set`);
      continue;
    }
    principals.push({
      kind: "bearer",
      name: u.username,
      group: u.group,
      ...(str(u.passwordEnv) ? { password: secret } : { refreshToken: secret }),
    });
  }
  if (principals.length === 0) problems.push(`name at least one principal in "profiles" or "users"`);
  const cognito = (c.cognito ?? {}) as Record<string, unknown>;
  const bearers = principals.some((p) => p.kind === "bearer");
  if (bearers && !str(cognito.clientId)) problems.push(`"cognito": { "clientId" } is needed for "users"`);
  if (str(cognito.endpoint)) {
    let endpoint: URL | undefined;
    try {
      endpoint = new URL(cognito.endpoint);
    } catch {
      problems.push(`"cognito.endpoint" is not a URL`);
    }
    if (
      endpoint &&
      endpoint.protocol !== "https:" &&
      !(endpoint.protocol === "http:" && isLoopbackHost(endpoint.hostname))
    )
      problems.push(`"cognito.endpoint" must be https (http only for a loopback address): passwords go there`);
  }
  if (c.teamsDir !== undefined && !str(c.teamsDir)) problems.push(`"teamsDir" must be a directory's path`);
  if (problems.length > 0) throw new CliFailure(problems.map((p) => `mlflow-gate: ${file}: ${p}`));
  const audit = auditFile ?? (str(c.auditFile) ? c.auditFile : undefined);
  return {
    apiUrl,
    region: region as string,
    principals,
    ...(bearers
      ? {
          cognito: {
            clientId: cognito.clientId as string,
            endpoint: str(cognito.endpoint) ? cognito.endpoint : `https://cognito-idp.${region}.amazonaws.com/`,
          },
        }
      : {}),
    ...(audit !== undefined ? { auditFile: audit } : {}),
    ...(str(c.teamsDir) ? { teamsDir: resolve(dirname(file), c.teamsDir) } : {}),
  };
}

/**
 * Every principal's group must be one the files give rights (a group file's, or with teams one the team files name):
 * verify compares the deployment with those files.
 */
export function checkGroupsKnown(
  target: VerifyTarget,
  groups: ReadonlySet<string>,
  groupsDir: string,
  teamsDir?: string,
): void {
  const unknown = target.principals.filter((p) => !groups.has(p.group));
  const where =
    teamsDir === undefined ? `has no file in ${groupsDir}` : `is named by no file of ${groupsDir} or ${teamsDir}`;
  if (unknown.length > 0)
    throw new CliFailure(unknown.map((p) => `mlflow-gate: ${p.name}'s group ${p.group} ${where}`));
}
