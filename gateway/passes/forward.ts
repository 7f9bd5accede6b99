import { Agent, ClientRequest, IncomingMessage, request as httpRequest, ServerResponse } from "http";
import type { AuthType } from "../../authorizer/core/catalog";
import { API_GATEWAY, CREDENTIAL_HEADERS, CREDENTIAL_OVERWRITE } from "../../authorizer/core/contract";
import type { Surface } from "../../authorizer/core/policy-set";
import { connectionTokens, HOP_BY_HOP_HEADERS, isHopByHopRequestHeader } from "../../common/hop-by-hop";
import { ANSWERS, GatewayAnswer } from "../api-responses";
import { Refusal } from "../answer";
import { mappedIdentityHeaders, RequestContext, sourceIpOf } from "../integration-request";
import { Identity } from "./authorization";
import { integrationPath, Target } from "./target";

/** How long an idle keep-alive connection to MLflow is kept: under uvicorn's 5 s keep-alive timeout. */
export const UPSTREAM_IDLE_MS = 4000;

/** What all answers held at once may add up to: past it, answers stream instead (as larger ones always do). */
export const MAX_HELD_BYTES = 256 * 1024 * 1024;

/** Logged when the client closes the connection before any answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

export interface ForwarderProps {
  /** MLflow's private address. */
  readonly upstream: URL;
  /** API Gateway's integration timeout: the wait for the response to begin. */
  readonly integrationTimeoutMs: number;
  /** What MLflow answers held at once may add up to before they stream; @default MAX_HELD_BYTES */
  readonly maxHeldBytes?: number;
  /** Idle keep-alive connections to MLflow close after this; below MLflow's own keep-alive timeout. @default UPSTREAM_IDLE_MS */
  readonly upstreamIdleMs?: number;
}

/** An authorized request, as the integration receives it. */
export interface ForwardedRequest {
  readonly target: Target;
  readonly body: Buffer;
  /** Who API Gateway authorized; undefined on a public route. */
  readonly identity: Identity | undefined;
  readonly surface: AuthType;
  /** `context.requestId` (x-amzn-RequestId). */
  readonly requestId: string;
  /** `context.extendedRequestId` (x-amz-apigw-id): the one a client cannot set. */
  readonly extendedRequestId: string;
}

/**
 * How the integration ended: MLflow's answer went out (or was cut off, or its client left) with this
 * status, or the gateway answers instead (MLflow down, too slow, or cut off before anything was sent).
 */
export type ForwardOutcome = { readonly status: number; readonly reason?: string } | Refusal;

/**
 * The one header API Gateway (with CloudFront in front) renames to its canonical spelling, whatever the
 * client wrote: `Authorization` (LocalStack's AWS-validated snapshots, localstack#10500; aws-sdk-android#1996).
 */
const canonicalName = (name: string): string =>
  name.toLowerCase() === "authorization" ? CREDENTIAL_HEADERS.authorization : name;

/** The protocol a client reaches the emulator by (a deployed API is reached over HTTPS only). */
const CLIENT_PROTOCOL = "http";

/**
 * The headers the integration receives, as API Gateway builds them: the client's end-to-end headers as
 * spelled (but Authorization, which it spells canonically); on an authenticated route, the API
 * definition's mappings (the contract's identity headers, and `'-'` over Authorization and
 * X-Amz-Security-Token) replace a client header of exactly the same name only, since API Gateway matches
 * header names case-sensitively (its documented known issue); then the host, the body's length and the
 * client's address. A client's `X-Mlflow-Gate-Groups` therefore reaches the integration beside the
 * mapped one, and the guard refuses it.
 *
 * The address headers, as far as anyone has seen them (docs/api-gateway-fidelity.md): the client's
 * X-Forwarded-For goes on with the client's address appended (`<client's>, <address>`), or the address
 * alone; a client's X-Forwarded-Proto and X-Forwarded-Port go on as sent, and without them the emulator
 * sets its own. Nothing here protects MLflow: the guard drops them all and sets X-Forwarded-For itself.
 */
export function buildUpstreamHeaders(
  req: Pick<IncomingMessage, "method" | "headers" | "rawHeaders" | "socket">,
  upstream: URL,
  request: ForwardedRequest,
): [string, string][] {
  const tokens = connectionTokens(req.headers.connection);
  const mapped = request.surface === "none" ? [] : integrationMappings(req, request);
  const replaced = new Set(mapped.map(([name]) => name));
  const headers: [string, string][] = [];
  const forwardedFor: string[] = [];
  let clientProto = false;
  let clientPort = false;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = canonicalName(req.rawHeaders[i] as string);
    const value = req.rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (isHopByHopRequestHeader(lower, tokens) || replaced.has(name)) continue;
    if (lower === "x-forwarded-for") {
      if (value.trim() !== "") forwardedFor.push(value.trim());
      continue;
    }
    clientProto ||= lower === "x-forwarded-proto";
    clientPort ||= lower === "x-forwarded-port";
    headers.push([name, value]);
  }
  const source = sourceIpOf(req.socket);
  if (source !== undefined) forwardedFor.push(source);
  headers.push(["host", upstream.host], ["content-length", String(request.body.length)]);
  if (forwardedFor.length > 0) headers.push(["x-forwarded-for", forwardedFor.join(", ")]);
  if (!clientProto) headers.push(["x-forwarded-proto", CLIENT_PROTOCOL]);
  if (!clientPort && req.socket.localPort !== undefined)
    headers.push(["x-forwarded-port", String(req.socket.localPort)]);
  headers.push(...mapped);
  return headers;
}

/** The header mappings of an authenticated route's integration request, with this request's values. */
function integrationMappings(
  req: Pick<IncomingMessage, "method" | "socket">,
  request: ForwardedRequest,
): [string, string][] {
  const identity = request.identity;
  const context: RequestContext = {
    requestId: request.requestId,
    extendedRequestId: request.extendedRequestId,
    httpMethod: req.method ?? "",
    path: request.target.rawPath,
    identity: { userArn: identity?.arn, sourceIp: sourceIpOf(req.socket) },
    ...(identity
      ? {
          authorizer: {
            principalId: identity.principal,
            username: identity.username,
            groups: identity.groups.join(","),
          },
        }
      : {}),
  };
  return [
    ...mappedIdentityHeaders(request.surface as Surface, context),
    [CREDENTIAL_HEADERS.authorization, CREDENTIAL_OVERWRITE],
    [CREDENTIAL_HEADERS.securityToken, CREDENTIAL_OVERWRITE],
  ];
}

const gatewayAnswer = (answer: GatewayAnswer, reason: string): Refusal => ({ answer, decision: "error", reason });

/**
 * The HTTP proxy integration to MLflow. A kept-alive connection pool whose idle connections close before
 * MLflow closes them, and no resend (API Gateway sends none); API Gateway's integration
 * timeout until the response begins. Answers are held (API Gateway buffers them: a cut is a 502, not a
 * broken connection) up to the payload limit and a gateway-wide budget, past either they stream. A
 * client that leaves cancels MLflow's side.
 */
export function createForwarder(props: ForwarderProps): {
  forward(req: IncomingMessage, res: ServerResponse, request: ForwardedRequest): Promise<ForwardOutcome>;
  close(): void;
} {
  // Idle connections to MLflow are dropped before MLflow drops them (uvicorn closes them after 5 s): a
  // request sent on a connection the server is closing at that moment fails with ECONNRESET (a 502).
  const upstreamAgent = new Agent({ keepAlive: true, timeout: props.upstreamIdleMs ?? UPSTREAM_IDLE_MS });
  const maxHeldBytes = props.maxHeldBytes ?? MAX_HELD_BYTES;
  /** Bytes of MLflow answers held across all requests. */
  let heldEverywhere = 0;

  function forward(req: IncomingMessage, res: ServerResponse, request: ForwardedRequest): Promise<ForwardOutcome> {
    const { target, body, requestId, extendedRequestId } = request;
    const headers = buildUpstreamHeaders(req, props.upstream, request);

    return new Promise((resolve) => {
      let settled = false;
      let responseStatus: number | undefined;
      const settle = (r: ForwardOutcome) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(r);
        }
      };
      const send = (): ClientRequest =>
        httpRequest(
          {
            host: props.upstream.hostname,
            port: props.upstream.port,
            method: req.method,
            path: target.rawQuery === "" ? integrationPath(target) : `${integrationPath(target)}?${target.rawQuery}`,
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
            out.push("x-amzn-RequestId", requestId, "x-amz-apigw-id", extendedRequestId);
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
              if (heldBytes <= API_GATEWAY.maxPayloadBytes && heldEverywhere <= maxHeldBytes) return;
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
              settle(gatewayAnswer(ANSWERS.badResponse, "upstream-cut-off"));
            };
            upstreamRes.on("error", cutOff);
            upstreamRes.on("aborted", cutOff);
            responseStatus = status;
          },
        );
      const upstreamReq = send();
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
        settle(gatewayAnswer(ANSWERS.timeout, "integration-timeout"));
      }, props.integrationTimeoutMs);
      // No resend, as API Gateway sends none: a connection the upstream resets is a 502. What keeps that from
      // happening is the order of idle timeouts (this agent's below the upstream's keep-alive).
      upstreamReq.on("error", (e: NodeJS.ErrnoException) => {
        if (settled) return;
        settle(gatewayAnswer(ANSWERS.mlflowDown, `upstream-${e.code ?? "error"}`));
      });
      upstreamReq.end(body);
    });
  }

  return { forward, close: () => upstreamAgent.destroy() };
}
