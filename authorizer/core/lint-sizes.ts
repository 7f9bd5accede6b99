// The sizes `mlflow-gate policy lint` measures, in the worst case: the authorizer's largest answer for a set of
// groups (every request key of the API), and the scopes IAM policies are measured with. Pure.
import { AnswerKey, authorizerKeys } from "./answer-scope";
import { API_GATEWAY } from "./contract";
import { MethodArnStage } from "./method-arn";
import { authorizerScope, PolicySet } from "./policy-set";

/** Worst-case scopes: API ids have 10 characters; stage names are assumed to have at most 20. */
const WORST_AUTHORIZER_SCOPE: MethodArnStage = authorizerScope({ partition: "aws", apiId: "a".repeat(10) });
export const WORST_IAM_SCOPE: MethodArnStage = {
  partition: "aws",
  region: "ap-southeast-5",
  account: "123456789012",
  apiId: "a".repeat(10),
  stage: "s".repeat(20),
};
/** A Cognito `sub` (a UUID) and the longest username Cognito allows. */
const WORST_PRINCIPAL_ID = "00000000-0000-0000-0000-000000000000";
const WORST_USERNAME = "u".repeat(128);

/** The authorizer's largest answer for a set of groups, and the request key it answers. */
export interface LargestAnswer {
  readonly authorizerBytes: number;
  readonly key: AnswerKey | undefined;
}

function answerBytes(set: PolicySet, groups: readonly string[], key: AnswerKey): number {
  // The shape authorizer/authorize.ts returns, with the longest principal and username.
  const response = {
    principalId: WORST_PRINCIPAL_ID,
    policyDocument: set.authorizerAnswer(groups, WORST_AUTHORIZER_SCOPE, key),
    context: { username: WORST_USERNAME, groups: [...groups].sort().join(","), tokenUse: "access" },
  };
  return Buffer.byteLength(JSON.stringify(response), "utf8");
}

/**
 * The workspaces whose answers are measured: with teams, each one the groups reach (every team's and `default` for a
 * global group), since each request's answer is its own team's; without teams, none (one answer per key).
 */
function workspacesToMeasure(set: PolicySet, groups: readonly string[]): (string | undefined)[] {
  if (!set.teams) return [undefined];
  const reach = set.reachableWorkspaces(groups);
  const names = reach === "all" ? set.teams.allWorkspaces : [...reach].sort();
  return names.length > 0 ? names : [undefined];
}

/** The largest of the authorizer's answers for the groups, over every key the deployed API can ask about. */
export function largestAnswer(set: PolicySet, groups: readonly string[]): LargestAnswer {
  let largest: LargestAnswer = { authorizerBytes: 0, key: undefined };
  const workspaces = workspacesToMeasure(set, groups);
  for (const base of authorizerKeys(set.catalog.routes, set.teams !== undefined)) {
    for (const workspace of workspaces) {
      const key = workspace === undefined ? base : { ...base, workspace };
      const authorizerBytes = answerBytes(set, groups, key);
      if (authorizerBytes > largest.authorizerBytes) largest = { authorizerBytes, key };
    }
  }
  return largest;
}

/** "for GET /path/{proxy+}": where the largest answer is. */
function at(key: AnswerKey | undefined): string {
  return key ? ` (for ${key.method} ${key.resource}${key.workspace ? ` in ${key.workspace}` : ""})` : "";
}

/** Why an answer is too large, or undefined. */
export function answerTooLarge(who: string, largest: LargestAnswer): string | undefined {
  const limit = API_GATEWAY.maxAuthorizerResponseBytes;
  return largest.authorizerBytes > limit
    ? `the authorizer's largest answer for ${who} is ${largest.authorizerBytes} bytes${at(largest.key)}; mlflow-gate designs to ${limit} (docs/policies.md, "Size limits")`
    : undefined;
}
