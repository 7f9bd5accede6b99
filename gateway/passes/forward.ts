import { Agent, ClientRequest, IncomingMessage, request as httpRequest, ServerResponse } from "http";
import { API_GATEWAY, CREDENTIAL_HEADERS } from "../../authorizer/core/contract";
import { connectionTokens, HOP_BY_HOP_HEADERS, isHopByHopRequestHeader } from "../../common/hop-by-hop";
import { HttpProxyIntegration, integrationRequestPath } from "../api-model";
import { ANSWERS, GatewayAnswer } from "../api-responses";
import { Refusal } from "../answer";
import { mappedHeaders, RequestContext, sourceIpOf } from "../integration-request";
import { Identity } from "./authorization";
import { Target } from "./target";

/** How long an idle keep-alive connection to MLflow is kept: under uvicorn's 5 s keep-alive timeout. */
export const UPSTREAM_IDLE_MS = 4000;

/** What all buffered answers held at once may add up to: past it, they are sent as they arrive (a host limit). */
export const MAX_HELD_BYTES = 256 * 1024 * 1024;

/** A streamed answer's limits on a regional API: 5 minutes without a byte, 15 minutes in all. */
export const STREAM_IDLE_MS = 5 * 60_000;
export const STREAM_MAX_MS = 15 * 60_000;

/** Logged when the client closes the connection before any answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

export interface ForwarderProps {
  /** What MLflow answers held at once may add up to before they stream; @default MAX_HELD_BYTES */
  readonly maxHeldBytes?: number;
  /** Idle keep-alive connections to MLflow close after this; below MLflow's own keep-alive timeout. @default UPSTREAM_IDLE_MS */
  readonly upstreamIdleMs?: number;
}

/** An authorized request, as the integration receives it. */
export interface ForwardedRequest {
  readonly target: Target;
  /** The method's integration, from the API definition. */
  readonly integration: HttpProxyIntegration;
  /** The request's path parameters, decoded. */
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Who API Gateway authorized; undefined on a public route. */
  readonly identity: Identity | undefined;
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
 * spelled (but Authorization, which it spells canonically); the method's header mappings from the API
 * definition (the contract's identity headers, and `'-'` over Authorization and X-Amz-Security-Token)
 * replace a client header of exactly the same name only, since API Gateway matches header names
 * case-sensitively (its documented known issue); then the host, the body's length and the client's address. A client's `X-Mlflow-Gate-Groups` therefore reaches the integration beside the
 * mapped one, and the guard refuses it.
 *
 * The address headers, as far as anyone has seen them (docs/api-gateway-fidelity.md): the client's
 * X-Forwarded-For goes on with the client's address appended (`<client's>, <address>`), or the address
 * alone; a client's X-Forwarded-Proto and X-Forwarded-Port go on as sent, and without them the emulator
 * sets its own. Nothing here protects MLflow: the guard drops them all and sets X-Forwarded-For itself.
 */
export function buildUpstreamHeaders(
  req: Pick<IncomingMessage, "method" | "headers" | "rawHeaders" | "socket">,
  upstream: Pick<URL, "host">,
  request: ForwardedRequest,
): [string, string][] {
  const tokens = connectionTokens(req.headers.connection);
  const mapped = integrationMappings(req, request);
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

/**
 * The method's header mappings, with this request's values: a `context` variable without a value maps no
 * header (the guard then refuses the request).
 */
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
  return mappedHeaders(request.integration.headers, context, request.pathParameters);
}

const gatewayAnswer = (answer: GatewayAnswer, reason: string): Refusal => ({ answer, decision: "error", reason });

/**
 * The HTTP proxy integration to MLflow, as the API definition declares it per method. A kept-alive connection
 * pool whose idle connections close before MLflow closes them, and no resend (API Gateway sends none).
 * - Buffered (the default transfer mode): the answer is held until it has all arrived, within the integration
 *   timeout for all of it; one over the 10 MB payload limit, or cut off, is a 502 and nothing of it is sent.
 *   Past what all held answers may add up to (a limit of this host), an answer goes out as it arrives.
 * - `STREAM`: the answer goes out as it arrives; the timeout covers its first byte, then a stream ends after
 *   5 minutes without a byte or 15 minutes in all, and a cut can only end the connection.
 * A client that leaves cancels MLflow's side.
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
    const { target, body, requestId, extendedRequestId, integration } = request;
    const upstream = new URL(integration.origin);
    const headers = buildUpstreamHeaders(req, upstream, request);
    const path = integrationRequestPath(integration, request.pathParameters);

    return new Promise((resolve) => {
      let settled = false;
      let responseStatus: number | undefined;
      const timers: NodeJS.Timeout[] = [];
      const settle = (r: ForwardOutcome) => {
        if (!settled) {
          settled = true;
          for (const t of timers) clearTimeout(t);
          resolve(r);
        }
      };
      const fail = (answer: GatewayAnswer, reason: string) => {
        upstreamReq.destroy();
        settle(gatewayAnswer(answer, reason));
      };
      const upstreamReq: ClientRequest = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: target.rawQuery === "" ? path : `${path}?${target.rawQuery}`,
          headers: headers.flat() as unknown as Record<string, string>,
          agent: upstreamAgent,
        },
        (upstreamRes) => {
          const out: string[] = [];
          for (let i = 0; i + 1 < upstreamRes.rawHeaders.length; i += 2) {
            const name = upstreamRes.rawHeaders[i] as string;
            if (!HOP_BY_HOP_HEADERS.has(name.toLowerCase())) out.push(name, upstreamRes.rawHeaders[i + 1] as string);
          }
          out.push("x-amzn-RequestId", requestId, "x-amz-apigw-id", extendedRequestId);
          const status = upstreamRes.statusCode ?? 502;
          responseStatus = status;
          const held: Buffer[] = [];
          let heldBytes = 0;
          let streaming = false;
          const release = () => {
            heldEverywhere -= heldBytes;
            heldBytes = 0;
          };
          const startStreaming = () => {
            streaming = true;
            upstreamRes.off("data", hold);
            res.writeHead(status, out);
            for (const c of held.splice(0)) res.write(c);
            upstreamRes.pipe(res);
          };
          const hold = (chunk: Buffer) => {
            if (res.destroyed) return void (release(), upstreamReq.destroy());
            held.push(chunk);
            heldBytes += chunk.length;
            heldEverywhere += chunk.length;
            // A buffered answer over the payload limit fails as a whole, as API Gateway fails it.
            if (heldBytes > API_GATEWAY.maxPayloadBytes) {
              release();
              return fail(ANSWERS.integrationFailure, "buffered-response-too-large");
            }
            if (heldEverywhere <= maxHeldBytes) return;
            // Past this host's budget the answer goes out as it arrives; past the payload limit it is cut off.
            let total = heldBytes;
            release();
            startStreaming();
            upstreamRes.on("data", (more: Buffer) => {
              total += more.length;
              if (total > API_GATEWAY.maxPayloadBytes) upstreamReq.destroy();
            });
          };
          const cutOff = () => {
            release();
            if (settled) return;
            if (streaming || res.headersSent) return void res.destroy();
            settle(gatewayAnswer(ANSWERS.badResponse, "upstream-cut-off"));
          };
          upstreamRes.on("error", cutOff);
          upstreamRes.on("aborted", cutOff);
          upstreamRes.on("close", release);
          if (integration.stream) {
            // The integration timeout covered the first byte; now the stream's own limits hold.
            for (const t of timers.splice(0)) clearTimeout(t);
            upstreamReq.setTimeout(STREAM_IDLE_MS, () => upstreamReq.destroy());
            timers.push(setTimeout(() => upstreamReq.destroy(), STREAM_MAX_MS));
            startStreaming();
            return;
          }
          upstreamRes.on("data", hold);
          upstreamRes.on("end", () => {
            release();
            if (streaming || res.headersSent || settled) return;
            res.writeHead(status, out);
            res.end(Buffer.concat(held));
          });
        },
      );
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
      // The integration timeout covers a buffered answer until its last byte, a streamed one until its first.
      timers.push(
        setTimeout(() => {
          if (res.headersSent) return void upstreamReq.destroy();
          fail(ANSWERS.timeout, "integration-timeout");
        }, integration.timeoutMs),
      );
      // No resend, as API Gateway sends none: a connection the upstream resets is a 502. What keeps that from
      // happening is the order of idle timeouts (this agent's below the upstream's keep-alive).
      upstreamReq.on("error", (e: NodeJS.ErrnoException) => {
        if (settled) return;
        if (res.headersSent) return void res.destroy();
        settle(gatewayAnswer(ANSWERS.mlflowDown, `upstream-${e.code ?? "error"}`));
      });
      upstreamReq.end(body);
    });
  }

  return { forward, close: () => upstreamAgent.destroy() };
}
