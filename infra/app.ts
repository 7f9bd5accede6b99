import { App, Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { PolicySet } from "../authorizer/core/policy-set";
import { InfraConfig } from "./config";
import { DEFAULT_POLICY_DIRS, PolicyDirs } from "./policy-dirs";
import { AmplifyMlflowStack } from "./stacks/amplify-mlflow-stack";
import { MlflowVpcStack } from "./stacks/mlflow-vpc-stack";
import { RestApiGatewayStack } from "./stacks/rest-api-gateway-stack";
import { SageMakerStudioUserStack } from "./stacks/sagemaker-studio-user-stack";

export interface MlflowGateStacks {
  readonly vpc: MlflowVpcStack;
  readonly api: RestApiGatewayStack;
  readonly ui: AmplifyMlflowStack;
  readonly studio: SageMakerStudioUserStack;
}

/**
 * The whole deployment: MLflow in its VPC, the REST API in front of it with Cognito and the Lambda
 * authorizer, the UI on Amplify Hosting, SageMaker Studio users and cross-account roles. Every policy
 * comes from the compiled group and team files in `policySet`; cdk-nag's AWS Solutions checks run at synth.
 */
export interface MlflowGateAppInputs {
  /** The patched UI, built without a config (ui-patch/build-ui.ts). */
  readonly uiDirectory: string;
  /**
   * Where `policySet` was read from (infra/policy-dirs.ts): the authorizer's code and the guard's image are built
   * from the same files. @default DEFAULT_POLICY_DIRS
   */
  readonly policyDirs?: PolicyDirs;
}

export function buildMlflowGateApp(
  app: App,
  config: InfraConfig,
  policySet: PolicySet,
  inputs: MlflowGateAppInputs,
): MlflowGateStacks {
  const policyDirs = inputs.policyDirs ?? DEFAULT_POLICY_DIRS;
  const env: Environment = {
    ...(config.account ? { account: config.account } : {}),
    ...(config.region ? { region: config.region } : {}),
  };
  const vpc = new MlflowVpcStack(app, "MlflowVpcStack", {
    env,
    config,
    policySet,
    policyDirs,
    description: "mlflow-gate: MLflow on Fargate, Aurora Serverless v2, S3 artifacts, internal NLB",
  });
  const api = new RestApiGatewayStack(app, "RestApiGatewayStack", {
    env,
    config,
    policySet,
    policyDirs,
    vpc: vpc.vpc,
    loadBalancer: vpc.loadBalancer,
    description: "mlflow-gate: REST API (AWS_IAM for the SDK, Lambda authorizer for the UI), Cognito",
  });
  const ui = new AmplifyMlflowStack(app, "AmplifyMlflowStack", {
    env,
    config,
    policySet,
    api: api.api,
    apiDefinition: api.definition,
    stageName: api.stageName,
    uiDirectory: inputs.uiDirectory,
    description: "mlflow-gate: the MLflow UI on Amplify Hosting, same-origin with the API",
  });
  const studio = new SageMakerStudioUserStack(app, "SageMakerStudioUserStack", {
    env,
    config,
    policySet,
    api: api.api,
    stageName: api.stageName,
    vpc: vpc.vpc,
    description: "mlflow-gate: SageMaker Studio users and cross-account roles with compiled MLflow policies",
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { vpc, api, ui, studio };
}
