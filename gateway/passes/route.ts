import { AuthType, authTypeOfRequest, CatalogRoute, HTTP_METHODS, RouteMatcher } from "../../authorizer/core/catalog";
import { API_GATEWAY } from "../../authorizer/core/contract";
import { formatMethodArn, MethodArn, MethodArnStage } from "../../authorizer/core/method-arn";
import { ANSWERS } from "../api-responses";
import { PassResult, refuse } from "../answer";
import { Target } from "./target";

/** The API method a request is for, as API Gateway resolves it before anything else. */
export interface RoutedRequest {
  /** The catalog route MLflow would serve; undefined for a path the catalog does not list. */
  readonly route: CatalogRoute | undefined;
  /** Who checks it: `iam`, `cognito` or `none` (public). */
  readonly surface: AuthType;
  /** The resource IAM and the authorizer decide on. */
  readonly methodArn: MethodArn;
}

/**
 * Matches the request to its route, as API Gateway finds the method before it authorizes. A method the
 * catalog never routes has no API Gateway method, so there is no resource to authorize: 403 Missing
 * Authentication Token, as API Gateway answers. An authorized method whose ARN (the request's path in it)
 * is over 1,600 bytes: 414.
 */
export function routePass(
  matcher: RouteMatcher,
  stage: MethodArnStage,
  method: string,
  target: Target,
): PassResult<RoutedRequest> {
  if (!(HTTP_METHODS as readonly string[]).includes(method))
    return refuse(ANSWERS.missingToken, "deny", "no-such-method");
  const route = matcher.match(method, target.path);
  const surface = authTypeOfRequest(route, target.path);
  const methodArn: MethodArn = { ...stage, method, path: target.path };
  // An authorized method's ARN holds the request's path: past 1,600 bytes, API Gateway answers 414.
  if (surface !== "none" && Buffer.byteLength(formatMethodArn(methodArn)) > API_GATEWAY.maxMethodArnBytes)
    return refuse(ANSWERS.uriTooLong, "deny", "method-arn-too-long");
  return { go: { route, surface, methodArn } };
}
