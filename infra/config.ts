import { ConfigError } from "../authorizer/core/errors";
import { ACCOUNT_ID, EXTERNAL_ID, PRINCIPAL_ARN, REGION, ROLE_NAME } from "../authorizer/core/contract";

/** A role in the MLflow account that principals of another account assume to use MLflow as a group. */
export interface CrossAccountRoleConfig {
  /** The role's name (its ARN is what the other account's execution roles assume). */
  readonly roleName: string;
  /** The group whose compiled policy the role carries. */
  readonly group: string;
  /** Principal ARNs of the other account trusted to assume it (roles or the account root). */
  readonly trustedPrincipalArns: readonly string[];
  /** When set, the assume-role call must pass this ExternalId. */
  readonly externalId?: string;
}

/** A SageMaker Studio user profile whose execution role uses MLflow as one caller group. */
export interface StudioProfileConfig {
  /** The profile's name (its execution role is `mlflow-gate-<profileName>-<region>`, infra/iam-callers.ts). */
  readonly profileName: string;
  /** The caller group whose compiled policies the execution role carries (PolicySet.callerGroups). */
  readonly group: string;
  /** Construct ids' stem: the profile name without `mlflow-`, in PascalCase (`mlflow-reader` → `Reader`). */
  readonly id: string;
}

/**
 * The deployment's configuration, from the `mlflow-gate` key of cdk.json's context (or `-c`),
 * validated once with every problem listed together.
 */
export interface InfraConfig {
  /** Target account and region; undefined means the CLI's environment (`cdk synth` works without). */
  readonly account?: string;
  readonly region?: string;
  /** The API Gateway stage. @default "prod" */
  readonly stageName: string;
  /** CIDRs allowed to call the API at all (its resource policy); empty: any source, auth still required. */
  readonly allowedSourceCidrs: readonly string[];
  /**
   * The VPC's two AZs by id (`use1-az1`), where the region's first two by name will not do (SageMaker Studio
   * supports only some AZs, and a name maps to a different AZ in each account). @default the first two
   */
  readonly availabilityZoneIds?: readonly [string, string];
  /** Use this SageMaker Studio domain instead of creating one. */
  readonly sagemakerDomainId?: string;
  /** Where the UI is served from, for the app client's callback and the API's CORS (Amplify's URL by default). */
  readonly uiOrigin?: string;
  readonly crossAccountRoles: readonly CrossAccountRoleConfig[];
  /**
   * The Studio user profiles, from `studioProfiles` (`[{profileName, group}]`); @default those of STUDIO_PROFILES
   * whose group is a caller group (all four without teams; with teams, mlflow-admin only)
   */
  readonly studioProfiles: readonly StudioProfileConfig[];
  /** MLflow's Fargate service. */
  readonly mlflow: {
    readonly cpu: number;
    readonly memoryMiB: number;
    readonly minTasks: number;
    readonly maxTasks: number;
  };
  /** API Gateway stage throttling (requests per second, burst). */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

const STAGE = /^[A-Za-z0-9_]{1,128}$/;
/** An AZ id: the region's short name and the AZ's number (`use1-az1`, `euw2-az3`, `usw2-lax1-az1`). */
const AZ_ID = /^[a-z]{2,4}\d(-[a-z]{3}\d)?-az\d{1,2}$/;

/**
 * Account ids of documentation and examples (AWS's, and the one this project's cdk.json once shipped): no
 * deployment trusts a principal there, and IAM refuses a trust policy naming one that does not exist
 * ("Invalid principal in policy"), after the stack has begun to deploy.
 */
export const EXAMPLE_ACCOUNT_IDS: ReadonlySet<string> = new Set([
  "000000000000",
  "111122223333",
  "123456789012",
  "210987654321",
  "444455556666",
  "555555555555",
]);

/** An ExternalId that reads like a placeholder: a shared secret must be one the two accounts agreed. */
const PLACEHOLDER_EXTERNAL_ID = /change[-_ ]?me|example|placeholder|replace|todo|xxx/i;
/**
 * The Studio user profiles of a deployment without `studioProfiles`, each with the group its execution role
 * carries; only those whose group is a caller group are created (with teams, `readers` and the like are tiers,
 * not caller groups, so only mlflow-admin remains: team groups get profiles by listing them).
 */
export const STUDIO_PROFILES: readonly StudioProfileConfig[] = [
  { profileName: "mlflow-admin", group: "admins", id: "Admin" },
  { profileName: "mlflow-reader", group: "readers", id: "Reader" },
  { profileName: "mlflow-model-approver", group: "model-approvers", id: "ModelApprover" },
  { profileName: "mlflow-release-manager", group: "release-managers", id: "ReleaseManager" },
];
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/;

/**
 * The longest profile name whose execution role name fits IAM's 64 characters: `mlflow-gate-` (12), `-` and the
 * longest region name (14).
 */
const MAX_PROFILE_NAME = 64 - 12 - 1 - 14;
/** SageMaker's UserProfileName. */
const PROFILE_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** `mlflow-model-approver` → `ModelApprover`: a profile's construct id stem. */
export function studioProfileId(profileName: string): string {
  return profileName
    .replace(/^mlflow-/, "")
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== "")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

/**
 * Validates the context value against the caller groups (PolicySet.callerGroups: the group files without teams;
 * with teams, the groups the team files name and the global groups such as admins).
 */
export function parseInfraConfig(
  input: unknown,
  knownGroups: ReadonlySet<string>,
  defaultStudioProfiles: readonly StudioProfileConfig[] = STUDIO_PROFILES,
): InfraConfig {
  const known = (): string => [...knownGroups].sort().join(", ");
  const problems: string[] = [];
  const c = (input ?? {}) as Record<string, unknown>;
  if (typeof c !== "object" || Array.isArray(c)) throw new ConfigError('context "mlflow-gate" must be an object');
  const str = (key: string, re: RegExp, what: string): string | undefined => {
    const v = c[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string" || !re.test(v))
      problems.push(`mlflow-gate.${key} must be ${what}, not ${JSON.stringify(v)}`);
    return typeof v === "string" ? v : undefined;
  };
  const int = (
    obj: Record<string, unknown>,
    path: string,
    key: string,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const v = obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
      problems.push(`mlflow-gate.${path}${key} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}`);
    return typeof v === "number" ? v : fallback;
  };
  const account = str("account", ACCOUNT_ID, "a 12-digit account id");
  const region = str("region", REGION, "a region name");
  const stageName = str("stageName", STAGE, "letters, digits and _") ?? "prod";
  const sagemakerDomainId = str("sagemakerDomainId", /^d-[a-z0-9]{12}$/, "a Studio domain id (d-xxxxxxxxxxxx)");
  const uiOrigin = str("uiOrigin", /^https:\/\/[a-z0-9.-]+(:\d+)?$/, "an https origin without a path");
  const cidrs = c.allowedSourceCidrs ?? [];
  if (!Array.isArray(cidrs) || !cidrs.every((x) => typeof x === "string" && CIDR.test(x)))
    problems.push("mlflow-gate.allowedSourceCidrs must be a list of CIDRs");

  let availabilityZoneIds: [string, string] | undefined;
  const azIds = c.availabilityZoneIds;
  if (azIds !== undefined) {
    if (
      !Array.isArray(azIds) ||
      azIds.length !== 2 ||
      !azIds.every((a) => typeof a === "string" && AZ_ID.test(a)) ||
      azIds[0] === azIds[1]
    )
      problems.push(
        `mlflow-gate.availabilityZoneIds must be two different AZ ids such as ["use1-az1", "use1-az2"] (aws ec2 describe-availability-zones lists yours), not ${JSON.stringify(azIds)}`,
      );
    else availabilityZoneIds = [azIds[0] as string, azIds[1] as string];
  }

  const roles = c.crossAccountRoles ?? [];
  const crossAccountRoles: CrossAccountRoleConfig[] = [];
  if (!Array.isArray(roles)) problems.push("mlflow-gate.crossAccountRoles must be a list");
  else {
    roles.forEach((raw: unknown, i) => {
      const r = (raw ?? {}) as Record<string, unknown>;
      const where = `mlflow-gate.crossAccountRoles[${i}]`;
      if (typeof r.roleName !== "string" || !ROLE_NAME.test(r.roleName))
        problems.push(`${where}.roleName must be an IAM role name`);
      if (typeof r.group !== "string" || !knownGroups.has(r.group))
        problems.push(`${where}.group must be a caller group (one of ${known()}), not ${JSON.stringify(r.group)}`);
      const arns = r.trustedPrincipalArns;
      if (
        !Array.isArray(arns) ||
        arns.length === 0 ||
        !arns.every((a) => typeof a === "string" && PRINCIPAL_ARN.test(a))
      ) {
        problems.push(`${where}.trustedPrincipalArns must be a non-empty list of IAM role, user or root ARNs`);
      } else {
        for (const arn of arns as string[]) {
          const account = arn.split(":")[4] ?? "";
          if (EXAMPLE_ACCOUNT_IDS.has(account))
            problems.push(
              `${where}.trustedPrincipalArns: ${arn} is in an example account (${account}): put the ARN of a role or user that exists in the other account (IAM refuses a trust policy that names a principal that does not exist)`,
            );
        }
      }
      if (r.externalId !== undefined && (typeof r.externalId !== "string" || !EXTERNAL_ID.test(r.externalId)))
        problems.push(`${where}.externalId must be 2 to 1224 characters of [\\w+=,.@:/-]`);
      else if (typeof r.externalId === "string" && PLACEHOLDER_EXTERNAL_ID.test(r.externalId))
        problems.push(
          `${where}.externalId "${r.externalId}" is a placeholder: agree a secret with the other account (e.g. the output of \`openssl rand -hex 16\`) or leave externalId out`,
        );
      crossAccountRoles.push({
        roleName: String(r.roleName),
        group: String(r.group),
        trustedPrincipalArns: Array.isArray(arns) ? (arns as string[]) : [],
        ...(typeof r.externalId === "string" ? { externalId: r.externalId } : {}),
      });
    });
  }
  let studioProfiles: StudioProfileConfig[];
  const profiles = c.studioProfiles;
  if (profiles === undefined) studioProfiles = defaultStudioProfiles.filter((p) => knownGroups.has(p.group));
  else {
    studioProfiles = [];
    if (!Array.isArray(profiles)) problems.push("mlflow-gate.studioProfiles must be a list of {profileName, group}");
    else
      profiles.forEach((raw: unknown, i) => {
        const p = (raw ?? {}) as Record<string, unknown>;
        const where = `mlflow-gate.studioProfiles[${i}]`;
        if (
          typeof p.profileName !== "string" ||
          !PROFILE_NAME.test(p.profileName) ||
          p.profileName.length > MAX_PROFILE_NAME
        )
          problems.push(
            `${where}.profileName must be 1 to ${MAX_PROFILE_NAME} letters, digits and inner "-" (its execution role's name must fit IAM's 64 characters), not ${JSON.stringify(p.profileName)}`,
          );
        else if (studioProfiles.some((q) => q.profileName === p.profileName))
          problems.push(`${where}.profileName ${p.profileName} is listed twice`);
        if (typeof p.group !== "string" || !knownGroups.has(p.group))
          problems.push(`${where}.group must be a caller group (one of ${known()}), not ${JSON.stringify(p.group)}`);
        for (const key of Object.keys(p))
          if (key !== "profileName" && key !== "group")
            problems.push(`${where}.${key} is not a setting (profileName, group)`);
        studioProfiles.push({
          profileName: String(p.profileName),
          group: String(p.group),
          id: studioProfileId(String(p.profileName)),
        });
      });
  }
  if (new Set(studioProfiles.map((p) => p.id)).size !== studioProfiles.length)
    problems.push("mlflow-gate.studioProfiles: two profile names make the same construct id");
  const m = (c.mlflow ?? {}) as Record<string, unknown>;
  const mlflow = {
    cpu: int(m, "mlflow.", "cpu", 1024, 256, 16384),
    memoryMiB: int(m, "mlflow.", "memoryMiB", 2048, 512, 122880),
    minTasks: int(m, "mlflow.", "minTasks", 1, 1, 100),
    maxTasks: int(m, "mlflow.", "maxTasks", 4, 1, 100),
  };
  if (mlflow.maxTasks < mlflow.minTasks) problems.push("mlflow-gate.mlflow.maxTasks must be at least minTasks");
  const t = (c.throttle ?? {}) as Record<string, unknown>;
  const throttle = {
    rateLimit: int(t, "throttle.", "rateLimit", 200, 1, 10000),
    burstLimit: int(t, "throttle.", "burstLimit", 400, 1, 5000),
  };
  const settings = new Set([
    "account",
    "region",
    "stageName",
    "allowedSourceCidrs",
    "sagemakerDomainId",
    "uiOrigin",
    "availabilityZoneIds",
    "crossAccountRoles",
    "studioProfiles",
    "mlflow",
    "throttle",
  ]);
  for (const key of Object.keys(c))
    if (!settings.has(key)) problems.push(`mlflow-gate.${key} is not a setting (known: ${[...settings].join(", ")})`);
  if (problems.length > 0)
    throw new ConfigError(
      `invalid deployment configuration (cdk.json context "mlflow-gate"):\n  ${problems.join("\n  ")}`,
    );
  return {
    ...(account ? { account } : {}),
    ...(region ? { region } : {}),
    stageName,
    allowedSourceCidrs: cidrs as string[],
    ...(sagemakerDomainId ? { sagemakerDomainId } : {}),
    ...(uiOrigin ? { uiOrigin } : {}),
    ...(availabilityZoneIds ? { availabilityZoneIds } : {}),
    crossAccountRoles,
    studioProfiles,
    mlflow,
    throttle,
  };
}
