// `mlflow-gate why`: one request of the access log explained: who called, which route and action, which
// enforcement point decided (API Gateway, the Lambda authorizer, the guard or MLflow), and by which rule.
import type { PolicySet } from "../../authorizer/core/policy-set";
import { decidePath, explainDecision } from "../../authorizer/core/decide-request";
import type { AccessLogEntry } from "../../gateway/answer";
import type { AuditRecord } from "../../guard/audit";
import { REFUSALS } from "../../guard/answers";

/** API Gateway's own refusals before any policy: what the request lacked, in the log's reason codes. */
const GATEWAY_REASONS: Readonly<Record<string, string>> = {
  "no-such-method":
    "the API has no method for this HTTP method and path, so API Gateway answers 403 Missing Authentication Token, signed or not (check the method and the path)",
  "no-signature":
    "this route takes SigV4-signed requests (IAM) and the request was not signed: API Gateway answers 403 Missing Authentication Token (sign it: the plugin, `mlflow-gate sign`, or a Cognito token on the /ajax-api/ route)",
  "missing-authorization": "the request has no complete SigV4 Authorization header",
  "malformed-authorization": "the SigV4 Authorization header is malformed",
  "missing-date": "the signed request has no X-Amz-Date",
  "malformed-date": "the signed request's date is malformed",
  "scope-date-mismatch": "the credential scope's date is not the request's date",
  "wrong-region": "the request was signed for another region",
  "wrong-service": "the request was signed for another service (execute-api is API Gateway's)",
  "unknown-key":
    "the access key is not one API Gateway knows (a key of another stack or account, or a removed principal)",
  "expired-credentials": "the temporary credentials have expired: assume the role again",
  "token-mismatch": "the session token does not belong to the access key",
  "bad-signature":
    "the signature does not match the request (a client that changed the request after signing it, or a wrong secret key)",
  "missing-signed-header": "a header the signature needs (host, x-amz-date) is not signed",
  "unsigned-header": "a header that must be signed is not",
  "unsigned-payload": "the body was not part of the signature",
  "payload-hash": "the body does not match the hash the request was signed with",
  "principal-without-group": "the caller is in no group of the policy files: it may call nothing",
  "no-token":
    "the request has no Authorization header, the authorizer's identity source: API Gateway answers 401 without calling it",
  "authorizer-unauthorized":
    "the authorizer answered Unauthorized: the token is missing its Bearer, expired, revoked, or not signed by the user pool (sign in again)",
  "authorizer-error": "the authorizer failed (API Gateway answers 500): its log line says why",
  "payload-too-large": "the body is larger than API Gateway takes (10 MB)",
};

/** Denials by a policy (IAM's, or the one the authorizer returned), by the log's reason codes. */
const POLICY_REASONS: Readonly<Record<string, string>> = {
  "not-allowed": "has no statement that allows it",
  "explicit-deny": "denies it explicitly",
  "unknown-route":
    "allows nothing here: no MLflow route has this method and path (the API has a method for the resource, a {proxy+} that folds deeper paths, so the policy decides; check the method and the path)",
};

export interface WhyInput {
  readonly entry: AccessLogEntry;
  /** The guard's audit line of the request (by its extendedRequestId), if it wrote one. */
  readonly audit?: AuditRecord;
  /** Today's policy files, to name the rule (they may have changed since the request). */
  readonly set?: PolicySet;
}

/** The request in a request id of the log: its requestId, its extendedRequestId, or its authorizer call's id. */
export function findRequest(entries: readonly AccessLogEntry[], id: string): AccessLogEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i] as AccessLogEntry;
    if (e.requestId === id || e.extendedRequestId === id || e.authorizer?.requestId === id) return e;
  }
  return undefined;
}

/** The last request answered 400 or more: what `why` explains without an id. */
export function lastRefused(entries: readonly AccessLogEntry[]): AccessLogEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if ((entries[i] as AccessLogEntry).status >= 400) return entries[i];
  return undefined;
}

function callerOf(e: AccessLogEntry): string {
  const groups = e.groups && e.groups.length > 0 ? `, groups ${e.groups.join(", ")}` : "";
  if (e.surface === "iam" && e.principal !== undefined)
    return `${e.principal}, signed with SigV4${e.accessKeyId !== undefined ? ` (access key ${e.accessKeyId})` : ""}${groups}`;
  if (e.surface === "cognito" && e.username !== undefined) return `user ${e.username} (Cognito token)${groups}`;
  return "not identified (API Gateway refused the request before it knew the caller)";
}

function ruleOf(input: WhyInput): string[] {
  const { entry, set } = input;
  if (!set || !entry.groups || entry.groups.length === 0) return [];
  let d;
  try {
    d = decidePath(set, entry.groups, entry.method, entry.path);
  } catch {
    return [];
  }
  const now = d.decision === "allow" ? "allow" : "deny";
  const lines = [
    `rule     today's policy files ${now} it: ${explainDecision(d)} (mlflow-gate policy check ${entry.method} ${entry.path} --group ${entry.groups.join(",")})`,
  ];
  const then = entry.decision === "allow" || entry.decision === "deny" ? entry.decision : undefined;
  if (then !== undefined && then !== d.decision)
    lines.push(`         the request was decided "${then}": the policy files have changed since`);
  return lines;
}

/** The explanation, line by line. */
export function explainRequest(input: WhyInput): string[] {
  const { entry: e, audit } = input;
  const lines = [
    `request  ${e.requestId}${e.extendedRequestId !== undefined ? ` (${e.extendedRequestId})` : ""} at ${e.time}`,
    `         ${e.method} ${e.path} -> ${e.status}`,
    `caller   ${callerOf(e)}`,
  ];
  if (e.action !== undefined)
    lines.push(
      `route    ${e.resourcePath ?? e.path}: ${e.action}, ${e.surface === "iam" ? "an IAM (SigV4) route" : e.surface === "cognito" ? "a Cognito (bearer token) route" : "a public route"}`,
    );
  const rule = ruleOf(input);
  const gatewayWords = e.reason !== undefined ? GATEWAY_REASONS[e.reason] : undefined;
  if (e.decision === "deny" && POLICY_REASONS[e.reason ?? ""] !== undefined) {
    const point =
      e.surface === "iam"
        ? "API Gateway (IAM): the caller's execute-api policy"
        : "the Lambda authorizer: the policy it returned for the caller's groups";
    lines.push(`decided  by ${point} ${POLICY_REASONS[e.reason ?? ""]}`);
    return [...lines, ...rule];
  }
  if (e.decision === "deny" || e.decision === "unauthorized" || e.decision === "error") {
    const point = e.reason?.startsWith("authorizer-") ? "the Lambda authorizer" : "API Gateway";
    lines.push(`decided  by ${point}: ${gatewayWords ?? `${e.decision} (${e.reason ?? "no reason logged"})`}`);
    return [...lines, ...rule];
  }
  if (audit?.decision === "refused") {
    const words = audit.reason !== undefined ? REFUSALS[audit.reason]?.message : undefined;
    lines.push(
      `decided  by the guard, after API Gateway let it through: ${audit.reason ?? "refused"}${words !== undefined ? `: ${words}` : ""}`,
    );
    return [...lines, ...rule];
  }
  if (e.status >= 400) {
    lines.push(
      `decided  by MLflow: API Gateway${audit ? " and the guard" : ""} let it through; MLflow answered ${e.status} (its answer's message says why)`,
    );
    return [...lines, ...rule];
  }
  lines.push(`decided  allowed${e.decision === "public" ? ": a public route, no caller needed" : ""}`);
  return [...lines, ...rule];
}
