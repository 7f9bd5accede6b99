import { Stack } from "aws-cdk-lib";
import { IRestApi } from "aws-cdk-lib/aws-apigateway";
import { IRole, ManagedPolicy, PolicyDocument } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { PolicySet } from "../../authorizer/core/policy-set";

export interface GroupExecuteApiPoliciesProps {
  readonly policySet: PolicySet;
  /** The caller group (a group file, or with teams a team group) whose compiled IAM policy the role gets. */
  readonly group: string;
  readonly api: IRestApi;
  readonly stageName: string;
  readonly role: IRole;
}

/**
 * The execute-api permissions of a group, exactly as the compiler writes them (never hand-written),
 * as customer managed policies attached to a role: as many as IAM's 6,144-character limit needs.
 */
export class GroupExecuteApiPolicies extends Construct {
  /** One managed policy per document the compiler produced. */
  public readonly policies: readonly ManagedPolicy[];

  constructor(scope: Construct, id: string, props: GroupExecuteApiPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const docs = props.policySet.iamPolicies(props.group, {
      partition: stack.partition,
      region: stack.region,
      account: stack.account,
      apiId: props.api.restApiId,
      stage: props.stageName,
    });
    this.policies = docs.map(
      (doc, i) =>
        new ManagedPolicy(this, `Policy${i}`, {
          description: `mlflow-gate: ${props.group} on MLflow's SDK routes (${i + 1} of ${docs.length}), compiled from ${props.policySet.teams ? "the team files' tiers" : `policies/groups/${props.group}.yaml`}`,
          document: PolicyDocument.fromJson(doc),
          roles: [props.role],
        }),
    );
  }
}
