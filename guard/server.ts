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
import { authTypeOf, AuthType, CatalogRoute, readPathParameters, RouteMatcher } from "../authorizer/core/catalog";
import { MLFLOW_WORKSPACE_HEADER } from "../authorizer/core/contract";
import { connectionTokens, HOP_BY_HOP_HEADERS, isHopByHopRequestHeader } from "../common/hop-by-hop";
import { discardBody, readBody } from "../common/http-body";
import { trackResponses } from "../common/http-server";
import { GuardAnswer, Refusal, REFUSALS, sendAnswer } from "./answers";
import {
  AuditPromotion,
  auditPromotion,
  auditRegistryChange,
  AuditRecord,
  AuditResources,
  buildAuditRecord,
  mergeResources,
  requestResources,
  responseResources,
} from "./audit";
import { checkAuthorizedRequest } from "./authorized-request";
import { withoutDatabaseDetails } from "./database-errors";
import { BodyLimits, planBody, vetBody } from "./body-plan";
import { createByteBudget } from "../common/byte-budget";
import { DEFAULT_MAX_BUFFERED_BYTES } from "./config";
import { Caller, isRequestId, readCaller } from "./caller";
import { DEFAULT_GRAPHQL_LIMITS, GraphqlLimits } from "./graphql";
import {
  checkPromotion,
  groupsOf,
  PROMOTION_ERROR_CODES,
  PromotionPolicy,
  RegistryLookup,
  VersionFacts,
} from "./promotion";
import { isPromotionAction, isPromotionDecided, isRegistryChangeAction } from "./promotion-request";
import { JsonObject } from "./json-body";
import { ModelLock, modelNamesOf } from "./model-lock";
import { registryLookup } from "./registry-lookup";
import {
  inspectHeaders,
  isClientAddressHeader,
  isGuardOnlyHeader,
  presignParameterOf,
  stripRequestHeaderCookies,
} from "./request-headers";
import { readRequestTarget, RequestTarget } from "./request-target";
import { checkArtifactBody, checkArtifactParameters } from "./artifact-paths";
import {
  checkWorkspaceIdentity,
  filterWorkspaceList,
  GuardWorkspaces,
  isTeamPath,
  reaches,
  readTeamPath,
  WORKSPACE_MANAGE_ACTIONS,
  workspaceOf,
} from "./workspaces";

/**
 * The guard: a reverse proxy directly in front of MLflow, and the only way to it. It trusts identity
 * only as API Gateway mapped it, refuses any request MLflow could read differently from what was
 * authorized, stamps the verified caller on what MLflow stores, and writes the audit trail. Bodies it
 * does not need stream through; JSON bodies of the routes it rewrites or audits are read (at most the
 * API's 10 MB). The same program runs in the MLflow task on AWS and in the local stack.
 */
export interface GuardProps {
  /** MLflow's address (loopback). */
  readonly upstream: URL;
  /** API Gateway's `context.path` prefix before MLflow's path (`/<stage>` on an execute-api host, else ""). */
  readonly stagePathPrefix: string;
  readonly matcher: RouteMatcher;
  readonly maxBodyBytes: number;
  /**
   * The bytes of request bodies the guard holds at once, over all requests; past it a body it must read is
   * answered 503 with Retry-After. @default DEFAULT_MAX_BUFFERED_BYTES
   */
  readonly maxBufferedBytes?: number;
  /** Where audit lines go. */
  readonly audit: (record: AuditRecord) => void;
  /** Reads are audited too. @default false */
  readonly auditReads?: boolean;
  readonly now?: () => Date;
  /** What reaches MLflow's `/graphql`. @default DEFAULT_GRAPHQL_LIMITS */
  readonly graphql?: GraphqlLimits;
  /** How long a client has to send a whole request. @default REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections to MLflow close after this: under uvicorn's 5 s. @default 4000 */
  readonly upstreamIdleMs?: number;
  /** The group files' promotion rules, and the groups of SigV4 callers; the stage and alias routes are decided with them. */
  readonly promotion: PromotionPolicy;
  /**
   * Teams: MLflow's routes under `/ws/<team>/`, each request in its team's MLflow workspace, and what the
   * caller's groups reach of the workspace routes. @default no teams (every request in MLflow's default workspace)
   */
  readonly workspaces?: GuardWorkspaces;
}

export interface Guard {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Drops the idle connections to MLflow. */
  close(): void;
}

/** The largest MLflow answer the guard reads (besides passing it on) for the ids it assigned. */
const MAX_AUDITED_RESPONSE_BYTES = 1024 * 1024;
/** MLflow's error answers are a code and a sentence: what the guard reads of one at most. */
const MAX_ERROR_ANSWER_BYTES = 64 * 1024;

/**
 * An error answer the guard reads whole before it goes out (within MAX_ERROR_ANSWER_BYTES; a larger one is not
 * passed on): JSON, not encoded. MLflow's error answers are neither larger nor encoded.
 */
function isCheckedError(up: IncomingMessage): boolean {
  return /^application\/json\b/i.test(up.headers["content-type"] ?? "") && up.headers["content-encoding"] === undefined;
}
/** How long a client has to send a whole request (headers and body); Node answers 408 past it. */
export const REQUEST_TIMEOUT_MS = 60_000;
/**
 * How long an idle client connection stays open: above the NLB's 350 s idle timeout for TCP, so that the NLB,
 * not the guard, ends an idle connection (a guard closing first could race a request the NLB sends on it).
 * Locally the emulator's own idle timeout (4 s) is below it, for the same reason.
 */
export const KEEP_ALIVE_MS = 360_000;
/** What the guard reads and drops of a refused request's body before it cuts the client off. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

const refuse = (reason: string, answer: GuardAnswer = REFUSALS[reason] ?? REFUSALS["guard-error"]!): never => {
  throw new Refusal(reason, answer);
};

/** Writes a request's audit line once it is answered: refused by the guard, or forwarded to MLflow. */
type Finish = (
  decision: "forwarded" | "refused",
  status: number,
  reason: string | undefined,
  answered?: AuditResources,
) => void;

/** What the guard learnt of a request before forwarding it. */
interface Checked {
  /** The target MLflow gets: with teams, the path after `/ws/<team>`. */
  readonly target: RequestTarget;
  /** The decoded path as the guard received it (with teams, `/ws/<team>/...`): the audit line's. */
  readonly receivedPath: string;
  /** The team's MLflow workspace, which the guard sets as MLflow's workspace header; undefined without teams. */
  readonly workspace?: string;
  /** ListWorkspaces with teams: MLflow's answer keeps only these workspaces (undefined: all). */
  readonly listOnly?: ReadonlySet<string>;
  readonly route: CatalogRoute | undefined;
  readonly action: string;
  readonly audited: boolean;
  readonly caller?: Caller;
  readonly requestId: string;
  /**
   * What MLflow is told in X-Forwarded-For: the caller's source address as API Gateway mapped it, or on a
   * public route (no mappings there) the guard's peer (the NLB; locally the emulator).
   */
  readonly forwardedFor: string;
}

/** What the audit line of a request refused during the checks may say: what was read and trusted so far. */
interface Known {
  requestId?: string;
  caller?: Caller;
}

export function createGuard(props: GuardProps): Guard {
  const now = props.now ?? (() => new Date());
  const agent = new Agent({ keepAlive: true, timeout: props.upstreamIdleMs ?? 4000 });
  const budget = createByteBudget(props.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const bodyLimits: BodyLimits = { maxBodyBytes: props.maxBodyBytes, graphql: props.graphql ?? DEFAULT_GRAPHQL_LIMITS };
  const registry = registryLookup(props.upstream, agent);
  const modelLock = new ModelLock();

  const emit = (record: AuditRecord): void => {
    try {
      props.audit(record);
    } catch {
      // A failing sink must not turn an answered request into an error.
    }
  };

  /**
   * Target, headers, identity, the authorized request: everything decided before any body is read. What
   * is known of the request as it goes goes into `known` too, for the audit line of a later refusal: API
   * Gateway's request id once the headers passed (on a public route there is none, and a client's is not
   * taken), then the caller.
   */
  function check(req: IncomingMessage, known: Known): Checked {
    const method = req.method ?? "";
    const read = readRequestTarget(req.url);
    if (!read.ok) return refuse(read.problem);
    const received = read.target;
    const headers = inspectHeaders(req.rawHeaders);
    if (!headers.ok) return refuse(headers.problem);
    if (presignParameterOf(received.rawQuery) !== undefined) return refuse("presigned-query");
    // With teams, MLflow's route is what follows `/ws/<team>`; without, a `/ws/` path is MLflow's to answer.
    let target = received;
    let team: string | undefined;
    if (props.workspaces !== undefined && isTeamPath(received.rawPath)) {
      const teamPath = readTeamPath(received.rawPath);
      if (!teamPath.ok) return refuse(teamPath.problem);
      team = teamPath.team;
      // `/ws/<team>` is plain ASCII (a team name), so the decoded rest is the rest of the decoded path.
      const path = received.path.slice(received.rawPath.length - teamPath.rawRest.length);
      target = { rawPath: teamPath.rawRest, rawQuery: received.rawQuery, path };
    }
    const route = props.matcher.match(method, target.path);
    const surface: AuthType = route ? route.auth : authTypeOf(target.path, "read");
    const action = route?.action ?? "(unknown route)";
    const audited = route === undefined || route.class !== "read" || props.auditReads === true;
    const identity = headers.identity;
    if (surface !== "none" && identity.requestId !== undefined && isRequestId(identity.requestId)) {
      known.requestId = identity.requestId;
    }
    const anyIdentity = Object.keys(identity).length > 0;
    if (surface === "none") {
      // Public routes are the API's without a team; one under `/ws/<team>/` is no route of the API.
      if (team !== undefined) return refuse("workspace-on-public-route");
      // A public route (health checks, the UI's static files): API Gateway maps no identity there, so one
      // that comes with an identity was forged.
      if (anyIdentity) return refuse("identity-on-public-route");
      const peer = req.socket.remoteAddress;
      if (peer === undefined) return refuse("guard-error");
      return {
        target,
        receivedPath: received.path,
        route,
        action,
        audited: false,
        requestId: randomUUID(),
        forwardedFor: peer,
      };
    }
    // With teams every authenticated route is a team's: fail closed on one without.
    if (props.workspaces !== undefined && team === undefined) return refuse("workspace-path-required");
    const who = readCaller(identity);
    if (!who.ok) return refuse(who.problem);
    if (who.caller.surface !== surface) return refuse("surface-mismatch");
    known.caller = who.caller;
    if (identity.method === undefined || identity.path === undefined) return refuse("identity-incomplete");
    const authorized = checkAuthorizedRequest(
      { method, path: received.path },
      { method: identity.method, path: identity.path },
      props.stagePathPrefix,
    );
    if (!authorized.ok) return refuse(authorized.problem);
    if (props.workspaces === undefined) {
      if (identity.workspace !== undefined) return refuse("workspace-identity-unexpected");
    } else {
      const mapped = checkWorkspaceIdentity(identity.workspace, team as string);
      if (!mapped.ok) return refuse(mapped.problem);
    }
    if (route !== undefined) {
      const params = readPathParameters(route.path, target.path);
      const artifacts = checkArtifactParameters(route.path, target.rawQuery, params, workspaceOf(team));
      if (artifacts !== undefined) return refuse(artifacts);
    }
    let listOnly: ReadonlySet<string> | undefined;
    if (props.workspaces !== undefined && route !== undefined) {
      const groups = groupsOf(who.caller, props.promotion.iamGroups);
      if (WORKSPACE_MANAGE_ACTIONS.has(route.action) && !props.workspaces.mayManage(groups)) {
        return refuse("workspace-manage-denied");
      }
      if (route.action === "GetWorkspace") {
        const name = readPathParameters(route.path, target.path).workspace_name ?? "";
        if (!reaches(props.workspaces.reachable(groups), name)) return refuse("workspace-not-reachable");
      }
      if (route.action === "ListWorkspaces") {
        const reached = props.workspaces.reachable(groups);
        if (reached !== "all") listOnly = reached;
      }
    }
    if ((method === "GET" || method === "HEAD") && hasBody(req)) return refuse("get-with-body");
    return {
      target,
      receivedPath: received.path,
      ...(team !== undefined ? { workspace: team } : {}),
      ...(listOnly !== undefined ? { listOnly } : {}),
      route,
      action,
      audited,
      caller: who.caller,
      requestId: identity.requestId ?? randomUUID(),
      forwardedFor: who.caller.sourceIp,
    };
  }

  /**
   * The body to send MLflow: undefined streams the client's; a buffer was read, checked and maybe
   * rewritten (body-plan.ts decides). `seen` keeps the JSON the client sent, for the audit line of a refusal.
   */
  async function prepareBody(
    req: IncomingMessage,
    c: Checked,
    seen: { json?: JsonObject },
    hold: (release: () => void) => void,
  ): Promise<{ body?: Buffer; json?: JsonObject }> {
    const facts = {
      contentType: req.headers["content-type"],
      contentEncoding: req.headers["content-encoding"],
    };
    const plan = planBody(
      {
        ...facts,
        action: c.action,
        method: req.method ?? "",
        routeSource: c.route?.source,
        contentLength: req.headers["content-length"],
        hasBody: hasBody(req),
        audited: c.audited,
      },
      bodyLimits,
    );
    if (plan.kind === "stream") return {};
    if (plan.kind === "refuse") return refuse(plan.refusal.reason, plan.refusal.answer);
    const release = budget.tryReserve(plan.reserve);
    if (release === undefined) return refuse("guard-busy");
    hold(release);
    const body = await readBody(req, plan.limit).catch(() => refuse("guard-error"));
    if (body === undefined) return refuse(plan.tooLarge.reason, plan.tooLarge.answer);
    const vetted = vetBody(plan.checks, body, {
      ...facts,
      action: c.action,
      caller: c.caller?.name,
      params: c.route ? readPathParameters(c.route.path, c.target.path) : {},
      limits: bodyLimits,
    });
    if (!vetted.ok) {
      if (vetted.refusal.json !== undefined) seen.json = vetted.refusal.json;
      return refuse(vetted.refusal.reason, vetted.refusal.answer);
    }
    return vetted;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    let checked: Checked | undefined;
    const known: Known = {};
    const seen: { json?: JsonObject } = {};
    let promotion: AuditPromotion | undefined;
    const finish: Finish = (decision, status, reason, answered = {}) => {
      const c = checked;
      if (decision === "forwarded" && !c?.audited) return;
      const target = c?.target;
      const path = c?.receivedPath ?? (req.url ?? "").split("?")[0]!.slice(0, 1024);
      emit(
        buildAuditRecord({
          now: now(),
          requestId: c?.requestId ?? known.requestId ?? randomUUID(),
          ...(known.caller ? { caller: known.caller } : {}),
          action: c?.action ?? "(refused before routing)",
          method: req.method ?? "",
          path,
          ...(c?.workspace !== undefined ? { workspace: c.workspace } : {}),
          resources: mergeResources(
            c && target ? requestResources(c.route, target.path, new URLSearchParams(target.rawQuery), seen.json) : {},
            answered,
          ),
          ...(promotion !== undefined ? { promotion } : {}),
          status,
          decision,
          ...(reason !== undefined ? { reason } : {}),
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        }),
      );
    };
    const answer = (reason: string, a: GuardAnswer) => {
      if (!res.headersSent) {
        // The client may still be sending: read what is left (within a bound), then close.
        res.setHeader("connection", "close");
        sendAnswer(res, a, reason);
        void discardBody(req, MAX_DISCARDED_BYTES);
      } else res.destroy();
      finish("refused", a.status, reason);
    };
    void (async () => {
      try {
        checked = check(req, known);
        const prepared = await prepareBody(req, checked, seen, (release) => res.once("close", release));
        if (prepared.json) seen.json = prepared.json;
        if (checked.route && checked.caller) {
          const problem = checkArtifactBody(checked.route.path, prepared.json, workspaceOf(checked.workspace));
          if (problem) refuse(problem);
        }
        if (checked.route && checked.caller && isPromotionDecided(checked.route.action)) {
          // Held until the answer is sent: the decision and MLflow's write are one step for this model.
          const release = await modelLock.acquire(modelNamesOf(prepared.json));
          if (res.closed) release();
          else res.once("close", release);
          const action = checked.route.action;
          // A promotion's audit line says what was asked, and what the decision read of the version (its stage before).
          let facts: VersionFacts | undefined;
          // A team's rules read the version in the team's workspace.
          const read =
            checked.workspace === undefined ? registry : registryLookup(props.upstream, agent, checked.workspace);
          const lookup: RegistryLookup = {
            version: async (n, v) => (facts = await read.version(n, v)),
            model: (n) => read.model(n),
          };
          if (isPromotionAction(action)) promotion = auditPromotion(action, prepared.json, undefined);
          else if (isRegistryChangeAction(action)) promotion = auditRegistryChange(action, undefined);
          const verdict = await checkPromotion(
            props.promotion,
            checked.route,
            checked.caller,
            prepared.json ?? {},
            lookup,
            checked.workspace,
          );
          const message = verdict.ok ? undefined : verdict.message;
          if (isPromotionAction(action)) promotion = auditPromotion(action, prepared.json, facts, message);
          else if (isRegistryChangeAction(action)) promotion = auditRegistryChange(action, facts, message);
          if (!verdict.ok)
            refuse(verdict.reason, {
              status: verdict.status,
              errorCode: PROMOTION_ERROR_CODES[verdict.status],
              message: verdict.message,
            });
        }
        forward(req, res, checked, prepared.body, finish);
      } catch (e) {
        if (e instanceof Refusal) answer(e.reason, e.answer);
        else answer("guard-error", REFUSALS["guard-error"]!);
      }
    })();
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    c: Checked,
    body: Buffer | undefined,
    finish: Finish,
  ): void {
    const tokens = connectionTokens(req.headers.connection);
    const headers: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const lower = (req.rawHeaders[i] as string).toLowerCase();
      if (isHopByHopRequestHeader(lower, tokens) || isGuardOnlyHeader(lower) || isClientAddressHeader(lower)) continue;
      if (lower === "cookie") {
        const kept = stripRequestHeaderCookies(req.rawHeaders[i + 1] as string);
        if (kept !== undefined) headers.push(req.rawHeaders[i] as string, kept);
        continue;
      }
      headers.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    }
    // MLflow picks the workspace from this header alone: the team's, set here and nowhere else (a client's
    // copy, in any letter case, was refused).
    if (c.workspace !== undefined) headers.push(MLFLOW_WORKSPACE_HEADER, c.workspace);
    // The one address header MLflow gets: uvicorn believes it from the guard's loopback connection, and MLflow
    // opens its localhost-only routes (the Assistant's) to a loopback client.
    headers.push("host", props.upstream.host, "x-forwarded-for", c.forwardedFor);
    if (body !== undefined) headers.push("content-length", String(body.length));
    else if (req.headers["content-length"] !== undefined) headers.push("content-length", req.headers["content-length"]);
    else if (req.headers["transfer-encoding"] !== undefined) headers.push("transfer-encoding", "chunked");

    let settled = false;
    let retried = false;
    const done = (status: number, reason?: string, answered?: AuditResources) => {
      if (settled) return;
      settled = true;
      finish("forwarded", status, reason, answered);
    };
    const send = (): ClientRequest =>
      httpRequest(
        {
          host: props.upstream.hostname,
          port: props.upstream.port,
          method: req.method,
          path: c.target.rawQuery === "" ? c.target.rawPath : `${c.target.rawPath}?${c.target.rawQuery}`,
          headers: headers as unknown as Record<string, string>,
          agent,
        },
        (up) => {
          const status = up.statusCode ?? 502;
          if (c.listOnly !== undefined && status === 200) {
            answerWorkspaceList(up, res, c.listOnly, done);
            return;
          }
          const out: string[] = [];
          for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
            if (HOP_BY_HOP_HEADERS.has((up.rawHeaders[i] as string).toLowerCase())) continue;
            out.push(up.rawHeaders[i] as string, up.rawHeaders[i + 1] as string);
          }
          if (status >= 400 && req.method !== "HEAD" && isCheckedError(up)) {
            answerError(up, res, status, out, done);
            return;
          }
          res.writeHead(status, out);
          // The ids MLflow assigned come from its JSON answer to an audited request, if it is small.
          const collect = c.audited && /^application\/json\b/i.test(up.headers["content-type"] ?? "");
          const chunks: Buffer[] = [];
          let size = 0;
          if (collect) {
            up.on("data", (chunk: Buffer) => {
              size += chunk.length;
              if (size <= MAX_AUDITED_RESPONSE_BYTES) chunks.push(chunk);
            });
          }
          up.pipe(res);
          up.on("end", () => {
            let answered: AuditResources = {};
            if (collect && size <= MAX_AUDITED_RESPONSE_BYTES && status < 300) {
              try {
                answered = responseResources(JSON.parse(Buffer.concat(chunks).toString("utf8")));
              } catch {
                // Not JSON after all: the request's own ids stand.
              }
            }
            done(status, undefined, answered);
          });
          up.on("error", () => {
            res.destroy();
            done(status, "upstream-cut-off");
          });
          up.on("aborted", () => {
            res.destroy();
            done(status, "upstream-cut-off");
          });
        },
      );
    let upstreamReq = send();
    const onError = (e: NodeJS.ErrnoException) => {
      if (settled) return;
      // A kept-alive connection MLflow closed as this request went out: MLflow never read it, and a body
      // the guard holds can go once more on a new connection. Anything else is a 502.
      if (e.code === "ECONNRESET" && upstreamReq.reusedSocket && !res.headersSent && !retried && body !== undefined) {
        retried = true;
        upstreamReq = send();
        upstreamReq.on("error", onError);
        upstreamReq.end(body);
        return;
      }
      if (!res.headersSent) sendAnswer(res, REFUSALS["upstream-unreachable"]!, "upstream-unreachable");
      else res.destroy();
      done(502, `upstream-${e.code ?? "error"}`);
    };
    upstreamReq.on("error", onError);
    res.on("close", () => {
      if (!res.writableFinished) {
        upstreamReq.destroy();
        done(499, "client-closed");
      }
    });
    if (body !== undefined) upstreamReq.end(body);
    else req.pipe(upstreamReq);
  }

  /**
   * MLflow's error answer read whole (it is small) and sent without the database's own words
   * (guard/database-errors.ts); any other error answer goes out as it came.
   */
  function answerError(
    up: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: readonly string[],
    done: (status: number, reason?: string) => void,
  ): void {
    readBody(up, MAX_ERROR_ANSWER_BYTES)
      .then((body) => {
        if (body === undefined) {
          // Larger than MLflow's error answers are: not passed on unread.
          up.destroy();
          sendAnswer(res, REFUSALS["error-answer-unreadable"]!, "error-answer-unreadable");
          return done(502, "error-answer-unreadable");
        }
        const redacted = withoutDatabaseDetails(body.toString("utf8"));
        const sent = redacted !== undefined ? Buffer.from(redacted) : body;
        const kept: string[] = [];
        for (let i = 0; i + 1 < headers.length; i += 2)
          if (!/^(content-length|transfer-encoding)$/i.test(headers[i] as string))
            kept.push(headers[i] as string, headers[i + 1] as string);
        res.writeHead(status, [...kept, "content-length", String(sent.length)]);
        res.end(sent);
        done(status, redacted !== undefined ? "database-details-withheld" : undefined);
      })
      .catch(() => {
        res.destroy();
        done(status, "upstream-cut-off");
      });
  }

  /**
   * ListWorkspaces for a caller who does not reach all: MLflow's answer read whole (it is small) and sent
   * with only the workspaces the caller's groups reach. One that cannot be read is a 502, never passed on.
   */
  function answerWorkspaceList(
    up: IncomingMessage,
    res: ServerResponse,
    reached: ReadonlySet<string>,
    done: (status: number, reason?: string) => void,
  ): void {
    const fail = () => {
      if (!res.headersSent) sendAnswer(res, REFUSALS["workspace-list-unreadable"]!, "workspace-list-unreadable");
      else res.destroy();
      done(502, "workspace-list-unreadable");
    };
    if (up.headers["content-encoding"] !== undefined) {
      up.resume();
      return fail();
    }
    readBody(up, MAX_AUDITED_RESPONSE_BYTES)
      .then((body) => {
        if (body === undefined) {
          up.destroy();
          return fail();
        }
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          return fail();
        }
        const kept = filterWorkspaceList(json, reached);
        if (kept === undefined) return fail();
        const text = JSON.stringify(kept);
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
        res.end(text);
        done(200);
      })
      .catch(() => {
        res.destroy();
        done(502, "upstream-cut-off");
      });
  }

  return { handle, close: () => agent.destroy() };
}

/** The guard as a server of its own (the container's, and the local stack's child process). */
export function createGuardServer(props: GuardProps): Server {
  const guard = createGuard(props);
  // A request must have arrived whole within a minute: API Gateway sends what it has read in full (10 MB at
  // most) and gives up after 29 s, so only a client that is not API Gateway is slower, and a body it trickles
  // would hold the guard's budget. MLflow's answer takes as long as it takes (no timeout on the response).
  const server = createServer(
    { requestTimeout: props.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    guard.handle,
  );
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on("close", () => guard.close());
  trackResponses(server);
  return server;
}

/** A request has a body when it says so: a length above 0, or chunked framing. */
function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
}
