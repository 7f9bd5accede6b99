import { Duration, Stack, Token, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference";
import { Construct } from "constructs";
import { CatalogRoute } from "../../authorizer/core/catalog";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { GroupExecuteApiPolicies } from "./execute-api-policies";
import { EXTERNAL_ID, PRINCIPAL_ARN, ROLE_NAME } from "../../authorizer/core/contract";

/** What a group may do to the artifact store directly, decided from the route catalog. */
export interface ArtifactAccess {
  /** Catalog routes (`METHOD path`) that upload artifacts and that the group may call. */
  readonly uploadRoutes: readonly string[];
  /** Catalog routes that delete artifacts and that the group may call. */
  readonly deleteRoutes: readonly string[];
}

/** A write-class route of the artifact store (uploads, multipart uploads, presigned upload URLs, deletes). */
export function isArtifactWriteRoute(route: CatalogRoute): boolean {
  return route.class === "write" && /artifact/i.test(route.path);
}

/**
 * The artifact routes a group's compiled grants include: a group gets s3:PutObject only if it may upload an
 * artifact through MLflow, and s3:DeleteObject only if it may delete one. Direct S3 access must never be
 * wider than what the API would let the same group do; group names play no part.
 */
export function artifactAccessOf(policySet: PolicySet, group: string): ArtifactAccess {
  const writes = policySet.catalog.routes.filter((r) => isArtifactWriteRoute(r) && policySet.intends([group], r));
  const id = (r: CatalogRoute) => `${r.method} ${r.path}`;
  return {
    uploadRoutes: writes.filter((r) => r.method !== "DELETE").map(id),
    deleteRoutes: writes.filter((r) => r.method === "DELETE").map(id),
  };
}

/**
 * Where MLflow keeps artifacts in the bucket, as a key prefix ending in "/" ("" for the whole bucket);
 * `artifacts` and `artifacts/` are the same prefix (MLflow's `--artifacts-destination s3://bucket/artifacts`).
 */
export function normalizeArtifactPrefix(prefix: string, problems: string[]): string {
  if (prefix === "") return "";
  if (!/^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*\/?$/.test(prefix)) {
    problems.push(
      `artifactPrefix must be "" or a key prefix without wildcards or a leading "/", not ${JSON.stringify(prefix)}`,
    );
  }
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

export interface MlflowGroupGrantsProps {
  readonly policySet: PolicySet;
  /** The group (policies/groups/<group>.yaml) whose rights the role gets. */
  readonly group: string;
  readonly api: apigw.IRestApi;
  readonly stageName: string;
  /** MLflow's artifact store. */
  readonly artifactBucket: s3.IBucket;
  /**
   * The key prefix MLflow writes artifacts under (`--artifacts-destination s3://bucket/<prefix>`), with or without a trailing "/".
   * @default "" (the whole bucket, which holds nothing but MLflow's artifacts)
   */
  readonly artifactPrefix?: string;
  /** The role that gets the grants. */
  readonly role: iam.IRole;
}

/**
 * Everything a principal of a group needs to use MLflow from the SDK: the group's compiled execute-api
 * policies (never hand-written) and direct S3 access to the artifact store that matches the group's
 * artifact routes (read for every group, upload and delete only where the catalog says the group may).
 */
export class MlflowGroupGrants extends Construct {
  public readonly policies: GroupExecuteApiPolicies;
  /** Artifact store access: read, plus writes only where `artifactAccess` lists routes. */
  public readonly artifactPolicy: iam.ManagedPolicy;
  public readonly artifactAccess: ArtifactAccess;

  constructor(scope: Construct, id: string, props: MlflowGroupGrantsProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!props.policySet.groups.has(props.group))
      problems.push(
        `group must be one of ${[...props.policySet.groups.keys()].join(", ")}, not ${JSON.stringify(props.group)}`,
      );
    const prefix = normalizeArtifactPrefix(props.artifactPrefix ?? "", problems);
    if (problems.length > 0) throw new ConfigError(`${this.node.path}: ${problems.join("; ")}`);

    this.policies = new GroupExecuteApiPolicies(this, "ExecuteApi", {
      policySet: props.policySet,
      group: props.group,
      api: props.api,
      stageName: props.stageName,
      role: props.role,
    });
    for (const policy of this.policies.policies) {
      acknowledgeWildcards(policy, (sid) =>
        /^MlflowGate\d+$/.test(sid)
          ? `execute-api resources compiled from policies/groups/${props.group}.yaml by the policy compiler; each glob is a route template's parameters, and the compiler proves (test/authorizer/core/compile.test.ts) that no glob reaches a route the group may not call`
          : undefined,
      );
    }

    this.artifactAccess = artifactAccessOf(props.policySet, props.group);
    const bucket = props.artifactBucket;
    const objects = bucket.arnForObjects(`${prefix}*`);
    const statements = [
      new iam.PolicyStatement({ sid: "ReadArtifacts", actions: ["s3:GetObject"], resources: [objects] }),
      new iam.PolicyStatement({
        sid: "ListArtifacts",
        actions: ["s3:ListBucket"],
        resources: [bucket.bucketArn],
        ...(prefix === "" ? {} : { conditions: { StringLike: { "s3:prefix": [`${prefix}*`] } } }),
      }),
    ];
    if (this.artifactAccess.uploadRoutes.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: "UploadArtifacts",
          actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
          resources: [objects],
        }),
      );
    }
    if (this.artifactAccess.deleteRoutes.length > 0) {
      statements.push(
        new iam.PolicyStatement({ sid: "DeleteArtifacts", actions: ["s3:DeleteObject"], resources: [objects] }),
      );
    }
    if (bucket.encryptionKey) {
      const stack = Stack.of(this);
      const write = this.artifactAccess.uploadRoutes.length > 0;
      statements.push(
        new iam.PolicyStatement({
          sid: "ArtifactKey",
          actions: write ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `s3.${stack.region}.${stack.urlSuffix}` } },
        }),
      );
    }
    this.artifactPolicy = new iam.ManagedPolicy(this, "Artifacts", {
      description: `mlflow-gate: ${props.group} on MLflow's artifact store (${this.artifactAccess.uploadRoutes.length > 0 ? "read and write" : "read only"}, from the route catalog)`,
      statements,
      roles: [props.role],
    });
    acknowledgeWildcards(this.artifactPolicy, (sid) =>
      ["ReadArtifacts", "UploadArtifacts", "DeleteArtifacts"].includes(sid)
        ? "the objects of MLflow's artifact store (its bucket, under its prefix): MLflow names artifact keys after experiment and run ids, so no narrower resource exists; writes are only granted to groups that may write artifacts through the API"
        : undefined,
    );
  }
}

/** The group's grants (as MlflowGroupGrants gives them), on a role this construct creates. */
export interface MlflowAccessRoleProps extends Omit<MlflowGroupGrantsProps, "role"> {
  /** Exactly the principals that may assume the role (roles, users or account roots of other accounts). */
  readonly trustedPrincipalArns: readonly string[];
  /** When set, AssumeRole must pass it (sts:ExternalId): the other account's confused-deputy guard. @default - none */
  readonly externalId?: string;
  /** @default - generated by CloudFormation */
  readonly roleName?: string;
}

/**
 * A role that principals of another account assume to use MLflow as one group (the seed's cross-account
 * pattern): trust for exactly the given principals, one-hour sessions, and the group's grants.
 * Only sts:AssumeRole is trusted: session tags and source identity are not needed by the MLflow client,
 * and allowing sts:TagSession would let the caller set tags that tag-based policies might trust.
 */
export class MlflowAccessRole extends Construct {
  public readonly role: iam.Role;
  public readonly policies: GroupExecuteApiPolicies;
  public readonly grants: MlflowGroupGrants;

  constructor(scope: Construct, id: string, props: MlflowAccessRoleProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!props.policySet.groups.has(props.group))
      problems.push(
        `group must be one of ${[...props.policySet.groups.keys()].join(", ")}, not ${JSON.stringify(props.group)}`,
      );
    if (props.trustedPrincipalArns.length === 0) problems.push("trustedPrincipalArns must not be empty");
    for (const arn of props.trustedPrincipalArns) {
      if (!Token.isUnresolved(arn) && !PRINCIPAL_ARN.test(arn))
        problems.push(`trustedPrincipalArns: ${JSON.stringify(arn)} is not an IAM role, user or account root ARN`);
    }
    if (new Set(props.trustedPrincipalArns).size !== props.trustedPrincipalArns.length)
      problems.push("trustedPrincipalArns has duplicates");
    if (props.externalId !== undefined && !EXTERNAL_ID.test(props.externalId))
      problems.push("externalId must be 2 to 1224 characters of [\\w+=,.@:/-]");
    if (props.roleName !== undefined && !ROLE_NAME.test(props.roleName))
      problems.push(`roleName ${JSON.stringify(props.roleName)} is not an IAM role name`);
    normalizeArtifactPrefix(props.artifactPrefix ?? "", problems);
    if (problems.length > 0) throw new ConfigError(`${this.node.path}: ${problems.join("; ")}`);

    this.role = new iam.Role(this, "Role", {
      ...(props.roleName ? { roleName: props.roleName } : {}),
      description: `mlflow-gate: assumed from other accounts to use MLflow as group ${props.group}`,
      assumedBy: new iam.CompositePrincipal(...props.trustedPrincipalArns.map((arn) => new iam.ArnPrincipal(arn))),
      ...(props.externalId ? { externalIds: [props.externalId] } : {}),
      maxSessionDuration: Duration.hours(1),
    });
    this.grants = new MlflowGroupGrants(this, "Grants", {
      policySet: props.policySet,
      group: props.group,
      api: props.api,
      stageName: props.stageName,
      artifactBucket: props.artifactBucket,
      ...(props.artifactPrefix !== undefined ? { artifactPrefix: props.artifactPrefix } : {}),
      role: this.role,
    });
    this.policies = this.grants.policies;
  }
}

/**
 * Acknowledges cdk-nag's wildcard findings (AwsSolutions-IAM5) of the statements whose Sid `reasonFor`
 * explains, each by its full finding id; wildcards of any other statement stay findings. A finding id holds
 * the resolved resource, which is final only after the app's prepare phase (a reference to another stack
 * becomes Fn::ImportValue), so the ids are computed in a construct validation: CDK runs those after
 * prepare and before the validation plugins. Nothing else happens there.
 */
export function acknowledgeWildcards(
  policy: iam.ManagedPolicy | iam.Policy,
  reasonFor: (sid: string) => string | undefined,
): void {
  const cfn = policy.node.defaultChild as iam.CfnManagedPolicy | iam.CfnPolicy;
  policy.node.addValidation({
    validate: () => {
      const doc = Stack.of(cfn).resolve(cfn.policyDocument) as {
        Statement?: { Sid?: string; Effect: string; Action: unknown; Resource: unknown }[];
      };
      const acknowledged = new Set<string>();
      for (const s of doc.Statement ?? []) {
        const reason = s.Effect === "Allow" && s.Sid ? reasonFor(s.Sid) : undefined;
        if (reason === undefined) continue;
        const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
        const findings = [
          ...list(s.Action)
            .filter((a): a is string => typeof a === "string" && a.includes("*"))
            .map((a) => `Action::${a}`),
          ...list(s.Resource)
            .map((r) => flattenCfnReference(r))
            .filter((r) => r.includes("*"))
            .map((r) => `Resource::${r}`),
        ];
        for (const f of findings.filter((x) => !acknowledged.has(x))) {
          acknowledged.add(f);
          Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${f}]`, reason });
        }
      }
      return [];
    },
  });
}
