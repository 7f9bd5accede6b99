import { existsSync } from "fs";
import { join } from "path";
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, StackProps, Token, Validations } from "aws-cdk-lib";
import * as amplify from "aws-cdk-lib/aws-amplify";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3assets from "aws-cdk-lib/aws-s3-assets";
import * as cr from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { ApiDefinition, SECURITY_SCHEMES } from "../../authorizer/core/api-definition";
import { CatalogRoute, parsePathTemplate } from "../../authorizer/core/catalog";
import { CatalogError, ConfigError } from "../../authorizer/core/errors";
import {
  DEFAULT_WORKSPACE,
  isTeamName,
  TEAM_NAME_RULE,
  WORKSPACE_PATH_PARAMETER,
  WORKSPACE_PATH_PART,
} from "../../authorizer/core/contract";
import { PolicySet } from "../../authorizer/core/policy-set";
import { InfraConfig } from "../config";
import { acknowledgeWildcards } from "../constructs/mlflow-access-role";
import { addPollingCustomResource } from "../constructs/polling-custom-resource";
import { SHELL_SCRIPT } from "../../ui-patch/build-ui";
import { UI_CONFIG_PATH } from "../../ui-patch/shell/config";
import { REPO_ROOT } from "../../project/paths";

export interface UiRewrite {
  readonly source: string;
  readonly target: string;
  readonly status: string;
}

/**
 * Amplify's single-page-app rule (its documented regex): paths without a file extension, or with one
 * that is not a static asset's, get /index.html; asset requests that miss stay 404.
 */
export const SPA_FALLBACK: UiRewrite = {
  source: "</^[^.]+$|\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json|webp)$)([^.]+$)/>",
  target: "/index.html",
  status: "200",
};

/** A concrete path of a template: each parameter filled with sample text (greedy ones with a slash). */
export function samplePath(route: Pick<CatalogRoute, "path">): string {
  return parsePathTemplate(route.path)
    .map((p) => (p.kind === "literal" ? p.text : p.kind === "segment" ? "x1" : "dir/file.txt"))
    .join("");
}

/**
 * Amplify rewrites derived from the API definition: every path of the API that the browser calls (the
 * Lambda authorizer's methods, and the MOCK of the shell's config, the one without authorization) is
 * proxied (status 200) to the API stage, so the browser stays same-origin: one rule per first path segment,
 * `/<segment>/<*>` when paths go deeper and `/<segment>` for a path that is the segment alone; the SPA
 * fallback comes last (Amplify applies the first rule that matches). SigV4 paths are the SDK's and get no
 * rule. Public routes of the catalog (the UI's own files) are never proxied: a rule that would catch one is
 * an error. `apiBaseUrl` is `https://<api>.execute-api.<region>.<suffix>/<stage>`.
 *
 * With teams the API's MLflow paths are under `/ws/{workspace}/`, and the UI runs under `/ws/<team>/`: for each
 * workspace of `workspaces` (by name: Amplify's documented rules are literal paths and one `<*>`), the same
 * rules under `/ws/<workspace>/`, and the UI's own files there (`/ws/<workspace>/static-files/<*>`, which the
 * page's relative links ask for) rewritten to the app's `/static-files/<*>`. The shell's index for
 * `/ws/<workspace>/` and its deep links is the SPA fallback's.
 */
export function buildUiRewrites(
  definition: Pick<ApiDefinition, "paths">,
  publicRoutes: readonly CatalogRoute[],
  apiBaseUrl: string,
  workspaces: readonly string[] = [],
): UiRewrite[] {
  // By path prefix ("" at the root, "/ws/{workspace}" for the workspaces'): segments proxied deep and exact.
  const deep = new Map<string, Set<string>>();
  const exact = new Map<string, Set<string>>();
  const add = (into: Map<string, Set<string>>, prefix: string, segment: string) =>
    into.set(prefix, (into.get(prefix) ?? new Set()).add(segment));
  const WORKSPACE_PREFIX = `/${WORKSPACE_PATH_PART}/{${WORKSPACE_PATH_PARAMETER}}`;
  for (const [path, operations] of Object.entries(definition.paths)) {
    const forBrowsers = Object.values(operations).some((op) =>
      (op.security ?? []).every((s) => !(SECURITY_SCHEMES.iam in s)),
    );
    if (!forBrowsers) continue;
    const prefix = path.startsWith(`${WORKSPACE_PREFIX}/`) ? WORKSPACE_PREFIX : "";
    const rest = path.slice(prefix.length);
    const segment = rest.split("/")[1] ?? "";
    if (segment === "" || /[{}]/.test(segment))
      throw new CatalogError(`the API's UI path ${path} has no literal first segment to proxy by`);
    add(rest === `/${segment}` ? exact : deep, prefix, segment);
  }
  if ((deep.has(WORKSPACE_PREFIX) || exact.has(WORKSPACE_PREFIX)) && workspaces.length === 0)
    throw new CatalogError(`the API serves MLflow under ${WORKSPACE_PREFIX}/: the rewrites need the workspaces' names`);
  const proxiesUnder = (prefix: string, at: string): UiRewrite[] => {
    const d = deep.get(prefix) ?? new Set<string>();
    const e = exact.get(prefix) ?? new Set<string>();
    return [...new Set([...d, ...e])]
      .sort()
      .flatMap((segment) => [
        ...(d.has(segment)
          ? [{ source: `${at}/${segment}/<*>`, target: `${apiBaseUrl}${at}/${segment}/<*>`, status: "200" }]
          : []),
        ...(e.has(segment)
          ? [{ source: `${at}/${segment}`, target: `${apiBaseUrl}${at}/${segment}`, status: "200" }]
          : []),
      ]);
  };
  const inWorkspaces = deep.has(WORKSPACE_PREFIX) || exact.has(WORKSPACE_PREFIX);
  const workspaceRules = inWorkspaces
    ? [...new Set(workspaces)].sort().flatMap((w) => {
        if (!isTeamName(w) && w !== DEFAULT_WORKSPACE)
          throw new CatalogError(`workspace ${JSON.stringify(w)} is not a team name (${TEAM_NAME_RULE})`);
        const at = `/${WORKSPACE_PATH_PART}/${w}`;
        return [
          ...proxiesUnder(WORKSPACE_PREFIX, at),
          { source: `${at}/${UI_STATIC_SEGMENT}/<*>`, target: `/${UI_STATIC_SEGMENT}/<*>`, status: "200" },
        ];
      })
    : [];
  const proxies = [...proxiesUnder("", ""), ...workspaceRules.filter((r) => r.target.startsWith(apiBaseUrl))];
  const publicPaths = publicRoutes
    .filter((route) => route.auth === "none")
    .flatMap((r) => [
      [r, samplePath(r)] as const,
      ...(inWorkspaces ? workspaces.map((w) => [r, `/${WORKSPACE_PATH_PART}/${w}${samplePath(r)}`] as const) : []),
    ]);
  for (const [r, path] of publicPaths) {
    const hit = proxies.find((p) =>
      p.source.endsWith("/<*>") ? path.startsWith(p.source.slice(0, -3)) : path === p.source,
    );
    if (hit) throw new CatalogError(`rewrite ${hit.source} would proxy the public route ${r.method} ${r.path}`);
  }
  return [...proxiesUnder("", ""), ...workspaceRules, SPA_FALLBACK];
}

/** The first segment of the UI's own files (MLflow's `static-files/`), which index.html links relatively. */
const UI_STATIC_SEGMENT = "static-files";

export interface AmplifyMlflowStackProps extends StackProps {
  readonly config: InfraConfig;
  readonly policySet: PolicySet;
  readonly api: apigw.IRestApi;
  /** The API's definition (RestApiGatewayStack's): the rewrites proxy its browser paths. */
  readonly apiDefinition: Pick<ApiDefinition, "paths">;
  readonly stageName: string;
  /**
   * The patched UI built without a config (`npm run build:ui`, or `buildUi()` as infra/bin/app.ts
   * does): the shell reads `/mlflow-gate-ui.json` from the API (a MOCK in the API definition).
   */
  readonly uiDirectory: string;
}

const BRANCH = "main";

/** The handlers of the custom resource that waits for the deployment's job. */
const AMPLIFY_JOB_HANDLER = join(REPO_ROOT, "infra", "lambda", "amplify-job.ts");

/**
 * The MLflow UI on Amplify Hosting, deployed without a repository: the UI directory is a zipped asset,
 * copied into a bucket that only this app's branch may read (the documented bucket policy for deploying
 * from S3 with the SDK), then deployed with amplify:StartDeployment (CloudFormation's AWS::Amplify::Branch
 * has no source property; a manual-deploy branch takes its files from that call). UI API paths are
 * proxied to the API stage (`buildUiRewrites`).
 */
export class AmplifyMlflowStack extends Stack {
  public readonly app: amplify.CfnApp;
  public readonly branch: amplify.CfnBranch;
  public readonly uiAsset: s3assets.Asset;
  public readonly rewrites: readonly { source: string; target: string; status: string }[];
  /** Holds the deployed zips; readable by this app's branch only. */
  public readonly sourceBucket: s3.Bucket;
  /** Runs the copy and the deployment calls. */
  public readonly deployerRole: iam.Role;
  public readonly deployerLogGroup: logs.LogGroup;
  /** Lets the deployer write its own log group. */
  public readonly deployerLogging: iam.Policy;
  public readonly copyUi: cr.AwsCustomResource;
  public readonly deployment: cr.AwsCustomResource;
  /** Waits for the deployment's job: the stack's deployment fails when the job fails. */
  public readonly deploymentWait: CustomResource;

  constructor(scope: Construct, id: string, props: AmplifyMlflowStackProps) {
    super(scope, id, props);
    const uiDirectory = props.uiDirectory;
    const problems: string[] = [];
    if (!existsSync(join(uiDirectory, "index.html"))) problems.push(`uiDirectory ${uiDirectory} has no index.html`);
    else if (!existsSync(join(uiDirectory, SHELL_SCRIPT)))
      problems.push(
        `uiDirectory ${uiDirectory} is not the patched UI (no ${SHELL_SCRIPT}): build it with npm run build:ui`,
      );
    // A built-in config would win over the deployment's and could point browsers at another pool.
    if (existsSync(join(uiDirectory, UI_CONFIG_PATH)))
      problems.push(
        `uiDirectory ${uiDirectory} has its own ${UI_CONFIG_PATH.slice(1)}: build it without a config (npm run build:ui); the API serves this deployment's`,
      );
    if (!Token.isUnresolved(props.stageName) && props.stageName !== props.config.stageName) {
      problems.push(`stageName ${props.stageName} differs from the configured stage ${props.config.stageName}`);
    }
    if (problems.length > 0) throw new ConfigError(`${this.node.path}:\n  ${problems.join("\n  ")}`);

    const apiBaseUrl = `https://${props.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${props.stageName}`;
    this.rewrites = buildUiRewrites(
      props.apiDefinition,
      props.policySet.catalog.routes,
      apiBaseUrl,
      props.policySet.teams?.allWorkspaces ?? [],
    );

    this.app = new amplify.CfnApp(this, "App", {
      name: "mlflow-gate-ui",
      description: "mlflow-gate: the MLflow UI; its API paths are proxied to the API Gateway stage",
      platform: "WEB",
      customRules: this.rewrites.map((r) => ({ ...r })),
      customHeaders: [
        "customHeaders:",
        "  - pattern: '**'",
        "    headers:",
        "      - key: Strict-Transport-Security",
        "        value: max-age=31536000; includeSubDomains",
        "      - key: X-Content-Type-Options",
        "        value: nosniff",
        "      - key: Referrer-Policy",
        "        value: same-origin",
        "",
      ].join("\n"),
    });
    this.branch = new amplify.CfnBranch(this, "Branch", {
      appId: this.app.attrAppId,
      branchName: BRANCH,
      stage: "PRODUCTION",
      enableAutoBuild: false,
      framework: "Web",
    });

    this.uiAsset = new s3assets.Asset(this, "UiAsset", { path: uiDirectory });
    this.sourceBucket = new s3.Bucket(this, "SourceBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Amplify keeps its own copy once a deployment has started; old zips are only kept for a while.
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.sourceBucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "holds only zips of the UI build, the same files Amplify serves to anyone; it is written only by this stack's deployment custom resource, and its API calls are in CloudTrail",
    });
    // Amplify reads the zip as its service principal, for this app's branch only (aws:SourceArn is the
    // URL-encoded branch ARN, as Amplify's guide for deploying from S3 with the SDK requires).
    const onlyThisBranch = {
      StringEquals: {
        "aws:SourceAccount": this.account,
        "aws:SourceArn": `arn%3A${this.partition}%3Aamplify%3A${this.region}%3A${this.account}%3Aapps%2F${this.app.attrAppId}%2Fbranches%2F${BRANCH}`,
      },
    };
    const amplifyService = new iam.ServicePrincipal("amplify.amazonaws.com");
    this.sourceBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AmplifyReadsUiZips",
        principals: [amplifyService],
        actions: ["s3:GetObject"],
        resources: [this.sourceBucket.arnForObjects("ui/*")],
        conditions: onlyThisBranch,
      }),
    );
    this.sourceBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AmplifyListsUiZips",
        principals: [amplifyService],
        actions: ["s3:ListBucket"],
        resources: [this.sourceBucket.bucketArn],
        conditions: { ...onlyThisBranch, StringLike: { "s3:prefix": ["ui/*"] } },
      }),
    );

    this.deployerLogGroup = new logs.LogGroup(this, "DeployerLogs", {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deployerRole = new iam.Role(this, "DeployerRole", {
      description: "mlflow-gate: copies the UI zip and starts the Amplify deployment",
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    this.deployerLogging = new iam.Policy(this, "DeployerLogging", {
      roles: [this.deployerRole],
      statements: [
        new iam.PolicyStatement({
          sid: "WriteOwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [this.deployerLogGroup.logGroupArn],
        }),
      ],
    });

    const key = `ui/${this.uiAsset.assetHash}.zip`;
    const common = {
      role: this.deployerRole,
      logGroup: this.deployerLogGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
    };
    this.copyUi = new cr.AwsCustomResource(this, "CopyUi", {
      ...common,
      onUpdate: {
        service: "S3",
        action: "copyObject",
        parameters: {
          Bucket: this.sourceBucket.bucketName,
          Key: key,
          CopySource: `${this.uiAsset.s3BucketName}/${this.uiAsset.s3ObjectKey}`,
        },
        physicalResourceId: cr.PhysicalResourceId.of(key),
        outputPaths: ["CopyObjectResult.ETag"],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          sid: "ReadUiAsset",
          actions: ["s3:GetObject"],
          resources: [`arn:${this.partition}:s3:::${this.uiAsset.s3BucketName}/${this.uiAsset.s3ObjectKey}`],
        }),
        new iam.PolicyStatement({
          sid: "WriteUiZip",
          actions: ["s3:PutObject"],
          resources: [this.sourceBucket.arnForObjects(key)],
        }),
      ]),
    });
    const branchArn = `arn:${this.partition}:amplify:${this.region}:${this.account}:apps/${this.app.attrAppId}/branches/${BRANCH}`;
    this.deployment = new cr.AwsCustomResource(this, "Deployment", {
      ...common,
      onUpdate: {
        service: "Amplify",
        action: "startDeployment",
        parameters: {
          appId: this.app.attrAppId,
          branchName: BRANCH,
          sourceUrl: `s3://${this.sourceBucket.bucketName}/${key}`,
          sourceUrlType: "ZIP",
        },
        physicalResourceId: cr.PhysicalResourceId.fromResponse("jobSummary.jobId"),
        outputPaths: ["jobSummary.jobId"],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          sid: "StartUiDeployment",
          actions: ["amplify:StartDeployment"],
          resources: [branchArn, `${branchArn}/jobs/*`],
        }),
      ]),
    });
    this.copyUi.node.addDependency(this.deployerLogging);
    this.deployment.node.addDependency(
      this.deployerLogging,
      this.copyUi,
      this.branch,
      this.sourceBucket.policy ?? this.sourceBucket,
    );
    for (const c of [this.copyUi, this.deployment]) {
      const policy = c.node.tryFindChild("CustomResourcePolicy");
      if (policy instanceof iam.Policy) {
        acknowledgeWildcards(policy, (sid) =>
          sid === "StartUiDeployment"
            ? "the deployment jobs of this app's one branch; job ids are assigned by Amplify"
            : undefined,
        );
      }
    }

    this.deploymentWait = this.awaitDeployment(branchArn);

    new CfnOutput(this, "UiUrl", { value: `https://${BRANCH}.${this.app.attrDefaultDomain}` });
  }

  /**
   * StartDeployment only starts Amplify's job: a custom resource (CDK's Provider framework) reads the job
   * every 15 s for up to 20 minutes (infra/lambda/amplify-job.ts) and fails the deploy when it fails. The two
   * handlers run as the deployer's role, which may read this branch's jobs.
   */
  private awaitDeployment(branchArn: string): CustomResource {
    const readJob = new iam.Policy(this, "DeploymentWaitReadsJob", {
      roles: [this.deployerRole],
      statements: [
        new iam.PolicyStatement({
          sid: "ReadUiDeploymentJob",
          actions: ["amplify:GetJob"],
          resources: [`${branchArn}/jobs/*`],
        }),
      ],
    });
    acknowledgeWildcards(readJob, (sid) =>
      sid === "ReadUiDeploymentJob"
        ? "the deployment jobs of this app's one branch; job ids are assigned by Amplify"
        : undefined,
    );
    const { resource: wait } = addPollingCustomResource(this, "DeploymentWait", {
      entry: AMPLIFY_JOB_HANDLER,
      descriptions: {
        onEvent: "mlflow-gate: names the Amplify deployment job to wait for",
        isComplete: "mlflow-gate: reads the Amplify deployment job until it has ended",
      },
      role: this.deployerRole,
      logGroup: this.deployerLogGroup,
      resourceType: "Custom::AmplifyDeploymentJob",
      properties: {
        AppId: this.app.attrAppId,
        BranchName: BRANCH,
        JobId: this.deployment.getResponseField("jobSummary.jobId"),
      },
      totalTimeout: Duration.minutes(20),
      waitsWhile: "one UI deployment runs",
    });
    wait.node.addDependency(readJob, this.deployerLogging);
    return wait;
  }
}
