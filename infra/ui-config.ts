import type { PolicySet } from "../authorizer/core/policy-set";
import { UiConfig } from "../ui-patch/shell/config";
import { buildUiConfig } from "../ui-patch/ui-config";

export interface DeployedUiConfigProps {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly region: string;
  /** The deployment's policies: with teams, the teams the shell places users in (as the local stack's config). */
  readonly policySet: PolicySet;
}

/**
 * The login shell's config in AWS: Cognito's own endpoint, with SRP (the password never leaves the browser).
 * The API answers it at `GET /mlflow-gate-ui.json` (a MOCK in the API definition), with the ids CloudFormation
 * resolves at deploy time: the UI build stays one zip for every deployment, and the config changes with the pool.
 */
export function buildDeployedUiConfig(props: DeployedUiConfigProps): UiConfig {
  return buildUiConfig(
    {
      userPoolId: props.userPoolId,
      userPoolClientId: props.userPoolClientId,
      region: props.region,
      authFlow: "USER_SRP_AUTH",
    },
    props.policySet,
  );
}
