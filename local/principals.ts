import { randomBytes } from "crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { ConfigError } from "../authorizer/core/errors";
import type { CredentialStore, SigV4Credential } from "../gateway/sigv4";
import { API_GATEWAY, EXTERNAL_ID, iamUserArn, roleArn } from "../authorizer/core/contract";

/**
 * Local principals stand in for IAM roles: each has a name (the AWS profile name), optionally the
 * group whose compiled IAM policy it gets, an access key, and a trust policy (which principals may
 * assume it through the local STS, with an optional ExternalId). They live in `<data>/principals.json`,
 * which users may edit (add a principal, change its group or its trust); missing keys are generated.
 */
export interface TrustEntry {
  /** A principal of the same file. */
  readonly principal: string;
  /** When set, AssumeRole must pass exactly this ExternalId (sts:ExternalId condition). */
  readonly externalId?: string;
}

export interface Principal {
  readonly name: string;
  /** None: the principal has no MLflow rights at all (the gateway denies it every route). */
  readonly group?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The role's trust policy: who may assume it. Empty: nobody. */
  readonly trustedBy: readonly TrustEntry[];
}

/** The file's format version; files without one come from before the local STS and are migrated. */
export const PRINCIPALS_FILE_VERSION = 2;

/** A principal with no MLflow group: its only right is to assume the roles that trust it. */
export const DATA_SCIENCE_PRINCIPAL = "data-science";
/** The ExternalId the default admin role's trust policy requires of data-science (not a secret: a confused-deputy guard). */
export const DEFAULT_ADMIN_EXTERNAL_ID = "mlflow-gate-local";

export const DEFAULT_PRINCIPALS: readonly Pick<Principal, "name" | "group" | "trustedBy">[] = [
  {
    name: "mlflow-admin",
    group: "admins",
    trustedBy: [{ principal: DATA_SCIENCE_PRINCIPAL, externalId: DEFAULT_ADMIN_EXTERNAL_ID }],
  },
  { name: "mlflow-reader", group: "readers", trustedBy: [{ principal: DATA_SCIENCE_PRINCIPAL }] },
  { name: "mlflow-model-approver", group: "model-approvers", trustedBy: [] },
  { name: "mlflow-release-manager", group: "release-managers", trustedBy: [] },
  { name: DATA_SCIENCE_PRINCIPAL, trustedBy: [] },
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** AWS's constraint on ExternalId. */
const PRINCIPAL_FIELDS = new Set(["name", "group", "accessKeyId", "secretAccessKey", "trustedBy"]);
const TRUST_FIELDS = new Set(["principal", "externalId"]);

/** A key id of AWS's shape: the prefix (AKIA long-term, ASIA temporary), then 16 of A-Z and 2-7. */
export function newAccessKeyId(prefix: "AKIA" | "ASIA"): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `${prefix}${[...randomBytes(16)].map((b) => alphabet[b % 32]).join("")}`;
}

export const newSecret = (): string =>
  randomBytes(30).toString("base64").replace(/[+/=]/g, "").slice(0, 40).padEnd(40, "A");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The local account's ARN of a role (a principal addressed as a role). */

/**
 * Validates the file's content against the known groups; lists every problem. A file without a
 * version predates the local STS: it gains the data-science principal and the default trust
 * policies (`migrated`), its keys and groups kept.
 */
export function parsePrincipals(
  input: unknown,
  knownGroups: ReadonlySet<string>,
  file: string,
): { principals: Principal[]; generated: boolean; migrated: boolean } {
  if (!isObject(input) || !Array.isArray(input.principals))
    throw new ConfigError(`${file}: expected {"version": ${PRINCIPALS_FILE_VERSION}, "principals": [ ... ]}`);
  const problems: string[] = [];
  let list: unknown[] = input.principals;
  let migrated = false;
  if (input.version === undefined) {
    ({ list, migrated } = migrateToTrust(list));
  } else if (input.version !== PRINCIPALS_FILE_VERSION) {
    problems.push(`${file}: version must be ${PRINCIPALS_FILE_VERSION}, not ${JSON.stringify(input.version)}`);
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  let generated = false;
  const principals = list.map((raw: unknown, i): Principal => {
    const p = isObject(raw) ? raw : {};
    const where = `${file}: principals[${i}]`;
    if (!isObject(raw)) problems.push(`${where} must be an object`);
    for (const field of Object.keys(p))
      if (!PRINCIPAL_FIELDS.has(field))
        problems.push(`${where} has an unknown field "${field}" (known: ${[...PRINCIPAL_FIELDS].join(", ")})`);
    const name = typeof p.name === "string" ? p.name : "";
    if (!NAME.test(name)) problems.push(`${where}.name must match ${NAME.source}`);
    else if (names.has(name)) problems.push(`${where}.name "${name}" is used twice`);
    names.add(name);
    const group = p.group;
    if (group !== undefined && (typeof group !== "string" || !knownGroups.has(group))) {
      problems.push(
        `${where}.group "${String(group)}" is not a group of the policies (${[...knownGroups].sort().join(", ")}); leave it out for a principal with no MLflow rights`,
      );
    }
    let accessKeyId = p.accessKeyId;
    let secretAccessKey = p.secretAccessKey;
    if (accessKeyId === undefined && secretAccessKey === undefined) {
      accessKeyId = newAccessKeyId("AKIA");
      secretAccessKey = newSecret();
      generated = true;
    }
    if (typeof accessKeyId !== "string" || !ACCESS_KEY_ID.test(accessKeyId))
      problems.push(`${where}.accessKeyId must be 16 or more of A-Z and 0-9`);
    else if (accessKeyId.startsWith("ASIA"))
      problems.push(`${where}.accessKeyId must not start with ASIA (the prefix of temporary credentials)`);
    else if (keys.has(accessKeyId)) problems.push(`${where}.accessKeyId is used twice`);
    keys.add(String(accessKeyId));
    if (typeof secretAccessKey !== "string" || secretAccessKey.length < 16)
      problems.push(`${where}.secretAccessKey must be a string of 16 or more characters`);
    return {
      name,
      ...(typeof group === "string" ? { group } : {}),
      accessKeyId: String(accessKeyId),
      secretAccessKey: String(secretAccessKey),
      trustedBy: parseTrust(p.trustedBy, `${where}.trustedBy`, problems),
    };
  });
  // Trust entries may name principals listed after them: checked once every name is known.
  principals.forEach((p, i) => {
    const seen = new Set<string>();
    p.trustedBy.forEach((t, j) => {
      const where = `${file}: principals[${i}].trustedBy[${j}]`;
      if (t.principal === "") return;
      if (!names.has(t.principal))
        problems.push(`${where}.principal "${t.principal}" is not a principal of this file (${[...names].join(", ")})`);
      else if (t.principal === p.name) problems.push(`${where}.principal "${t.principal}" is the role itself`);
      else if (seen.has(t.principal)) problems.push(`${where}.principal "${t.principal}" is listed twice`);
      seen.add(t.principal);
    });
  });
  if (problems.length > 0) throw new ConfigError(`invalid principals:\n  ${problems.join("\n  ")}`);
  return { principals, generated, migrated };
}

function parseTrust(raw: unknown, where: string, problems: string[]): TrustEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${where} must be a list of {"principal": name, "externalId"?: string}`);
    return [];
  }
  return raw.map((entry: unknown, j): TrustEntry => {
    const e = isObject(entry) ? entry : {};
    if (!isObject(entry)) problems.push(`${where}[${j}] must be an object {"principal": name, "externalId"?: string}`);
    for (const field of Object.keys(e))
      if (!TRUST_FIELDS.has(field))
        problems.push(`${where}[${j}] has an unknown field "${field}" (known: principal, externalId)`);
    const principal = typeof e.principal === "string" ? e.principal : "";
    if (principal === "") problems.push(`${where}[${j}].principal must be the name of a principal`);
    if (e.externalId !== undefined && (typeof e.externalId !== "string" || !EXTERNAL_ID.test(e.externalId))) {
      problems.push(`${where}[${j}].externalId must be 2 to 1224 characters of letters, digits and _+=,.@:/-`);
    }
    return { principal, ...(typeof e.externalId === "string" ? { externalId: e.externalId } : {}) };
  });
}

/**
 * A file written before the local STS: nobody could assume anything. It gains the default
 * data-science principal and the default roles' trust policies, unless its author already uses
 * the name or wrote trust policies (then it is left as it is).
 */
function migrateToTrust(list: unknown[]): { list: unknown[]; migrated: boolean } {
  const names = new Set(list.map((p) => (isObject(p) ? p.name : undefined)));
  const hasTrust = list.some((p) => isObject(p) && p.trustedBy !== undefined);
  if (names.has(DATA_SCIENCE_PRINCIPAL) || hasTrust) return { list, migrated: true };
  const defaults = new Map(DEFAULT_PRINCIPALS.map((d) => [d.name, d.trustedBy]));
  return {
    list: [
      ...list.map((p) =>
        isObject(p) && typeof p.name === "string" && defaults.has(p.name)
          ? { ...p, trustedBy: defaults.get(p.name) }
          : p,
      ),
      { name: DATA_SCIENCE_PRINCIPAL },
    ],
    migrated: true,
  };
}

function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Reads `<data>/principals.json`, creating it with the default principals on first start and migrating an older one. */
export function loadPrincipals(
  dataDir: string,
  knownGroups: ReadonlySet<string>,
  defaults: readonly Pick<Principal, "name" | "group" | "trustedBy">[] = DEFAULT_PRINCIPALS,
): Principal[] {
  const file = join(dataDir, "principals.json");
  let input: unknown = {
    version: PRINCIPALS_FILE_VERSION,
    principals: defaults.filter((p) => p.group === undefined || knownGroups.has(p.group)),
  };
  if (existsSync(file)) {
    try {
      input = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConfigError(`${file} is not JSON: ${(e as Error).message}`);
    }
  }
  const { principals, generated, migrated } = parsePrincipals(input, knownGroups, file);
  if (generated || migrated || !existsSync(file))
    writePrivate(file, `${JSON.stringify({ version: PRINCIPALS_FILE_VERSION, principals }, null, 2)}\n`);
  return principals;
}

/** A profile that assumes a role with another principal's keys (`role_arn` + `source_profile`). */
export interface RoleProfile {
  readonly name: string;
  readonly roleArn: string;
  readonly sourceProfile: string;
  readonly externalId?: string;
}

/** One profile per trust entry: `<principal>-as-<role>`. */
export function roleProfilesOf(principals: readonly Principal[], accountId: string): RoleProfile[] {
  return principals.flatMap((role) =>
    role.trustedBy.map((t) => ({
      name: `${t.principal}-as-${role.name}`,
      roleArn: roleArn(accountId, role.name),
      sourceProfile: t.principal,
      ...(t.externalId !== undefined ? { externalId: t.externalId } : {}),
    })),
  );
}

/** The `[services ...]` section every generated profile points at: STS calls go to the local STS. */
export const SERVICES_SECTION = "mlflow-gate-local";

/**
 * The AWS shared credentials and config files: one profile per principal, one per trust entry
 * (assume-role through `source_profile`), all sending STS calls to the local STS (botocore's
 * service-specific endpoint configuration), no other service redirected.
 */
export function writeAwsFiles(
  dataDir: string,
  principals: readonly Principal[],
  region: string,
  sts: { readonly endpoint: string; readonly accountId: string },
): { credentialsFile: string; configFile: string; roleProfiles: RoleProfile[] } {
  const credentialsFile = join(dataDir, "aws", "credentials");
  const configFile = join(dataDir, "aws", "config");
  writePrivate(
    credentialsFile,
    principals
      .map((p) => `[${p.name}]\naws_access_key_id = ${p.accessKeyId}\naws_secret_access_key = ${p.secretAccessKey}\n`)
      .join("\n"),
  );
  const roleProfiles = roleProfilesOf(principals, sts.accountId);
  const common = `region = ${region}\nservices = ${SERVICES_SECTION}\n`;
  writePrivate(
    configFile,
    [
      ...principals.map((p) => `[profile ${p.name}]\n${common}`),
      ...roleProfiles.map(
        (r) =>
          `[profile ${r.name}]\nrole_arn = ${r.roleArn}\nsource_profile = ${r.sourceProfile}\n${r.externalId !== undefined ? `external_id = ${r.externalId}\n` : ""}${common}`,
      ),
      `[services ${SERVICES_SECTION}]\nsts =\n  endpoint_url = ${sts.endpoint}\n`,
    ].join("\n"),
  );
  return { credentialsFile, configFile, roleProfiles };
}

/** Where the gateway finds keys and a principal's group. */
export type PrincipalCredentialStore = CredentialStore & { groupOf(principal: string): string | undefined };

/** The gateway's key store of long-term keys: access key id → principal. */
export function principalStore(
  principals: readonly Principal[],
  accountId: string = API_GATEWAY.account,
): PrincipalCredentialStore {
  const byKey = new Map<string, SigV4Credential>(
    principals.map((p) => [
      p.accessKeyId,
      {
        accessKeyId: p.accessKeyId,
        secretAccessKey: p.secretAccessKey,
        principal: p.name,
        // Long-term keys are an IAM user's (a role has none).
        arn: iamUserArn(accountId, p.name),
      },
    ]),
  );
  const groups = new Map(principals.map((p) => [p.name, p.group]));
  return { find: (id) => byKey.get(id), groupOf: (name) => groups.get(name) };
}
