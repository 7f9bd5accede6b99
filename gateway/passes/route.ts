import { AuthType, CatalogRoute, HTTP_METHODS } from "../../authorizer/core/catalog";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { formatMethodArn, MethodArn, MethodArnStage } from "../../authorizer/core/method-arn";
import { ANSWERS } from "../api-responses";
import { ApiMethod, ApiModel } from "../api-model";
import { PassResult, refuse } from "../answer";
import { Target } from "./target";

/** The catalog route MLflow serves a request's method and path with (`PolicySet.locate`: teams' paths read). */
export type RouteLocator = (method: string, path: string) => CatalogRoute | undefined;

/** The API method a request is for, as API Gateway resolves it before anything else. */
export interface RoutedRequest {
  /** The definition's method: its resource, security and integration. */
  readonly method: ApiMethod;
  /** The request's path parameters, decoded. */
  readonly pathParameters: Readonly<Record<string, string>>;
  /** The catalog route MLflow would serve (the policies decide by it); undefined for a path it does not list. */
  readonly route: CatalogRoute | undefined;
  /** Who checks it, as the definition's security says: `iam`, `cognito` or `none`. */
  readonly surface: AuthType;
  /** The resource IAM and the authorizer decide on. */
  readonly methodArn: MethodArn;
}

/**
 * Finds the request's method in the API definition, as API Gateway does before it authorizes. A method
 * the API does not have leaves nothing to authorize: 403 Missing Authentication Token, as API Gateway
 * answers. An authorized method whose ARN (the request's path in it) is over 1,600 bytes: 414.
 */
export function routePass(
  api: ApiModel,
  locate: RouteLocator,
  stage: MethodArnStage,
  httpMethod: string,
  target: Target,
): PassResult<RoutedRequest> {
  if (!(HTTP_METHODS as readonly string[]).includes(httpMethod))
    return refuse(ANSWERS.missingToken, "deny", "no-such-method");
  const resolved = api.resolve(httpMethod, target.path);
  if (!resolved) return refuse(ANSWERS.missingToken, "deny", "no-such-method");
  const surface = resolved.method.surface;
  const methodArn: MethodArn = { ...stage, method: httpMethod, path: target.path };
  // An authorized method's ARN holds the request's path: past 1,600 bytes, API Gateway answers 414.
  if (surface !== "none" && Buffer.byteLength(formatMethodArn(methodArn)) > API_GATEWAY.maxMethodArnBytes)
    return refuse(ANSWERS.uriTooLong, "deny", "method-arn-too-long");
  return {
    go: {
      method: resolved.method,
      pathParameters: resolved.pathParameters,
      route: locate(httpMethod, target.path),
      surface,
      methodArn,
    },
  };
}
