import { Duration } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import { Construct } from "constructs";
import { ApiMethodSpec, ApiRouteTree, buildApiRouteTree, identityHeaders } from "../../authorizer/core/api-routes";
import { CatalogRoute } from "../../authorizer/core/catalog";

export interface CatalogApiRoutesProps {
  readonly api: apigw.RestApi;
  /** The authenticated routes; `none` routes are skipped. */
  readonly routes: readonly CatalogRoute[];
  readonly vpcLink: apigw.IVpcLink;
  /** Host MLflow answers on behind the VPC link (the internal NLB's DNS name), port 80. */
  readonly upstreamHost: string;
  /** The Lambda authorizer of `cognito` routes. */
  readonly authorizer: apigw.IAuthorizer;
  /** @default DEFAULT_MAX_API_RESOURCES (300) */
  readonly maxResources?: number;
  /**
   * How long API Gateway waits for MLflow.
   * @default Duration.seconds(29)
   */
  readonly integrationTimeout?: Duration;
}

/**
 * The API's resources and methods, derived from the route catalog: `AWS_IAM` on SDK routes, the
 * Lambda authorizer on UI routes, each an HTTP proxy over the VPC link to the same path on MLflow.
 * Every method forwards who called, as the local gateway does (`x-mlflow-gate-*` headers).
 */
export class CatalogApiRoutes extends Construct {
  public readonly tree: ApiRouteTree;
  /** Every resource created, by API path. */
  public readonly resources: ReadonlyMap<string, apigw.Resource>;
  /** Every method created, keyed `METHOD /path`. */
  public readonly methods: ReadonlyMap<string, apigw.Method>;

  constructor(scope: Construct, id: string, props: CatalogApiRoutesProps) {
    super(scope, id);
    this.tree = buildApiRouteTree(
      props.routes,
      props.maxResources === undefined ? {} : { maxResources: props.maxResources },
    );
    const resources = new Map<string, apigw.Resource>();
    const methods = new Map<string, apigw.Method>();
    const resourceAt = (path: string): apigw.IResource =>
      path === "/" ? props.api.root : (resources.get(path) as apigw.Resource);
    const addMethods = (resource: apigw.IResource, specs: readonly ApiMethodSpec[], params: readonly string[]) => {
      for (const spec of specs)
        methods.set(`${spec.httpMethod} ${resource.path}`, this.addMethod(resource, spec, params, props));
    };
    addMethods(props.api.root, this.tree.rootMethods, []);
    for (const spec of this.tree.resources) {
      // Resources hang off their parents (construct paths mirror API paths, so ids stay stable).
      const resource = resourceAt(spec.parentPath).addResource(spec.pathPart);
      resources.set(spec.path, resource as apigw.Resource);
      addMethods(resource, spec.methods, spec.pathParams);
    }
    this.resources = resources;
    this.methods = methods;
  }

  private addMethod(
    resource: apigw.IResource,
    spec: ApiMethodSpec,
    params: readonly string[],
    props: CatalogApiRoutesProps,
  ): apigw.Method {
    const integrationParams: Record<string, string> = {
      ...Object.fromEntries(params.map((p) => [`integration.request.path.${p}`, `method.request.path.${p}`])),
      ...identityHeaders(spec.auth),
    };
    const integration = new apigw.Integration({
      type: apigw.IntegrationType.HTTP_PROXY,
      integrationHttpMethod: spec.httpMethod,
      uri: `http://${props.upstreamHost}${spec.integrationPath}`,
      options: {
        connectionType: apigw.ConnectionType.VPC_LINK,
        vpcLink: props.vpcLink,
        requestParameters: integrationParams,
        ...(props.integrationTimeout ? { timeout: props.integrationTimeout } : {}),
      },
    });
    return resource.addMethod(spec.httpMethod, integration, {
      ...(spec.auth === "iam"
        ? { authorizationType: apigw.AuthorizationType.IAM }
        : { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer: props.authorizer }),
      requestParameters: Object.fromEntries(params.map((p) => [`method.request.path.${p}`, true])),
    });
  }
}
