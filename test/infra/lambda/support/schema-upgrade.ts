import { SchemaUpgradeProperties } from "../../../../infra/lambda/schema-upgrade-steps";

/** The upgrade task's definition ARN at a revision (CloudFormation registers a new one per change). */
export const taskDefinitionArn = (revision: number): string =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/MlflowVpcStackSchemaUpgrade1A2B:${revision}`;

/** The custom resource's properties as MlflowVpcStack gives them, for one MLflow version and task revision. */
export function upgradeProperties(mlflowVersion: string, revision: number): SchemaUpgradeProperties {
  return {
    MlflowVersion: mlflowVersion,
    TaskDefinitionArn: taskDefinitionArn(revision),
    ClusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/mlflow",
    ContainerName: "SchemaUpgrade",
    Subnets: ["subnet-1", "subnet-2"],
    SecurityGroups: ["sg-tasks"],
    LogGroupName: "MlflowVpcStack-LogGroup",
    LogStreamPrefix: "schema-upgrade",
    DatabaseClusterId: "mlflowvpcstack-database",
  };
}
