import { createHash, randomBytes, randomUUID } from "crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { newAccessKeyId, newSecret, Principal, PrincipalCredentialStore } from "./principals";
import { discardBody, readBody } from "../common/http-body";
import { AccessLogEntry, levelOf } from "../gateway/answer";
import { CredentialStore, SigV4Credential, SigV4Problem, verifySigV4 } from "../gateway/sigv4";
import {
  API_GATEWAY,
  assumedRoleArn,
  EXTERNAL_ID,
  iamUserArn,
  ROLE_ARN,
  ROLE_SESSION_NAME,
} from "../authorizer/core/contract";

/**
 * A local STS: the `AssumeRole` (and `GetCallerIdentity`) actions of AWS STS's query API, version
 * 2011-06-15, for the local principals. Callers sign for service `sts` with SigV4 (checked by the
 * gateway's own verifier); a role may be assumed only by the principals its trust policy names,
 * with the ExternalId it requires. Temporary credentials (ASIA key, secret, session token,
 * expiration) live in memory: the gateway accepts them with the role's group's rights until they
 * expire, and a restart forgets them all (callers assume the role again).
 *
 * The pure core (parse, decide, build XML) is separate from the HTTP shell at the end.
 */

export const STS_VERSION = "2011-06-15";
const STS_NAMESPACE = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
/** AWS's limit for role chaining (a session assuming a role). */
const ROLE_CHAINING_MAX_SECONDS = 3600;
const AWS_DEFAULT_DURATION_SECONDS = 3600;
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
/** Session policies would narrow the credentials; ignoring them would hand out more than asked, so they are refused. */
const SESSION_POLICY_PARAMETER = /^(Policy|PolicyArns\..*)$/;
const MAX_BODY_BYTES = 64 * 1024;

/** An STS error: HTTP status, AWS's error code and type, a message without secrets. */
export interface StsError {
  readonly status: number;
  readonly type: "Sender" | "Receiver";
  readonly code: string;
  readonly message: string;
}

const senderError = (status: number, code: string, message: string): StsError => ({
  status,
  type: "Sender",
  code,
  message,
});

export const STS_ERRORS = {
  missingToken: senderError(403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
  invalidToken: senderError(403, "InvalidClientTokenId", "The security token included in the request is invalid."),
  expiredToken: senderError(400, "ExpiredToken", "The security token included in the request is expired"),
  tooLarge: senderError(413, "RequestEntityTooLarge", "Request is larger than 64 KiB"),
  throttled: senderError(400, "Throttling", "Rate exceeded: too many live sessions in the local STS"),
  internal: {
    status: 500,
    type: "Receiver",
    code: "InternalFailure",
    message: "The local STS failed to process the request",
  } as StsError,
} as const;

/** The SigV4 verifier's refusal as the STS error AWS would return for it. */
export function stsErrorOfSigV4(reason: SigV4Problem, message: string): StsError {
  switch (reason) {
    case "missing-authorization":
      return STS_ERRORS.missingToken;
    case "unknown-key":
    case "token-mismatch":
      return STS_ERRORS.invalidToken;
    case "expired-credentials":
      return STS_ERRORS.expiredToken;
    case "malformed-authorization":
    case "missing-date":
    case "malformed-date":
    case "missing-signed-header":
    case "unsigned-header":
      return senderError(400, "IncompleteSignature", message);
    case "malformed-request":
      return senderError(400, "MalformedQueryString", message);
    default:
      // wrong-service, wrong-region, scope-date-mismatch, skew, unsigned-payload, payload-hash, bad-signature
      return senderError(403, "SignatureDoesNotMatch", message);
  }
}

export type StsRequest =
  | {
      readonly action: "AssumeRole";
      readonly roleArn: string;
      readonly roleSessionName: string;
      readonly durationSeconds?: number;
      readonly externalId?: string;
      readonly sourceIdentity?: string;
    }
  | { readonly action: "GetCallerIdentity" };

/** AWS's wording for constraint failures: "N validation error(s) detected: Value ... at '...' failed to satisfy constraint: ...". */
function validationError(failures: readonly string[]): StsError {
  const n = failures.length;
  return senderError(
    400,
    "ValidationError",
    `${n} validation error${n === 1 ? "" : "s"} detected: ${failures.join("; ")}`,
  );
}

const shown = (v: string | undefined): string => (v === undefined ? "null" : `'${v.slice(0, 100)}'`);

/**
 * Reads the query API's parameters (a form-encoded body, or the query of a GET). Only AssumeRole and
 * GetCallerIdentity of version 2011-06-15; every constraint failure is listed, as AWS does.
 */
/** AssumeRole's parameters, session tags and policy ARNs included, are far fewer. */
const MAX_PARAMETERS = 64;

export function parseStsRequest(params: URLSearchParams): StsRequest | StsError {
  // One pass (getAll per key is quadratic in the parameters, and the STS shares the gateway's event loop);
  // AssumeRole has a dozen parameters at most, so many more is no request of ours.
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (seen.has(key))
      return senderError(400, "InvalidParameterValue", `Parameter ${key.slice(0, 64)} is given more than once`);
    seen.add(key);
    if (seen.size > MAX_PARAMETERS)
      return senderError(400, "InvalidParameterValue", `more than ${MAX_PARAMETERS} parameters`);
  }
  const action = params.get("Action");
  const version = params.get("Version");
  if (action === null) return senderError(400, "MissingAction", "Missing Action");
  if (version !== STS_VERSION)
    return senderError(
      400,
      "InvalidAction",
      `Could not find operation ${action.slice(0, 64)} for version ${(version ?? "NO_VERSION_SPECIFIED").slice(0, 32)}`,
    );
  if (action === "GetCallerIdentity") return { action };
  if (action !== "AssumeRole")
    return senderError(
      400,
      "InvalidAction",
      `Could not find operation ${action.slice(0, 64)} for version ${STS_VERSION} (the local STS serves AssumeRole and GetCallerIdentity)`,
    );

  const sessionPolicies = [...params.keys()].filter((k) => SESSION_POLICY_PARAMETER.test(k));
  if (sessionPolicies.length > 0)
    return senderError(
      400,
      "ValidationError",
      `Session policies (${sessionPolicies.join(", ")}) are not supported by the local STS`,
    );
  const failures: string[] = [];
  const roleArn = params.get("RoleArn") ?? undefined;
  if (roleArn === undefined)
    failures.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  else if (roleArn.length < 20 || roleArn.length > 2048)
    failures.push(
      `Value ${shown(roleArn)} at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048`,
    );
  const roleSessionName = params.get("RoleSessionName") ?? undefined;
  if (roleSessionName === undefined)
    failures.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
  else if (!ROLE_SESSION_NAME.test(roleSessionName)) {
    failures.push(
      `Value ${shown(roleSessionName)} at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
    );
  }
  const rawDuration = params.get("DurationSeconds") ?? undefined;
  const durationSeconds =
    rawDuration === undefined ? undefined : /^\d{1,9}$/.test(rawDuration) ? Number(rawDuration) : NaN;
  if (durationSeconds !== undefined && Number.isNaN(durationSeconds))
    failures.push(
      `Value ${shown(rawDuration)} at 'durationSeconds' failed to satisfy constraint: Member must be an integer`,
    );
  const externalId = params.get("ExternalId") ?? undefined;
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    failures.push(
      `Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224`,
    );
  }
  const sourceIdentity = params.get("SourceIdentity") ?? undefined;
  if (sourceIdentity !== undefined && !SOURCE_IDENTITY.test(sourceIdentity)) {
    failures.push(
      `Value ${shown(sourceIdentity)} at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
    );
  }
  if (failures.length > 0) return validationError(failures);
  return {
    action,
    roleArn: roleArn as string,
    roleSessionName: roleSessionName as string,
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(externalId !== undefined ? { externalId } : {}),
    ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
  };
}

/** Who signed the request: a principal's long-term key, or a session of an assumed role. */
export type StsCaller =
  | { readonly kind: "principal"; readonly name: string }
  | { readonly kind: "session"; readonly role: string; readonly sessionName: string };

export interface AssumeRolePolicy {
  readonly accountId: string;
  /** Every principal, addressable as a role; their trust policies decide. */
  readonly roles: ReadonlyMap<string, Principal>;
  readonly minDurationSeconds: number;
  readonly maxDurationSeconds: number;
}

/** The caller's ARN as AWS names it in errors and GetCallerIdentity (long-term keys belong to IAM users). */
export function callerArn(caller: StsCaller, accountId: string): string {
  return caller.kind === "principal"
    ? iamUserArn(accountId, caller.name)
    : assumedRoleArn(accountId, caller.role, caller.sessionName);
}

/**
 * Whether `caller` may assume the role, and for how long. A missing role, a role of another account,
 * a caller the trust policy does not name and a wrong or missing ExternalId all get the same
 * AccessDenied (AWS does not say which), naming the caller and the role.
 */
export function decideAssumeRole(
  caller: StsCaller,
  request: Extract<StsRequest, { action: "AssumeRole" }>,
  policy: AssumeRolePolicy,
):
  | { readonly ok: true; readonly role: Principal; readonly durationSeconds: number }
  | { readonly ok: false; readonly error: StsError } {
  const denied = senderError(
    403,
    "AccessDenied",
    `User: ${callerArn(caller, policy.accountId)} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn.slice(0, 2048)}`,
  );
  const m = ROLE_ARN.exec(request.roleArn);
  const role = m && m[1] === policy.accountId ? policy.roles.get(m[2] as string) : undefined;
  const callerName = caller.kind === "principal" ? caller.name : caller.role;
  const entry = role?.trustedBy.find((t) => t.principal === callerName);
  if (!role || !entry) return { ok: false, error: denied };
  if (entry.externalId !== undefined && request.externalId !== entry.externalId) return { ok: false, error: denied };

  const chained = caller.kind === "session";
  const durationSeconds = request.durationSeconds ?? Math.min(AWS_DEFAULT_DURATION_SECONDS, policy.maxDurationSeconds);
  if (durationSeconds < policy.minDurationSeconds) {
    return {
      ok: false,
      error: validationError([
        `Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${policy.minDurationSeconds}`,
      ]),
    };
  }
  if (durationSeconds > policy.maxDurationSeconds)
    return {
      ok: false,
      error: senderError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      ),
    };
  if (chained && durationSeconds > ROLE_CHAINING_MAX_SECONDS) {
    return {
      ok: false,
      error: senderError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      ),
    };
  }
  return { ok: true, role, durationSeconds };
}

/** Temporary credentials of one role session. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface Session extends TemporaryCredentials {
  readonly role: string;
  readonly sessionName: string;
}

/**
 * The live sessions, in memory only. Expired sessions are kept for a while so the gateway can say
 * "expired" rather than "invalid", then dropped; the number of sessions is bounded.
 */
export class SessionStore implements CredentialStore {
  private readonly byKey = new Map<string, Session>();

  constructor(
    private readonly now: () => Date,
    private readonly accountId: string = API_GATEWAY.account,
    private readonly maxSessions = 10_000,
    private readonly keepExpiredMs = 60 * 60 * 1000,
  ) {}

  /** A new session of `role`, or undefined when the store is full of live sessions. */
  issue(role: string, sessionName: string, durationSeconds: number): Session | undefined {
    this.sweep();
    if (this.byKey.size >= this.maxSessions) return undefined;
    // Whole seconds, as STS's Expiration is written.
    const expiration = new Date(Math.floor(this.now().getTime() / 1000) * 1000 + durationSeconds * 1000);
    const session: Session = {
      accessKeyId: newAccessKeyId("ASIA"),
      secretAccessKey: newSecret(),
      sessionToken: randomBytes(96).toString("base64"),
      expiration,
      role,
      sessionName,
    };
    this.byKey.set(session.accessKeyId, session);
    return session;
  }

  session(accessKeyId: string): Session | undefined {
    return this.byKey.get(accessKeyId);
  }

  find(accessKeyId: string): SigV4Credential | undefined {
    const s = this.byKey.get(accessKeyId);
    // The role decides the rights; logs name the session, as AWS's do (assumed-role/<role>/<session>).
    return (
      s && {
        accessKeyId: s.accessKeyId,
        secretAccessKey: s.secretAccessKey,
        principal: s.role,
        arn: assumedRoleArn(this.accountId, s.role, s.sessionName),
        sessionToken: s.sessionToken,
        expiresAt: s.expiration,
      }
    );
  }

  get size(): number {
    return this.byKey.size;
  }

  private sweep(): void {
    const horizon = this.now().getTime() - this.keepExpiredMs;
    for (const [key, s] of this.byKey) if (s.expiration.getTime() < horizon) this.byKey.delete(key);
  }
}

/** Long-term keys and live sessions behind one store: a session signs as its role and gets the role's group. */
export function withSessions(longTerm: PrincipalCredentialStore, sessions: SessionStore): PrincipalCredentialStore {
  return {
    find: (id) => (id.startsWith("ASIA") ? sessions.find(id) : longTerm.find(id)),
    groupOf: (name) => longTerm.groupOf(name),
  };
}

const xmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string);

/** AWS-shaped unique ids (AROA for roles, AIDA for users): stable per name. */
function uniqueId(prefix: "AROA" | "AIDA", name: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `${prefix}${[...createHash("sha256").update(name).digest().subarray(0, 17)].map((b) => alphabet[b % 32]).join("")}`;
}

/** `2026-01-02T03:04:05Z`: STS writes Expiration without milliseconds. */
const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function buildAssumeRoleResponse(
  accountId: string,
  session: Session,
  requestId: string,
  sourceIdentity?: string,
): string {
  const arn = assumedRoleArn(accountId, session.role, session.sessionName);
  return [
    `<AssumeRoleResponse xmlns="${STS_NAMESPACE}">`,
    "  <AssumeRoleResult>",
    ...(sourceIdentity !== undefined ? [`    <SourceIdentity>${xmlEscape(sourceIdentity)}</SourceIdentity>`] : []),
    "    <AssumedRoleUser>",
    `      <Arn>${xmlEscape(arn)}</Arn>`,
    `      <AssumedRoleId>${uniqueId("AROA", session.role)}:${xmlEscape(session.sessionName)}</AssumedRoleId>`,
    "    </AssumedRoleUser>",
    "    <Credentials>",
    `      <AccessKeyId>${session.accessKeyId}</AccessKeyId>`,
    `      <SecretAccessKey>${xmlEscape(session.secretAccessKey)}</SecretAccessKey>`,
    `      <SessionToken>${xmlEscape(session.sessionToken)}</SessionToken>`,
    `      <Expiration>${isoSeconds(session.expiration)}</Expiration>`,
    "    </Credentials>",
    "  </AssumeRoleResult>",
    "  <ResponseMetadata>",
    `    <RequestId>${requestId}</RequestId>`,
    "  </ResponseMetadata>",
    "</AssumeRoleResponse>",
    "",
  ].join("\n");
}

export function buildGetCallerIdentityResponse(accountId: string, caller: StsCaller, requestId: string): string {
  const userId =
    caller.kind === "principal"
      ? uniqueId("AIDA", caller.name)
      : `${uniqueId("AROA", caller.role)}:${caller.sessionName}`;
  return [
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}">`,
    "  <GetCallerIdentityResult>",
    `    <Arn>${xmlEscape(callerArn(caller, accountId))}</Arn>`,
    `    <UserId>${xmlEscape(userId)}</UserId>`,
    `    <Account>${accountId}</Account>`,
    "  </GetCallerIdentityResult>",
    "  <ResponseMetadata>",
    `    <RequestId>${requestId}</RequestId>`,
    "  </ResponseMetadata>",
    "</GetCallerIdentityResponse>",
    "",
  ].join("\n");
}

export function buildErrorResponse(error: StsError, requestId: string): string {
  return [
    `<ErrorResponse xmlns="${STS_NAMESPACE}">`,
    "  <Error>",
    `    <Type>${error.type}</Type>`,
    `    <Code>${error.code}</Code>`,
    `    <Message>${xmlEscape(error.message)}</Message>`,
    "  </Error>",
    `  <RequestId>${requestId}</RequestId>`,
    "</ErrorResponse>",
    "",
  ].join("\n");
}

// ---- The HTTP shell ----

export interface StsServerProps {
  readonly region: string;
  readonly accountId: string;
  readonly principals: readonly Principal[];
  /** Long-term keys and sessions (withSessions): callers may be sessions (role chaining). */
  readonly credentials: CredentialStore;
  readonly sessions: SessionStore;
  readonly minDurationSeconds: number;
  readonly maxDurationSeconds: number;
  /** One JSON line per request: caller, role, session, new access key id, expiry; never a secret or token. */
  readonly log: (entry: StsLogEntry) => void;
  readonly now?: () => Date;
}

export type StsLogEntry = AccessLogEntry & {
  readonly role?: string;
  readonly sessionName?: string;
  readonly issuedAccessKeyId?: string;
  readonly expiration?: string;
};

/** The STS's listener: `POST /` (form body) or `GET /?Action=...`, as sts.amazonaws.com serves them. */
export function createStsServer(props: StsServerProps): Server {
  const now = props.now ?? (() => new Date());
  const policy: AssumeRolePolicy = {
    accountId: props.accountId,
    roles: new Map(props.principals.map((p) => [p.name, p])),
    minDurationSeconds: props.minDurationSeconds,
    maxDurationSeconds: props.maxDurationSeconds,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    let entry: Omit<StsLogEntry, "time" | "level" | "component" | "event" | "latencyMs" | "status"> = {
      requestId,
      method: req.method ?? "",
      path: "/",
      surface: "iam",
      decision: "deny",
    };
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        "content-type": "text/xml",
        "content-length": Buffer.byteLength(body),
        "x-amzn-requestid": requestId,
      });
      res.end(body);
      return status;
    };
    const fail = (error: StsError, reason: string) => {
      entry = { ...entry, decision: "deny", reason };
      return send(error.status, buildErrorResponse(error, requestId));
    };
    let status = 500;
    try {
      const url = req.url ?? "";
      const q = url.indexOf("?");
      const rawPath = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? "" : url.slice(q + 1);
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body === undefined) {
        // The whole body is read before the answer, so that the client reads it.
        await discardBody(req);
        return void (status = fail(STS_ERRORS.tooLarge, "payload-too-large"));
      }
      if (rawPath !== "/" || (req.method !== "POST" && req.method !== "GET")) {
        return void (status = fail(
          senderError(400, "InvalidAction", "The local STS answers POST / and GET / only"),
          "bad-target",
        ));
      }
      if (req.headers.authorization === undefined) return void (status = fail(STS_ERRORS.missingToken, "no-signature"));
      const verified = verifySigV4(
        { method: req.method, rawPath, rawQuery, rawHeaders: req.rawHeaders, body },
        props.credentials,
        { region: props.region, service: "sts", now },
      );
      if (!verified.ok)
        return void (status = fail(stsErrorOfSigV4(verified.reason, verified.message), verified.reason));
      const session = props.sessions.session(verified.accessKeyId);
      const caller: StsCaller = session
        ? { kind: "session", role: session.role, sessionName: session.sessionName }
        : { kind: "principal", name: verified.principal };
      entry = { ...entry, principal: callerArn(caller, props.accountId) };

      const params = new URLSearchParams(req.method === "POST" ? body.toString("utf8") : rawQuery);
      const request = parseStsRequest(params);
      if ("code" in request) return void (status = fail(request, `invalid-request:${request.code}`));
      entry = { ...entry, action: `sts:${request.action}` };
      if (request.action === "GetCallerIdentity") {
        entry = { ...entry, decision: "allow" };
        return void (status = send(200, buildGetCallerIdentityResponse(props.accountId, caller, requestId)));
      }
      entry = { ...entry, role: request.roleArn.slice(0, 300), sessionName: request.roleSessionName };
      const decision = decideAssumeRole(caller, request, policy);
      if (!decision.ok)
        return void (status = fail(
          decision.error,
          decision.error.code === "AccessDenied" ? "not-trusted" : `invalid-request:${decision.error.code}`,
        ));
      const issued = props.sessions.issue(decision.role.name, request.roleSessionName, decision.durationSeconds);
      if (!issued) return void (status = fail(STS_ERRORS.throttled, "too-many-sessions"));
      entry = {
        ...entry,
        decision: "allow",
        issuedAccessKeyId: issued.accessKeyId,
        expiration: isoSeconds(issued.expiration),
      };
      status = send(200, buildAssumeRoleResponse(props.accountId, issued, requestId, request.sourceIdentity));
    } catch (e) {
      // Fail closed: never a credential on an unexpected error.
      entry = { ...entry, decision: "error", reason: `sts-error:${(e as Error)?.name ?? "unknown"}` };
      if (!res.headersSent) status = send(500, buildErrorResponse(STS_ERRORS.internal, requestId));
      else res.destroy();
    } finally {
      try {
        props.log({
          time: new Date().toISOString(),
          level: levelOf(entry.decision),
          component: "sts",
          event: "request",
          ...entry,
          status,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        });
      } catch {
        // A failing log sink must not take the STS down.
      }
    }
  }

  return createServer({ requestTimeout: 30_000 }, (req, res) => void handle(req, res));
}
