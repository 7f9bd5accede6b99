import { AuthType, authTypeOfRequest, CatalogRoute, HTTP_METHODS, RouteMatcher } from "../../authorizer/core/catalog";
import { MethodArn, MethodArnStage } from "../../authorizer/core/method-arn";
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
 * Authentication Token, as API Gateway answers.
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
  return {
    go: { route, surface: authTypeOfRequest(route, target.path), methodArn: { ...stage, method, path: target.path } },
  };
}
