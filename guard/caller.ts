import { isIP } from "net";
import { IAM_GROUPS, parseCallerArn } from "../authorizer/core/contract";
import type { IdentityHeaders } from "./request-headers";
import { hasControlCharacter } from "./request-target";

/** Who called, as the API mapped it and the guard verified it. */
export interface Caller {
  readonly surface: "iam" | "cognito";
  /** The token's `sub`, or the SigV4 caller's ARN. */
  readonly principal: string;
  /** The Cognito username, or the SigV4 caller's ARN. */
  readonly username: string;
  /** Cognito groups; empty for SigV4 callers (IAM decided, API Gateway does not know the group). */
  readonly groups: readonly string[];
  /**
   * The name stamped on what the caller creates: a Cognito user's username; for a SigV4 caller, the
   * resource part of the ARN (`user/<name>`, or `assumed-role/<role>/<session>`: stable, readable,
   * and never equal to a Cognito username without a "/").
   */
  readonly name: string;
  /**
   * The address the caller reached API Gateway from (`context.identity.sourceIp`): what MLflow is told in
   * X-Forwarded-For, and what the audit trail records.
   */
  readonly sourceIp: string;
}

export type CallerProblem = "identity-missing" | "identity-incomplete" | "identity-malformed" | "source-ip-malformed";

export type CallerResult =
  | { readonly ok: true; readonly caller: Caller }
  | { readonly ok: false; readonly problem: CallerProblem; readonly detail: string };

/** A header value the API maps: printable ASCII without commas, at most 2048 characters (an ARN fits; so does a sub). */
const VALUE = /^[\x21-\x2b\x2d-\x7e]{1,2048}$/;
/**
 * A request id the API maps: `context.extendedRequestId` is 16 characters of base64; the rule leaves room
 * for other id shapes (a UUID) but nothing that could be read as more than one id.
 */
const REQUEST_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;

/** Whether a mapped request id has an id's shape (the audit trail joins API Gateway's logs on it). */
export const isRequestId = (value: string): boolean => REQUEST_ID.test(value);

/** Cognito group names (our group files' rule is narrower). */
const GROUP = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;

/** The caller of an authenticated request; undefined identity fields are missing headers. */
export function readCaller(identity: IdentityHeaders): CallerResult {
  const fields = ["auth", "principal", "username", "groups", "requestId", "sourceIp"] as const;
  const present = fields.filter((f) => identity[f] !== undefined);
  if (present.length === 0) return { ok: false, problem: "identity-missing", detail: "no identity headers" };
  const missing = fields.filter((f) => identity[f] === undefined);
  if (missing.length > 0) return { ok: false, problem: "identity-incomplete", detail: `missing ${missing.join(", ")}` };
  const { auth, principal, username, groups, sourceIp, requestId } = identity as Required<IdentityHeaders>;
  if (!isRequestId(requestId)) {
    return { ok: false, problem: "identity-malformed", detail: "the request id is not an id" };
  }
  // An address API Gateway saw a connection from: never one with an IPv6 zone (`fe80::1%eth0`).
  if (isIP(sourceIp) === 0 || sourceIp.includes("%")) {
    return { ok: false, problem: "source-ip-malformed", detail: "the source address is not an IP address" };
  }
  if (auth === "iam") {
    const arn = parseCallerArn(principal);
    if (!arn || username !== principal || groups !== IAM_GROUPS) {
      return { ok: false, problem: "identity-malformed", detail: "not a SigV4 caller's ARN with (iam) groups" };
    }
    const name = arn.kind === "user" ? `user/${arn.name}` : `assumed-role/${arn.role}/${arn.session}`;
    return { ok: true, caller: { surface: "iam", principal, username, groups: [], name, sourceIp } };
  }
  if (auth === "cognito") {
    // Usernames are the pool's (Unicode allowed), so only their length and control characters are checked.
    const nameOk = username.length > 0 && username.length <= 128 && !hasControlCharacter(username);
    const list = groups === "" ? [] : groups.split(",");
    if (!VALUE.test(principal) || !nameOk || !list.every((g) => GROUP.test(g))) {
      return { ok: false, problem: "identity-malformed", detail: "not a Cognito sub, username and group list" };
    }
    return { ok: true, caller: { surface: "cognito", principal, username, groups: list, name: username, sourceIp } };
  }
  return { ok: false, problem: "identity-malformed", detail: "auth must be iam or cognito" };
}
