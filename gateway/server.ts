import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { randomUUID } from "crypto";
import {
  Agent,
  ClientRequest,
  createServer,
  IncomingMessage,
  request as httpRequest,
  Server,
  ServerResponse,
} from "http";
import type { Authorizer } from "../authorizer/authorize";
import { AuthType, authTypeOfRequest, CatalogRoute, HTTP_METHODS } from "../authorizer/core/catalog";
import { decideRequest } from "../authorizer/core/decide-request";
import { ParsedPolicy, parsePolicyDocument } from "../authorizer/core/evaluate";
import { formatMethodArn, MethodArn, MethodArnStage } from "../authorizer/core/method-arn";
import { PolicySet } from "../authorizer/core/policy-set";
import { ANSWERS, GatewayAnswer, iamDenied } from "./api-responses";
import { AuthorizerCache } from "./authorizer-cache";
import { API_GATEWAY, parseCallerArn } from "../authorizer/core/contract";
import { discardBody, readBody } from "../common/http-body";
import { trackResponses } from "../common/http-server";
import { connectionTokens, HOP_BY_HOP_HEADERS, isHopByHopRequestHeader } from "../common/hop-by-hop";
import { mappedIdentityHeaders, RequestContext } from "./integration-request";
import { CredentialStore, verifySigV4 } from "./sigv4";
import { isUiPath, resolveUiFile, sendUiFile } from "../local/ui-files";

/** One JSON line per request; never a token, a signature or a body. */
export interface AccessLogEntry {
  readonly time: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly decision: "allow" | "deny" | "unauthorized" | "public" | "error";
  readonly reason?: string;
  readonly surface?: AuthType;
  readonly action?: string;
  readonly principal?: string;
  readonly username?: string;
  readonly groups?: readonly string[];
  /** The SigV4 access key id (never its secret). */
  readonly accessKeyId?: string;
  readonly latencyMs: number;
}

export interface GatewayProps {
  readonly region: string;
  readonly authorizerCacheTtlSeconds: number;
  readonly integrationTimeoutMs: number;
  readonly policySet: PolicySet;
  /** The same module the Lambda runs (authorizer/authorize.ts), configured for the local pool. */
  readonly authorizer: Authorizer;
  readonly credentials: CredentialStore & { groupOf(principal: string): string | undefined };
  /** MLflow's private address. */
  readonly upstream: URL;
  readonly log: (entry: AccessLogEntry) => void;
  readonly now?: () => Date;
  /** The patched UI (ui-patch/build-ui.ts): `/`, `/static-files/*` and its config come from here instead of MLflow. */
  readonly uiDirectory?: string;
  /** What MLflow answers held at once may add up to before they stream; @default MAX_HELD_BYTES */
  readonly maxHeldBytes?: number;
  /** Idle keep-alive connections to MLflow close after this; below MLflow's own keep-alive timeout. @default UPSTREAM_IDLE_MS */
  readonly upstreamIdleMs?: number;
}

/** Credentials MLflow has no use for, and headers that would let a client speak for the gateway. */
const CREDENTIAL_REQUEST_HEADERS = new Set([
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
  "forwarded",
  "x-real-ip",
]);

/** How long an idle keep-alive connection to MLflow is kept: under uvicorn's 5 s keep-alive timeout. */
export const UPSTREAM_IDLE_MS = 4000;

/** What all answers held at once may add up to: past it, answers stream instead (as larger ones always do). */
export const MAX_HELD_BYTES = 256 * 1024 * 1024;

function isDroppedRequestHeader(name: string, tokens: ReadonlySet<string>): boolean {
  return (
    isHopByHopRequestHeader(name, tokens) ||
    CREDENTIAL_REQUEST_HEADERS.has(name) ||
    name.startsWith("x-forwarded-") ||
    name.startsWith("x-mlflow-gate-")
  );
}

export interface Target {
  readonly rawPath: string;
  readonly rawQuery: string;
  /** The path as MLflow's routers read it: percent-decoded. */
  readonly path: string;
}

/**
 * Reads the request target. Only origin-form (`/path?query`); a path that does not decode, or that
 * holds segments MLflow and API Gateway might read differently (`//`, `.`, `..`, NUL, backslash), is
 * refused rather than guessed at.
 */
export function readTarget(url: string | undefined): Target | undefined {
  if (!url || !url.startsWith("/")) return undefined;
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (/[\0\\]/.test(path) || /\/\/|\/\.\.?(\/|$)/.test(path)) return undefined;
  return { rawPath, rawQuery, path };
}

/** How much of a too-large body the gateway reads (and discards) before it cuts the client off. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

interface Identity {
  readonly principal?: string;
  readonly username?: string;
  /** SigV4 only: joins a request to the STS log line that issued a session's key (key ids are not secrets). */
  readonly accessKeyId?: string;
  readonly groups: readonly string[];
  /** SigV4 only: the caller's ARN (`context.identity.userArn`). */
  readonly arn?: string;
}

type Decision =
  | { readonly allow: true; readonly identity: Identity }
  | {
      readonly allow: false;
      readonly answer: GatewayAnswer;
      readonly reason: string;
      readonly identity?: Identity;
      readonly unauthorized?: boolean;
    };

/** Parsed statements per authorizer result and per role, so each request only evaluates. */
const parsedPolicies = new WeakMap<object, ParsedPolicy>();
function statementsOf(doc: object): ParsedPolicy {
  let parsed = parsedPolicies.get(doc);
  if (!parsed) {
    parsed = parsePolicyDocument(doc);
    parsedPolicies.set(doc, parsed);
  }
  return parsed;
}

export function createGatewayServer(props: GatewayProps): Server {
  const now = props.now ?? (() => new Date());
  const cache = new AuthorizerCache(props.authorizerCacheTtlSeconds * 1000, () => now().getTime());
  const stage: MethodArnStage = {
    partition: "aws",
    region: props.region,
    account: API_GATEWAY.account,
    apiId: API_GATEWAY.apiId,
    stage: API_GATEWAY.stage,
  };
  const roleStatements = new Map<string, ParsedPolicy[]>();
  const roleOf = (group: string) => {
    let docs = roleStatements.get(group);
    if (!docs) {
      docs = props.policySet.iamPolicies(group, stage).map((d) => parsePolicyDocument(d));
      roleStatements.set(group, docs);
    }
    return docs;
  };

  /** The core's decision on the request, as API Gateway answers it. */
  function decide(
    policies: readonly ParsedPolicy[],
    methodArn: MethodArn,
    route: CatalogRoute | undefined,
    surface: AuthType,
    identity: Identity,
  ): Decision {
    const d = decideRequest(props.policySet, { methodArn, route, surface, groups: identity.groups, policies });
    if (d.decision === "allow") return { allow: true, identity };
    const answer = d.evaluation?.decision === "ExplicitDeny" ? ANSWERS.explicitDeny : ANSWERS.accessDenied;
    return { allow: false, answer, reason: d.reason, identity };
  }

  function authorizeIam(
    req: IncomingMessage,
    target: Target,
    body: Buffer,
    methodArn: MethodArn,
    route: CatalogRoute | undefined,
  ): Decision {
    const hasAuth = Object.keys(req.headers).some((h) => h === "authorization");
    if (!hasAuth) return { allow: false, answer: ANSWERS.missingToken, reason: "no-signature" };
    const verified = verifySigV4(
      {
        method: req.method ?? "",
        rawPath: target.rawPath,
        rawQuery: target.rawQuery,
        rawHeaders: req.rawHeaders,
        body,
      },
      props.credentials,
      { region: props.region, now },
    );
    if (!verified.ok) return { allow: false, answer: iamDenied(verified.message), reason: verified.reason };
    const group = props.credentials.groupOf(verified.principal);
    const identity: Identity = {
      principal: logNameOf(verified.arn) ?? verified.principal,
      username: verified.principal,
      arn: verified.arn,
      accessKeyId: verified.accessKeyId,
      groups: group ? [group] : [],
    };
    if (!group) return { allow: false, answer: ANSWERS.accessDenied, reason: "principal-without-group", identity };
    return decide(roleOf(group), methodArn, route, "iam", identity);
  }

  async function authorizeCognito(
    req: IncomingMessage,
    target: Target,
    methodArn: MethodArn,
    route: CatalogRoute | undefined,
    requestId: string,
  ): Promise<Decision> {
    // Node keeps only the first of repeated Authorization headers in req.headers, and the cache is
    // keyed on it: a second value is refused before the cache, as the authorizer itself refuses it.
    if (req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "authorization").length > 1) {
      return { allow: false, answer: ANSWERS.unauthorized, reason: "duplicate-authorization", unauthorized: true };
    }
    const authorization = req.headers.authorization;
    // API Gateway answers 401 without calling the authorizer when the identity source is missing.
    if (authorization === undefined || authorization === "")
      return { allow: false, answer: ANSWERS.unauthorized, reason: "no-token", unauthorized: true };
    let result = cache.get(authorization);
    if (!result) {
      try {
        result = await props.authorizer(authorizerEvent(req, target, formatMethodArn(methodArn), requestId));
      } catch (e) {
        const unauthorized = e instanceof Error && e.message === "Unauthorized";
        return unauthorized
          ? { allow: false, answer: ANSWERS.unauthorized, reason: "authorizer-unauthorized", unauthorized: true }
          : { allow: false, answer: ANSWERS.accessDenied, reason: "authorizer-error" };
      }
      cache.set(authorization, result);
    }
    const identity = identityOf(result);
    let statements;
    try {
      statements = statementsOf(result.policyDocument);
    } catch {
      return { allow: false, answer: ANSWERS.accessDenied, reason: "unreadable-policy", identity };
    }
    return decide([statements], methodArn, route, "cognito", identity);
  }

  function authorizerEvent(
    req: IncomingMessage,
    target: Target,
    methodArn: string,
    requestId: string,
  ): APIGatewayRequestAuthorizerEvent {
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      const value = req.rawHeaders[i + 1] as string;
      headers[name] = value;
      (multiValueHeaders[name] ??= []).push(value);
    }
    return {
      type: "REQUEST",
      methodArn,
      resource: target.path,
      path: target.path,
      httpMethod: req.method ?? "",
      headers,
      multiValueHeaders,
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: {
        requestId,
        stage: API_GATEWAY.stage,
        apiId: API_GATEWAY.apiId,
        httpMethod: req.method ?? "",
        path: target.path,
      },
    } as unknown as APIGatewayRequestAuthorizerEvent;
  }

  function answer(res: ServerResponse, requestId: string, a: GatewayAnswer): void {
    const body = JSON.stringify({ message: a.message });
    res.writeHead(a.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-amzn-requestid": requestId,
      "x-amzn-errortype": a.errorType,
    });
    res.end(body);
  }

  // Idle connections to MLflow are dropped before MLflow drops them (uvicorn closes them after 5 s): a
  // request sent on a connection the server is closing at that moment fails with ECONNRESET (a 502).
  const upstreamAgent = new Agent({ keepAlive: true, timeout: props.upstreamIdleMs ?? UPSTREAM_IDLE_MS });

  /** Logged when the client closes the connection before any answer (nginx's convention). */
  const CLIENT_CLOSED = 499;
  /** Bytes of MLflow answers held across all requests (see forward). */
  let heldEverywhere = 0;

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    body: Buffer,
    identity: Identity,
    surface: AuthType,
    requestId: string,
  ): Promise<{ status: number; reason?: string }> {
    const tokens = connectionTokens(req.headers.connection);
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] as string).toLowerCase();
      if (!isDroppedRequestHeader(name, tokens)) headers.push([name, req.rawHeaders[i + 1] as string]);
    }
    headers.push(
      ["host", props.upstream.host],
      ["content-length", String(body.length)],
      ["x-forwarded-for", req.socket.remoteAddress ?? ""],
      ["x-forwarded-proto", "http"],
    );
    if (surface !== "none") {
      const context: RequestContext = {
        requestId,
        httpMethod: req.method ?? "",
        path: target.rawPath,
        identity: { userArn: identity.arn },
        authorizer: { principalId: identity.principal, username: identity.username, groups: identity.groups.join(",") },
      };
      headers.push(...mappedIdentityHeaders(surface, context));
    }

    return new Promise((resolve) => {
      let settled = false;
      let responseStatus: number | undefined;
      const settle = (r: { status: number; reason?: string }) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(r);
        }
      };
      let retried = false;
      const send = (): ClientRequest =>
        httpRequest(
          {
            host: props.upstream.hostname,
            port: props.upstream.port,
            method: req.method,
            path: target.rawQuery === "" ? target.rawPath : `${target.rawPath}?${target.rawQuery}`,
            headers: headers.flat() as unknown as Record<string, string>,
            agent: upstreamAgent,
          },
          (upstreamRes) => {
            clearTimeout(timer);
            const out: string[] = [];
            for (let i = 0; i + 1 < upstreamRes.rawHeaders.length; i += 2) {
              const name = upstreamRes.rawHeaders[i] as string;
              if (!HOP_BY_HOP_HEADERS.has(name.toLowerCase())) out.push(name, upstreamRes.rawHeaders[i + 1] as string);
            }
            out.push("x-amzn-RequestId", requestId);
            const status = upstreamRes.statusCode ?? 502;
            // API Gateway buffers the integration's response, so one MLflow cuts off (a crash mid-answer) is a
            // 502, not a broken connection. So does this gateway, up to the payload limit; a larger response
            // (an artifact download) streams, and a cut in it can only end the connection.
            const held: Buffer[] = [];
            let heldBytes = 0;
            let streaming = false;
            const release = () => {
              heldEverywhere -= heldBytes;
              heldBytes = 0;
            };
            const hold = (chunk: Buffer) => {
              if (res.destroyed) return void (release(), upstreamReq.destroy());
              held.push(chunk);
              heldBytes += chunk.length;
              heldEverywhere += chunk.length;
              // Past the payload limit, or past what all requests together may hold, the answer streams.
              if (heldBytes <= API_GATEWAY.maxPayloadBytes && heldEverywhere <= (props.maxHeldBytes ?? MAX_HELD_BYTES))
                return;
              release();
              upstreamRes.off("data", hold);
              streaming = true;
              res.writeHead(status, out);
              for (const c of held.splice(0)) res.write(c);
              upstreamRes.pipe(res);
            };
            upstreamRes.on("data", hold);
            upstreamRes.on("close", release);
            upstreamRes.on("end", () => {
              release();
              if (streaming || res.headersSent) return;
              res.writeHead(status, out);
              res.end(Buffer.concat(held));
            });
            const cutOff = () => {
              release();
              if (settled) return;
              if (streaming || res.headersSent) return void res.destroy();
              answer(res, requestId, ANSWERS.badResponse);
              settle({ status: ANSWERS.badResponse.status, reason: "upstream-cut-off" });
            };
            upstreamRes.on("error", cutOff);
            upstreamRes.on("aborted", cutOff);
            responseStatus = status;
          },
        );
      let upstreamReq = send();
      res.on("close", () => {
        if (res.writableFinished) return settle({ status: responseStatus ?? res.statusCode });
        // The client left before its answer was sent: cancel MLflow's side, or a paused response would hold
        // an MLflow worker (and its socket) with nothing left to read it.
        upstreamReq.destroy();
        settle({
          status: res.headersSent ? (responseStatus ?? res.statusCode) : CLIENT_CLOSED,
          reason: "client-closed",
        });
      });
      // API Gateway's integration timeout covers the wait for the response to begin.
      const timer = setTimeout(() => {
        upstreamReq.destroy();
        if (!res.headersSent) answer(res, requestId, ANSWERS.timeout);
        settle({ status: ANSWERS.timeout.status, reason: "integration-timeout" });
      }, props.integrationTimeoutMs);
      const onError = (e: NodeJS.ErrnoException) => {
        if (settled) return;
        // A kept-alive connection MLflow closed just as this request went out: MLflow never read it, so it
        // goes once more on a new connection (Node's documented remedy). Any other failure is a 502.
        if (
          e.code === "ECONNRESET" &&
          upstreamReq.reusedSocket &&
          responseStatus === undefined &&
          !retried &&
          !res.destroyed
        ) {
          retried = true;
          upstreamReq = send();
          upstreamReq.on("error", onError);
          upstreamReq.end(body);
          return;
        }
        if (!res.headersSent) answer(res, requestId, ANSWERS.mlflowDown);
        else res.destroy();
        settle({ status: ANSWERS.mlflowDown.status, reason: `upstream-${e.code ?? "error"}` });
      };
      upstreamReq.on("error", onError);
      upstreamReq.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = req.method ?? "";
    let entry: Omit<AccessLogEntry, "time" | "latencyMs" | "status"> = {
      requestId,
      method,
      path: "",
      decision: "error",
    };
    let status = 500;
    try {
      const target = readTarget(req.url);
      entry = { ...entry, path: target?.path ?? "(unreadable)" };
      if (!target) {
        answer(res, requestId, ANSWERS.badRequest);
        status = 400;
        entry = { ...entry, decision: "deny", reason: "bad-target" };
        return;
      }
      // Methods the catalog never routes have no API Gateway method: no resource to authorize.
      if (!(HTTP_METHODS as readonly string[]).includes(method)) {
        answer(res, requestId, ANSWERS.missingToken);
        status = 403;
        entry = { ...entry, decision: "deny", reason: "no-such-method" };
        return;
      }
      if (props.uiDirectory && method === "GET" && isUiPath(target.path)) {
        const file = resolveUiFile(props.uiDirectory, target.path);
        entry = { ...entry, surface: "none", decision: "public" };
        if (file) {
          status = await sendUiFile(res, file, requestId);
        } else {
          answer(res, requestId, ANSWERS.notFound);
          status = 404;
        }
        return;
      }
      const body = await readBody(req, API_GATEWAY.maxPayloadBytes);
      if (body === undefined) {
        // Let the client finish sending so it can read the 413, then close; a client that keeps
        // sending far past the limit is cut off.
        void discardBody(req, DRAIN_LIMIT_BYTES);
        res.setHeader("connection", "close");
        answer(res, requestId, ANSWERS.tooLarge);
        status = 413;
        entry = { ...entry, decision: "deny", reason: "payload-too-large" };
        return;
      }
      // MLflow reads a GET's JSON body as its parameters when the query string is empty
      // (handlers.py, _get_request_message): whoever checks the query would see other parameters
      // than MLflow acts on. No MLflow client sends one, so it is refused, never forwarded.
      if (method === "GET" && body.length > 0) {
        answer(res, requestId, ANSWERS.getWithBody);
        status = ANSWERS.getWithBody.status;
        entry = { ...entry, decision: "deny", reason: "get-with-body" };
        return;
      }
      const route = props.policySet.matcher.match(method, target.path);
      const surface = authTypeOfRequest(route, target.path);
      entry = { ...entry, surface, ...(route ? { action: route.action } : {}) };
      const methodArn: MethodArn = { ...stage, method, path: target.path };

      let identity: Identity = { groups: [] };
      if (surface !== "none") {
        const d =
          surface === "iam"
            ? authorizeIam(req, target, body, methodArn, route)
            : await authorizeCognito(req, target, methodArn, route, requestId);
        if (d.identity)
          entry = {
            ...entry,
            principal: d.identity.principal,
            username: d.identity.username,
            groups: d.identity.groups,
            ...(d.identity.accessKeyId ? { accessKeyId: d.identity.accessKeyId } : {}),
          };
        if (!d.allow) {
          answer(res, requestId, d.answer);
          status = d.answer.status;
          entry = { ...entry, decision: d.unauthorized ? "unauthorized" : "deny", reason: d.reason };
          return;
        }
        identity = d.identity;
      }
      entry = { ...entry, decision: surface === "none" ? "public" : "allow" };
      const forwarded = await forward(req, res, target, body, identity, surface, requestId);
      status = forwarded.status;
      if (forwarded.reason) entry = { ...entry, decision: "error", reason: forwarded.reason };
    } catch (e) {
      // Fail closed: an unexpected error is a 403, never a pass-through and never a stack trace.
      if (!res.headersSent) answer(res, requestId, ANSWERS.accessDenied);
      else res.destroy();
      status = 403;
      entry = { ...entry, decision: "error", reason: `gateway-error:${(e as Error)?.name ?? "unknown"}` };
    } finally {
      try {
        props.log({
          time: new Date().toISOString(),
          ...entry,
          status,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        });
      } catch {
        // A failing log sink (a closed stdout) must not take the gateway down with an unhandled rejection.
      }
    }
  }

  const server = createServer({ requestTimeout: 120_000 }, (req, res) => void handle(req, res));
  server.on("close", () => upstreamAgent.destroy());
  trackResponses(server);
  return server;
}

function identityOf(result: APIGatewayAuthorizerResult): Identity {
  const ctx = result.context ?? {};
  const groups = typeof ctx.groups === "string" && ctx.groups !== "" ? ctx.groups.split(",") : [];
  return {
    principal: result.principalId,
    username: typeof ctx.username === "string" ? ctx.username : undefined,
    groups,
  };
}

/** How the access log names an IAM caller: a session as `assumed-role/<role>/<session>` (as AWS's logs do), a user by name. */
function logNameOf(arn: string): string | undefined {
  const caller = parseCallerArn(arn);
  if (!caller) return undefined;
  return caller.kind === "assumed-role" ? `assumed-role/${caller.role}/${caller.session}` : caller.name;
}
