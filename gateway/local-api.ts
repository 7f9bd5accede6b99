import { ApiDefinition, renderApiDefinition } from "../authorizer/core/api-definition";
import type { CatalogRoute } from "../authorizer/core/catalog";

/** Where in its data directory a local stack writes the definition its gateway runs (`api render --local`). */
export const LOCAL_API_DEFINITION_FILE = "api-definition.json";

/** What differs between the local stack's API and the deployed one: where it sends requests, and its settings. */
export interface LocalApiValues {
  /** The integrations' backend: the guard in front of MLflow (the NLB's place). */
  readonly upstream: URL;
  /** What `GET /mlflow-gate-ui.json` answers: the local shell's config, as JSON text. */
  readonly uiConfigJson: string;
  readonly integrationTimeoutMs: number;
  readonly authorizerTtlSeconds: number;
  /** The MLflow release the catalog is of (the document's version). */
  readonly version: string;
  /** Teams exist: MLflow's routes under `/ws/{workspace}/`, as deployed with the same team files. @default false */
  readonly workspaces?: boolean;
}

/**
 * The API definition the local gateway runs: the very rendering CDK deploys (renderApiDefinition), with the
 * local stack's values where the deployed one has the NLB, the VPC link and the authorizer Lambda's ARN.
 */
export function renderLocalApiDefinition(routes: readonly CatalogRoute[], v: LocalApiValues): ApiDefinition {
  return renderApiDefinition(routes, {
    title: "mlflow-gate (local)",
    version: v.version,
    upstreamHost: v.upstream.host,
    vpcLinkId: "local",
    authorizerUri: "local",
    uiConfigJson: v.uiConfigJson,
    // A local stack's config changes with each start (its sign-in endpoint's port): never cached.
    uiConfigCacheControl: "no-cache",
    integrationTimeoutMs: v.integrationTimeoutMs,
    authorizerTtlSeconds: v.authorizerTtlSeconds,
    workspaces: v.workspaces ?? false,
  }).definition;
}
