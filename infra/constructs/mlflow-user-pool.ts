import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as cognito from "aws-cdk-lib/aws-cognito";
import { Construct } from "constructs";

export interface MlflowUserPoolProps {
  /** The caller groups (PolicySet.callerGroups), each with its description; one Cognito group each, of the same name. */
  readonly groups: ReadonlyMap<string, string>;
  /**
   * Cognito's Plus feature plan with threat protection enforced (compromised-credential and
   * adaptive-authentication checks); about USD 0.02 per monthly active user.
   * @default true
   */
  readonly threatProtection?: boolean;
  /**
   * What happens to the pool (and every user in it) when it leaves the stack.
   * @default RemovalPolicy.RETAIN, with deletion protection on
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** `model-approvers` -> `ModelApprovers`: stable construct ids from group names. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== "")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

/**
 * The users of the MLflow UI: created by an administrator only (no self sign-up), a long password
 * with every character class, optional TOTP, and one Cognito group per policy group. The UI's app
 * client is public (no secret) and signs in with SRP; refresh tokens keep sessions alive.
 */
export class MlflowUserPool extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  /** One per group of the policies, in name order. */
  public readonly groups: readonly cognito.CfnUserPoolGroup[];

  constructor(scope: Construct, id: string, props: MlflowUserPoolProps) {
    super(scope, id);
    const threatProtection = props.threatProtection ?? true;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.userPool = new cognito.UserPool(this, "UserPool", {
      selfSignUpEnabled: false,
      signInAliases: { username: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: false, mutable: true } },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      ...(threatProtection
        ? {
            featurePlan: cognito.FeaturePlan.PLUS,
            standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
          }
        : { featurePlan: cognito.FeaturePlan.ESSENTIALS }),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    Validations.of(this.userPool).acknowledge({
      id: "AwsSolutions-COG2",
      reason:
        "MFA is optional by design (TOTP only, no SMS): users are created by an administrator and every sign-in goes through Plus-plan threat protection (compromised credentials, adaptive authentication). Making it REQUIRED needs the UI's login shell to handle TOTP enrolment (the MFA_SETUP challenge) first.",
    });
    if (!threatProtection) {
      Validations.of(this.userPool).acknowledge({
        id: "AwsSolutions-COG8",
        reason: "Threat protection (Plus plan) was turned off by the deployment's configuration.",
      });
    }

    this.userPoolClient = this.userPool.addClient("UiClient", {
      userPoolClientName: "mlflow-ui",
      generateSecret: false,
      // SRP (the password never leaves the browser); CDK adds ALLOW_REFRESH_TOKEN_AUTH to any flow.
      authFlows: { userSrp: true },
      // The login shell signs in with SRP: no hosted UI, no OAuth flows, no callback URLs.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.days(30),
      authSessionValidity: Duration.minutes(3),
    });

    this.groups = [...props.groups.keys()].sort().map(
      (name) =>
        new cognito.CfnUserPoolGroup(this, `Group${pascalCase(name)}`, {
          userPoolId: this.userPool.userPoolId,
          groupName: name,
          description: (props.groups.get(name) ?? "").slice(0, 2048),
        }),
    );
  }
}
