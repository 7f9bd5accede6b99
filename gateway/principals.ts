import { randomBytes } from "crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { ConfigError } from "../authorizer/core/errors";
import type { CredentialStore, SigV4Credential } from "./sigv4";

/**
 * Local principals stand in for IAM roles: each has a name (the AWS profile name), the group whose
 * compiled IAM policy it gets, and an access key. They live in `<data>/principals.json`, which users
 * may edit (add a principal, change its group); missing keys are generated.
 */
export interface Principal {
  readonly name: string;
  readonly group: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export const DEFAULT_PRINCIPALS: readonly Pick<Principal, "name" | "group">[] = [
  { name: "mlflow-admin", group: "admins" },
  { name: "mlflow-reader", group: "readers" },
  { name: "mlflow-model-approver", group: "model-approvers" },
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

function newAccessKeyId(): string {
  // AWS's long-term key ids start with AKIA; 16 more characters from A-Z and 2-7.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `AKIA${[...randomBytes(16)].map((b) => alphabet[b % 32]).join("")}`;
}

const newSecret = (): string => randomBytes(30).toString("base64").replace(/[+/=]/g, "").slice(0, 40).padEnd(40, "A");

/** Validates the file's content against the known groups; lists every problem. */
export function parsePrincipals(input: unknown, knownGroups: ReadonlySet<string>, file: string): { principals: Principal[]; generated: boolean } {
  const list = (input as { principals?: unknown })?.principals;
  if (!Array.isArray(list)) throw new ConfigError(`${file}: expected {"principals": [ ... ]}`);
  const problems: string[] = [];
  const names = new Set<string>();
  const keys = new Set<string>();
  let generated = false;
  const principals = list.map((raw: unknown, i): Principal => {
    const p = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const where = `${file}: principals[${i}]`;
    const name = typeof p.name === "string" ? p.name : "";
    if (!NAME.test(name)) problems.push(`${where}.name must match ${NAME.source}`);
    else if (names.has(name)) problems.push(`${where}.name "${name}" is used twice`);
    names.add(name);
    const group = typeof p.group === "string" ? p.group : "";
    if (!knownGroups.has(group)) problems.push(`${where}.group "${group}" is not a group of policies/groups (${[...knownGroups].join(", ")})`);
    let accessKeyId = p.accessKeyId;
    let secretAccessKey = p.secretAccessKey;
    if (accessKeyId === undefined && secretAccessKey === undefined) {
      accessKeyId = newAccessKeyId();
      secretAccessKey = newSecret();
      generated = true;
    }
    if (typeof accessKeyId !== "string" || !ACCESS_KEY_ID.test(accessKeyId)) problems.push(`${where}.accessKeyId must be 16 or more of A-Z and 0-9`);
    else if (keys.has(accessKeyId)) problems.push(`${where}.accessKeyId is used twice`);
    keys.add(String(accessKeyId));
    if (typeof secretAccessKey !== "string" || secretAccessKey.length < 16) problems.push(`${where}.secretAccessKey must be a string of 16 or more characters`);
    return { name, group, accessKeyId: String(accessKeyId), secretAccessKey: String(secretAccessKey) };
  });
  if (problems.length > 0) throw new ConfigError(`invalid principals:\n  ${problems.join("\n  ")}`);
  return { principals, generated };
}

function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Reads `<data>/principals.json`, creating it with the default principals on first start. */
export function loadPrincipals(dataDir: string, knownGroups: ReadonlySet<string>): Principal[] {
  const file = join(dataDir, "principals.json");
  let input: unknown = { principals: DEFAULT_PRINCIPALS.filter((p) => knownGroups.has(p.group)) };
  if (existsSync(file)) {
    try {
      input = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new ConfigError(`${file} is not JSON: ${(e as Error).message}`);
    }
  }
  const { principals, generated } = parsePrincipals(input, knownGroups, file);
  if (generated || !existsSync(file)) writePrivate(file, `${JSON.stringify({ principals }, null, 2)}\n`);
  return principals;
}

/** The AWS shared credentials and config files, one profile per principal. */
export function writeAwsFiles(dataDir: string, principals: readonly Principal[], region: string): { credentialsFile: string; configFile: string } {
  const credentialsFile = join(dataDir, "aws", "credentials");
  const configFile = join(dataDir, "aws", "config");
  writePrivate(
    credentialsFile,
    principals.map((p) => `[${p.name}]\naws_access_key_id = ${p.accessKeyId}\naws_secret_access_key = ${p.secretAccessKey}\n`).join("\n"),
  );
  writePrivate(configFile, principals.map((p) => `[profile ${p.name}]\nregion = ${region}\n`).join("\n"));
  return { credentialsFile, configFile };
}

/** The gateway's key store: access key id → principal. */
export function principalStore(principals: readonly Principal[]): CredentialStore & { groupOf(principal: string): string | undefined } {
  const byKey = new Map<string, SigV4Credential>(
    principals.map((p) => [p.accessKeyId, { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, principal: p.name }]),
  );
  const groups = new Map(principals.map((p) => [p.name, p.group]));
  return { find: (id) => byKey.get(id), groupOf: (name) => groups.get(name) };
}
