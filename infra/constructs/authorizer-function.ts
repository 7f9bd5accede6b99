import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "fs";
import { join, resolve } from "path";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ConfigError } from "../../authorizer/core/errors";
import { PolicySet } from "../../authorizer/core/policy-set";
import { AUTHORIZER_BUILD_DIR, REPO_ROOT } from "../../project/paths";
import { buildDirFor, DEFAULT_POLICY_DIRS, PolicyDirs } from "../policy-dirs";

/** Where the build puts the handler and its policy bundle (authorizer/build.ts's default). */

const built = new Set<string>();

/**
 * Runs infra/build-authorizer-cli.ts (authorizer/build.ts: esbuild, no Docker) over the policies of `dirs` and
 * returns the folder holding `index.js` and `policy-bundle.json` (dist/authorizer for the repository's
 * policies, a folder of their own for others: `buildDirFor`). CDK constructs are synchronous and the build is async, so it runs in a
 * child process, once per process and folder. It builds into a fresh folder beside the target and
 * renames each file into place: a concurrent synth (parallel tests) never reads a half-written file.
 * The output does not depend on the folder, so the asset hash changes only when the code or the
 * policies do.
 */
export function buildAuthorizerCode(
  outDir: string = AUTHORIZER_BUILD_DIR,
  dirs: PolicyDirs = DEFAULT_POLICY_DIRS,
): string {
  const target = resolve(buildDirFor(outDir, dirs));
  if (built.has(target)) return target;
  mkdirSync(resolve(target, ".."), { recursive: true });
  const staging = mkdtempSync(`${target}.build-`);
  try {
    const r = spawnSync(
      process.execPath,
      [
        require.resolve("tsx/cli"),
        join(REPO_ROOT, "infra", "build-authorizer-cli.ts"),
        staging,
        dirs.groupsDir,
        dirs.teamsDir,
      ],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    if (r.status !== 0) {
      const detail = (r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n").slice(-5).join("\n  ");
      throw new Error(`building the Lambda authorizer (infra/build-authorizer-cli.ts) failed:\n  ${detail}`);
    }
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(staging)) renameSync(join(staging, file), join(target, file));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  built.add(target);
  return target;
}

/** Names what differs between the bundle the Lambda ships and the policy set the stack was built from. */
function bundleMismatch(dir: string, policySet: PolicySet): string[] {
  const bundle = JSON.parse(readFileSync(join(dir, "policy-bundle.json"), "utf8")) as {
    catalog?: { mlflowVersion?: string; routes?: unknown[] };
    groups?: { name?: string }[];
    teams?: { name?: string }[];
  };
  const problems: string[] = [];
  const bundleGroups = (bundle.groups ?? []).map((g) => String(g.name)).sort();
  const stackGroups = [...policySet.groups.keys()].sort();
  if (bundleGroups.join(",") !== stackGroups.join(","))
    problems.push(`groups ${bundleGroups.join(", ")} in the bundle, ${stackGroups.join(", ")} in the stack`);
  const bundleTeams = (bundle.teams ?? []).map((t) => String(t.name)).sort();
  const stackTeams = policySet.teams?.names ?? [];
  if (bundleTeams.join(",") !== stackTeams.join(","))
    problems.push(
      `teams ${bundleTeams.join(", ") || "(none)"} in the bundle, ${stackTeams.join(", ") || "(none)"} in the stack`,
    );
  if (
    bundle.catalog?.mlflowVersion !== policySet.catalog.mlflowVersion ||
    bundle.catalog?.routes?.length !== policySet.catalog.routes.length
  ) {
    problems.push(
      `catalog of MLflow ${bundle.catalog?.mlflowVersion} (${bundle.catalog?.routes?.length} routes) in the bundle, ${policySet.catalog.mlflowVersion} (${policySet.catalog.routes.length}) in the stack`,
    );
  }
  return problems;
}

export interface AuthorizerFunctionProps {
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The policies the API was built from; the shipped bundle must hold the same groups, teams and catalog. */
  readonly policySet: PolicySet;
  /**
   * Where `policySet` was read from: the build reads the same files.
   * @default DEFAULT_POLICY_DIRS (policies/groups, policies/teams)
   */
  readonly policyDirs?: PolicyDirs;
  /**
   * A folder holding `index.js` and `policy-bundle.json`.
   * @default built at synth from `policyDirs` (buildAuthorizerCode)
   */
  readonly codeDirectory?: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The Lambda REQUEST authorizer: the bundled authorizer/handler.ts with its policy bundle beside it,
 * in aws mode (the issuer is derived from the pool id and the region Lambda sets), with a role that
 * may write its own log group and nothing else.
 */
export class AuthorizerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuthorizerFunctionProps) {
    super(scope, id);
    const codeDirectory = props.codeDirectory ?? buildAuthorizerCode(AUTHORIZER_BUILD_DIR, props.policyDirs);
    const mismatch = bundleMismatch(codeDirectory, props.policySet);
    if (mismatch.length > 0)
      throw new ConfigError(
        `${codeDirectory}/policy-bundle.json does not match the stack's policies: ${mismatch.join("; ")}`,
      );

    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      // Its decisions (principal, groups, reason) are an audit trail: kept when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Own role instead of AWSLambdaBasicExecutionRole: writing to this log group is all it needs
    // (the JWKS is fetched over HTTPS without credentials).
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "mlflow-gate Lambda authorizer: writes its own logs only",
    });
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, "Function", {
      description: "mlflow-gate: Cognito access token to the IAM policy of the user's groups",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.handler",
      // Exactly the handler and its bundle, whatever else the folder holds.
      code: lambda.Code.fromAsset(codeDirectory, { exclude: ["*", "!index.js", "!policy-bundle.json"] }),
      memorySize: 256,
      timeout: Duration.seconds(5),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        // AWS_REGION is Lambda's own; the issuer and JWKS URL follow from it and the pool id.
        MLFLOW_GATE_MODE: "aws",
        COGNITO_USER_POOL_ID: props.userPool.userPoolId,
        COGNITO_CLIENT_ID: props.userPoolClient.userPoolClientId,
      },
    });

    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node.js 22 is a supported LTS Lambda runtime; the bundle is built for node20 and tested on Node 20/22, and the project pins the runtime to those. Moving to Node.js 24 is a one-line change once the tests run on it.",
    });
  }
}
