import { InfraConfig } from "./config";

/**
 * The SigV4 callers a deployment creates, and the group each one's role carries. The guard needs the same
 * table (MLFLOW_GATE_GUARD_IAM_GROUPS): API Gateway tells it only the caller's ARN, and promotion rules
 * depend on the group. The table is computed from the configuration in both stacks, so the guard's stack
 * needs no reference to the roles' stack (which depends on it through the API).
 */

/** The Studio profiles of a deployment that lists none (config.ts; without teams, all four). */
export { STUDIO_PROFILES } from "./config";

/**
 * A Studio execution role's name: fixed, so that the guard's table can name it. The region keeps two
 * deployments of one account apart (IAM names are global); at most 12 + 22 + 1 + 14 = 49 characters of
 * IAM's 64. `region` may be CloudFormation's `AWS::Region` token: it resolves alike in every stack.
 */
export function studioExecutionRoleName(profileName: string, region: string): string {
  return `mlflow-gate-${profileName}-${region}`;
}

/** `role/<name>` → group, for every role of the deployment that calls MLflow with SigV4. */
export function iamCallerGroups(
  config: Pick<InfraConfig, "crossAccountRoles" | "studioProfiles">,
  region: string,
): Map<string, string> {
  return new Map([
    ...config.studioProfiles.map((p): [string, string] => [
      `role/${studioExecutionRoleName(p.profileName, region)}`,
      p.group,
    ]),
    ...config.crossAccountRoles.map((r): [string, string] => [`role/${r.roleName}`, r.group]),
  ]);
}
