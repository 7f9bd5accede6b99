import { randomUUID } from "crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import type { Authorizer } from "../authorizer/authorize";
import type { ApiDefinition } from "../authorizer/core/api-definition";
import { API_GATEWAY } from "../authorizer/core/contract";
import { MethodArnStage } from "../authorizer/core/method-arn";
import { PolicySet } from "../authorizer/core/policy-set";
import { trackResponses } from "../common/http-server";
import { compileApiModel } from "./api-model";
import { ANSWERS } from "./api-responses";
import { AccessLogEntry, Answered, createRequestEnd, Refusal, RequestClock, RequestFacts } from "./answer";
import { AuthorizationResult, Identity, identityFacts } from "./passes/authorization";
import { createCognitoAuthorization } from "./passes/authorize-cognito";
import { watchAuthorizer } from "./passes/authorizer-invocations";
import { createIamAuthorization, createIamPrecheck } from "./passes/authorize-iam";
import { createBodyPass } from "./passes/body";
import { identitySourcePass } from "./passes/identity-source";
import { newExtendedRequestId } from "./integration-request";
import { createForwarder } from "./passes/forward";
import { answerMock } from "./passes/mock";
import { routePass } from "./passes/route";
import { targetPass } from "./passes/target";
import { CredentialStore } from "./sigv4";

export interface GatewayProps {
  readonly region: string;
  /**
   * The API the gateway runs: the definition CDK deploys, rendered with the local values
   * (gateway/local-api.ts). Its methods, security, authorizer, integrations and binary media types decide
   * what the gateway does; one it cannot interpret stops createGateway with an ApiDefinitionError.
   */
  readonly api: ApiDefinition;
  /** The catalog and group policies the authorizer and IAM decide by. */
  readonly policySet: PolicySet;
  /** The same module the Lambda runs (authorizer/authorize.ts), configured for the local pool. */
  readonly authorizer: Authorizer;
  readonly credentials: CredentialStore & { groupOf(principal: string): string | undefined };
  readonly log: (entry: AccessLogEntry) => void;
  readonly now?: () => Date;
  /** What MLflow answers held at once may add up to before they stream; @default MAX_HELD_BYTES (passes/forward.ts) */
  readonly maxHeldBytes?: number;
  /** Idle keep-alive connections to MLflow close after this; below MLflow's own keep-alive timeout. @default UPSTREAM_IDLE_MS (passes/forward.ts) */
  readonly upstreamIdleMs?: number;
  /** What request bodies held at once may add up to; past it, 429 (this host's limit, not AWS's). @default MAX_HELD_BODY_BYTES (passes/body.ts) */
  readonly maxHeldBodyBytes?: number;
}

/** The emulator as a request handler, for a server of its own (createGatewayServer) or behind a front. */
export interface Gateway {
  /** Answers one request and writes its access-log line; never rejects. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Closes the idle connections to MLflow. */
  close(): void;
}

/** The emulator's gateway, whose memory for request bodies can be read (by tests, for one). */
export interface EmulatorGateway extends Gateway {
  /** Bytes held for request bodies now, across all requests. */
  heldBodyBytes(): number;
}

/**
 * API Gateway over the API definition, as ordered passes: the target, the route (API Gateway's method),
 * the identity source the route's surface needs, then the authorization of the route's surface with the body
 * (within a budget for all requests) read where it needs it: Cognito, the Lambda authorizer and its result
 * cache, before the body; IAM, SigV4 over the body and the role's policies, after it. Then the method's
 * integration: the HTTP proxy to MLflow, or the MOCK (the login shell's config, which reads no body). Each
 * pass goes on with
 * what it learned or stops with API Gateway's answer; one writer sends that answer and the request's
 * access-log line, and closes the connection when the client is still sending a body nobody read.
 * Fails closed: an unexpected error is a 403, never a pass-through.
 */
export function createGateway(props: GatewayProps): EmulatorGateway {
  const now = props.now ?? (() => new Date());
  const api = compileApiModel(props.api);
  const locateRoute = (method: string, path: string) => props.policySet.locate(method, path).route;
  const stage: MethodArnStage = {
    partition: "aws",
    region: props.region,
    account: API_GATEWAY.account,
    apiId: API_GATEWAY.apiId,
    stage: API_GATEWAY.stage,
  };
  const authorizeIam = createIamAuthorization({
    region: props.region,
    policySet: props.policySet,
    credentials: props.credentials,
    stage,
    now,
  });
  const precheckIam = createIamPrecheck({ region: props.region, credentials: props.credentials, now });
  const watched = watchAuthorizer(props.authorizer);
  const authorizeCognito = createCognitoAuthorization({
    policySet: props.policySet,
    authorizer: watched.authorizer,
    cacheTtlMs: (api.authorizer?.ttlSeconds ?? 0) * 1000,
    ...(api.authorizer ? { identitySources: api.authorizer.identitySources } : {}),
    now: () => now().getTime(),
  });
  const forwarder = createForwarder({
    ...(props.maxHeldBytes !== undefined ? { maxHeldBytes: props.maxHeldBytes } : {}),
    ...(props.upstreamIdleMs !== undefined ? { upstreamIdleMs: props.upstreamIdleMs } : {}),
  });
  const bodyPass = createBodyPass(
    props.maxHeldBodyBytes !== undefined ? { maxHeldBodyBytes: props.maxHeldBodyBytes } : {},
  );
  const endRequest = createRequestEnd(props.log);

  /** The passes in order; `learn` adds what each finds out to the request's log line. */
  async function runPasses(
    req: IncomingMessage,
    res: ServerResponse,
    clock: Required<RequestClock>,
    learn: (facts: Partial<RequestFacts>) => void,
  ): Promise<Refusal | Answered> {
    const method = req.method ?? "";
    const target = targetPass(req.url);
    if ("stop" in target) {
      learn({ path: "(unreadable)" });
      return target.stop;
    }
    learn({ path: target.go.path });

    const routed = routePass(api, locateRoute, stage, method, target.go);
    if ("stop" in routed) return routed.stop;
    const { route, surface, method: apiMethod } = routed.go;
    learn({ surface, resourcePath: apiMethod.resourcePath, ...(route ? { action: route.action } : {}) });
    // A MOCK reaches nothing and reads no body (the API's one method without authorization).
    if (apiMethod.integration.kind === "mock" && surface === "none")
      return answerMock(req, res, clock, apiMethod.integration, api.binaryMediaTypes);

    // A request without the credentials its route needs is answered before its body is read, and so is a
    // SigV4 request whose signature could never verify (all but the body's hash and the signature checked).
    const missing = identitySourcePass(
      { req, target: target.go, resourcePath: apiMethod.resourcePath },
      surface,
      api.authorizer?.identitySources,
    );
    if (missing) return missing.stop;
    if (surface === "iam") {
      const early = precheckIam({ req, target: target.go });
      if (early) return early.stop;
    }

    // The authorizer of a UI route never sees the body: it decides before the body is read, so only a caller
    // it allows can make the gateway hold one. SigV4 signs the body: an SDK route's is read first.
    let identity: Identity | undefined;
    const authorized = (result: AuthorizationResult): Refusal | undefined => {
      const caller = "go" in result ? result.go : result.identity;
      if (caller) learn(identityFacts(caller));
      if ("stop" in result) return result.stop;
      identity = result.go;
      return undefined;
    };
    if (surface === "cognito") {
      const result = await authorizeCognito({ req, target: target.go, requestId: clock.requestId }, routed.go);
      const authorizer = watched.take(clock.requestId, result);
      if (authorizer) learn({ authorizer });
      const refused = authorized(result);
      if (refused) return refused;
    }

    // On a public route nobody was checked: what its body holds is only what it has sent.
    const body = await bodyPass.read(req, res, surface === "none" ? "arrived" : "declared");
    if ("stop" in body) return body.stop;

    if (surface === "iam") {
      const refused = authorized(authorizeIam({ req, target: target.go, body: body.go }, routed.go));
      if (refused) return refused;
    }

    if (apiMethod.integration.kind === "mock")
      return answerMock(req, res, clock, apiMethod.integration, api.binaryMediaTypes);
    const forwarded = await forwarder.forward(req, res, {
      target: target.go,
      integration: apiMethod.integration,
      pathParameters: routed.go.pathParameters,
      body: body.go,
      identity,
      requestId: clock.requestId,
      extendedRequestId: clock.extendedRequestId,
    });
    if ("answer" in forwarded) return forwarded;
    const decision = forwarded.reason !== undefined ? "error" : surface === "none" ? "public" : "allow";
    return { ...forwarded, decision };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clock = { requestId: randomUUID(), extendedRequestId: newExtendedRequestId(), started: performance.now() };
    let facts: RequestFacts = {
      requestId: clock.requestId,
      extendedRequestId: clock.extendedRequestId,
      method: req.method ?? "",
      path: "",
    };
    let end: Refusal | Answered;
    try {
      end = await runPasses(req, res, clock, (more) => void (facts = { ...facts, ...more }));
    } catch (e) {
      // Fail closed: an unexpected error is a 403, never a pass-through and never a stack trace.
      end = {
        answer: ANSWERS.accessDenied,
        decision: "error",
        reason: `gateway-error:${(e as Error)?.name ?? "unknown"}`,
      };
    }
    // Answered before the body arrived (or was read): the client may still be sending it, so the connection
    // closes after the answer rather than carry the rest of it.
    if ("answer" in end && !req.complete) end = { ...end, closeConnection: true };
    endRequest(res, clock, facts, end);
  }

  return { handle, close: () => forwarder.close(), heldBodyBytes: () => bodyPass.heldBytes() };
}

/**
 * A server for a request handler, set up as the emulator's own: a bounded request time, idle
 * connections to MLflow closed with it, and the drain of closeServer (common/http-server.ts).
 */
export function serveGateway(gateway: Gateway): Server {
  const server = createServer({ requestTimeout: 120_000 }, (req, res) => void gateway.handle(req, res));
  server.on("close", () => gateway.close());
  trackResponses(server);
  return server;
}

/** The emulator on a server of its own. */
export function createGatewayServer(props: GatewayProps): Server {
  return serveGateway(createGateway(props));
}
