import { IncomingMessage } from "http";
import { parseCallerArn } from "../../authorizer/core/contract";
import { ParsedPolicy, parsePolicyDocument } from "../../authorizer/core/evaluate";
import { MethodArnStage } from "../../authorizer/core/method-arn";
import { PolicySet } from "../../authorizer/core/policy-set";
import { iamDenied, iamPolicyDenied } from "../api-responses";
import { refuse, Refusal } from "../answer";
import { CredentialStore, precheckSigV4, verifySigV4 } from "../sigv4";
import { AuthorizationResult, authorizeByPolicies, Identity } from "./authorization";
import { missingSignature } from "./identity-source";
import { RoutedRequest } from "./route";
import { Target } from "./target";

export interface IamAuthorizationProps {
  readonly region: string;
  readonly policySet: PolicySet;
  /** The keys SigV4 accepts, and the group (role) of each principal. */
  readonly credentials: CredentialStore & { groupOf(principal: string): string | undefined };
  /** The stage the roles' policies are scoped to. */
  readonly stage: MethodArnStage;
  readonly now: () => Date;
}

/** The request as SigV4 signed it: method, raw target, raw headers and the whole body. */
export interface SignedRequestParts {
  readonly req: Pick<IncomingMessage, "method" | "headers" | "rawHeaders">;
  readonly target: Target;
  readonly body: Buffer;
}

/** How the access log names an IAM caller: a session as `assumed-role/<role>/<session>` (as AWS's logs do), a user by name. */
export function logNameOf(arn: string): string | undefined {
  const caller = parseCallerArn(arn);
  if (!caller) return undefined;
  return caller.kind === "assumed-role" ? `assumed-role/${caller.role}/${caller.session}` : caller.name;
}

/**
 * Before the body: the SigV4 checks that need none (precheckSigV4: the signature's form, scope, dates, the key
 * and its session). A request they refuse gets the answer it would get once its body was read, and its body
 * is never read, so a made-up Authorization header cannot make the gateway hold a body.
 */
export function createIamPrecheck(
  props: Pick<IamAuthorizationProps, "region" | "credentials" | "now">,
): (request: Omit<SignedRequestParts, "body">) => { stop: Refusal } | undefined {
  return ({ req, target }) => {
    const missing = missingSignature(req, target);
    if (missing) return missing;
    const checked = precheckSigV4(
      { method: req.method ?? "", rawPath: target.rawPath, rawQuery: target.rawQuery, rawHeaders: req.rawHeaders },
      props.credentials,
      { region: props.region, now: props.now },
    );
    return checked.ok ? undefined : refuse(iamDenied(checked.message), "deny", checked.reason);
  };
}

/**
 * AWS_IAM: the request's SigV4 signature against the known keys, then the policies of the signer's role,
 * compiled once per group and kept parsed. The signature is in the Authorization header or, presigned,
 * in the query; neither is API Gateway's Missing Authentication Token.
 */
export function createIamAuthorization(
  props: IamAuthorizationProps,
): (request: SignedRequestParts, routed: RoutedRequest) => AuthorizationResult {
  const roles = new Map<string, ParsedPolicy[]>();
  const roleOf = (group: string): ParsedPolicy[] => {
    let docs = roles.get(group);
    if (!docs) {
      docs = props.policySet.iamPolicies(group, props.stage).map((d) => parsePolicyDocument(d));
      roles.set(group, docs);
    }
    return docs;
  };

  return ({ req, target, body }, routed) => {
    // Neither an Authorization header nor a presigned query: API Gateway's Missing Authentication Token.
    const missing = missingSignature(req, target);
    if (missing) return missing;
    const verified = verifySigV4(
      {
        method: req.method ?? "",
        rawPath: target.rawPath,
        rawQuery: target.rawQuery,
        rawHeaders: req.rawHeaders,
        body,
      },
      props.credentials,
      { region: props.region, now: props.now },
    );
    if (!verified.ok) return refuse(iamDenied(verified.message), "deny", verified.reason);
    const group = props.credentials.groupOf(verified.principal);
    const identity: Identity = {
      principal: logNameOf(verified.arn) ?? verified.principal,
      username: verified.principal,
      arn: verified.arn,
      accessKeyId: verified.accessKeyId,
      groups: group ? [group] : [],
    };
    // A principal without a group is a role without an execute-api policy: IAM's implicit deny.
    if (!group)
      return {
        ...refuse(iamPolicyDenied(verified.arn, routed.methodArn, false), "deny", "principal-without-group"),
        identity,
      };
    return authorizeByPolicies(props.policySet, routed, identity, roleOf(group), (d) =>
      iamPolicyDenied(verified.arn, routed.methodArn, d.evaluation?.decision === "ExplicitDeny"),
    );
  };
}
