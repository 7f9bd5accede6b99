import { randomBytes } from "crypto";
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { readBody } from "../common/http-body";
import { closeServer, trackResponses } from "../common/http-server";
import { logLine, LogSink } from "../common/log";
import { verifySigV4 } from "../gateway/sigv4";
import { decideFrontRequest, loopbackHosts, MAX_POOL_REQUEST_BYTES, PoolRefusal, poolActionOf } from "./pool-access";
import { ChallengeSessions, passwordMatches } from "./pool-challenges";
import {
  callPool,
  endToEndHeaders,
  forwardToPool,
  PoolHop,
  sendPoolError,
  USER_POOL_TIMEOUT_MS,
  USER_POOL_UNAVAILABLE,
  withoutCors,
} from "./pool-http";

/** The stack's key for the pool's administrator actions: SigV4 credentials that only stack.json (0600) holds. */
export interface PoolKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A new key for one run of the stack. */
export function generatePoolKey(): PoolKey {
  return {
    accessKeyId: `LOCALPOOL${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
}

export interface UserPoolFrontProps {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Where cognito-local listens: a Unix socket in the pool's state directory, which no web page can reach. */
  readonly socketPath: string;
  /** The region SigV4 scopes must name. */
  readonly region: string;
  readonly key: PoolKey;
  /** @default USER_POOL_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /**
   * A user's stored password (cognito-local's state), to check a temporary password before its challenge
   * is answered; without it, every temporary-password sign-in is refused.
   */
  readonly passwordOf?: (username: string) => string | undefined;
  /** Each refusal, as a line (`component: "user-pool"`); never a secret, a token or a signature. */
  readonly log?: LogSink;
  readonly now?: () => Date;
}

export interface UserPoolFront {
  /** `http://host:port`: the pool's address for every client, and the domain of its tokens' issuer. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** What the front reads of a sign-in request. */
interface SignInRequest {
  readonly ClientId?: unknown;
  readonly AuthParameters?: { readonly USERNAME?: unknown; readonly PASSWORD?: unknown };
  readonly ChallengeName?: unknown;
  readonly Session?: unknown;
  readonly ChallengeResponses?: { readonly USERNAME?: unknown };
}

/** Cognito's answers to a wrong password and to a session it did not issue, or issued for someone else. */
const WRONG_PASSWORD: PoolRefusal = {
  status: 400,
  type: "NotAuthorizedException",
  reason: "wrong-password",
  message: "Incorrect username or password.",
};
const INVALID_SESSION: PoolRefusal = {
  status: 400,
  type: "NotAuthorizedException",
  reason: "invalid-session",
  message: "Invalid session for the user, session is expired.",
};

/** An answer read whole from cognito-local, sent on with its own length and without its CORS or framing headers. */
function sendWhole(res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  const { "transfer-encoding": _te, connection: _c, "keep-alive": _ka, ...rest } = withoutCors(headers);
  res.writeHead(status, { ...rest, "content-length": body.length });
  res.end(body);
}

/** A refusal of an administrator action that is not signed by the pool key, in Cognito's words. */
function signatureRefusal(reason: string): PoolRefusal {
  if (reason === "missing-authorization")
    return {
      status: 400,
      type: "MissingAuthenticationTokenException",
      reason,
      message: "Missing Authentication Token: administrator actions must be signed with the pool key in stack.json.",
    };
  if (reason === "unknown-key")
    return {
      status: 400,
      type: "UnrecognizedClientException",
      reason,
      message: "The security token included in the request is invalid.",
    };
  return {
    status: 400,
    type: "InvalidSignatureException",
    reason,
    message: "The request signature we calculated does not match the signature you provided.",
  };
}

/**
 * The local user pool's only TCP address: a loopback proxy in front of cognito-local, which listens on a
 * Unix socket. cognito-local answers every action without credentials and with `Access-Control-Allow-Origin: *`;
 * this front refuses what Cognito would refuse, and every web page (decideFrontRequest): administrator
 * actions need SigV4 with the stack's pool key, as Cognito's need IAM credentials.
 */
export async function startUserPoolFront(props: UserPoolFrontProps): Promise<UserPoolFront> {
  const now = props.now ?? (() => new Date());
  const credentials = {
    find: (accessKeyId: string) =>
      accessKeyId === props.key.accessKeyId
        ? { ...props.key, principal: "pool-admin", arn: "local:pool-admin" }
        : undefined,
  };
  let hosts: ReadonlySet<string> = new Set();
  const sessions = new ChallengeSessions(props.now !== undefined ? () => props.now!().getTime() : Date.now);

  const refuse = (req: IncomingMessage, res: ServerResponse, refusal: PoolRefusal) => {
    props.log?.(
      logLine(
        "user-pool",
        "refused",
        {
          method: req.method,
          // The path only: a query may hold a presigned signature.
          path: (req.url ?? "").split("?")[0]!.slice(0, 200),
          action: poolActionOf(req.headers["x-amz-target"]),
          status: refusal.status,
          reason: refusal.reason,
        },
        "warn",
      ),
    );
    sendPoolError(res, refusal, undefined, true);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const decision = decideFrontRequest(
      {
        method: req.method ?? "",
        path,
        query,
        host: req.headers.host,
        origin: req.headers.origin,
        target: req.headers["x-amz-target"],
      },
      hosts,
    );
    if (!decision.forward) return refuse(req, res, decision.refusal);
    const body = await readBody(req, MAX_POOL_REQUEST_BYTES);
    if (body === undefined)
      return refuse(req, res, {
        status: 413,
        type: "InvalidParameterException",
        reason: "payload-too-large",
        message: `request body over ${MAX_POOL_REQUEST_BYTES} bytes`,
      });
    if (decision.needsSignature) {
      const verified = verifySigV4(
        {
          method: req.method ?? "",
          rawPath: path,
          rawQuery: query,
          rawHeaders: req.rawHeaders,
          body,
        },
        credentials,
        { region: props.region, service: "cognito-idp", now },
      );
      if (!verified.ok) return refuse(req, res, signatureRefusal(verified.reason));
    }
    const headers = { ...endToEndHeaders(req.headers), host: "localhost" };
    const action = poolActionOf(req.headers["x-amz-target"]);
    if (!decision.needsSignature && (action === "InitiateAuth" || action === "RespondToAuthChallenge"))
      return signIn(req, res, action, headers, body);
    forwardToPool(req, res, headers, body, hop);
  }

  const hop: PoolHop = {
    to: { socketPath: props.socketPath },
    timeoutMs: props.timeoutMs ?? USER_POOL_TIMEOUT_MS,
    answerHeaders: withoutCors,
    unavailable: (r) => sendPoolError(r, USER_POOL_UNAVAILABLE),
  };

  /**
   * Sign-in, where cognito-local is too trusting (pool-challenges.ts): a temporary password's challenge is
   * answered only after the front checked that password, with a session of the front's own, and a challenge
   * reply goes on only with such a session, once, for the user and client it was issued for.
   */
  async function signIn(
    req: IncomingMessage,
    res: ServerResponse,
    action: "InitiateAuth" | "RespondToAuthChallenge",
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<void> {
    let input: SignInRequest;
    try {
      input = JSON.parse(body.toString("utf8")) as SignInRequest;
      if (typeof input !== "object" || input === null) throw new Error("not an object");
    } catch {
      return refuse(req, res, {
        status: 400,
        type: "SerializationException",
        reason: "not-json",
        message: "The request body is not a JSON object.",
      });
    }
    if (action === "RespondToAuthChallenge") {
      const username = input.ChallengeResponses?.USERNAME;
      const upstream =
        input.ChallengeName === "NEW_PASSWORD_REQUIRED"
          ? sessions.take(input.Session, username, input.ClientId)
          : undefined;
      if (upstream === undefined) return refuse(req, res, INVALID_SESSION);
      const forwarded = Buffer.from(JSON.stringify({ ...input, Session: upstream }));
      return forwardToPool(req, res, headers, forwarded, hop);
    }
    const answer = await callPool(hop.to, "POST", "/", headers, body, hop.timeoutMs);
    if (answer === undefined) return sendPoolError(res, USER_POOL_UNAVAILABLE);
    let result: { ChallengeName?: unknown; Session?: unknown } | undefined;
    try {
      result = answer.status === 200 ? (JSON.parse(answer.body.toString("utf8")) as typeof result) : undefined;
    } catch {
      result = undefined;
    }
    if (result?.ChallengeName === undefined) return sendWhole(res, answer.status, answer.headers, answer.body);
    const username = input.AuthParameters?.USERNAME;
    // cognito-local asks for a new password before it checks the old one: the front checks it.
    if (
      result.ChallengeName !== "NEW_PASSWORD_REQUIRED" ||
      typeof result.Session !== "string" ||
      typeof username !== "string" ||
      typeof input.ClientId !== "string" ||
      !passwordMatches(props.passwordOf?.(username), input.AuthParameters?.PASSWORD)
    )
      return refuse(req, res, WRONG_PASSWORD);
    const session = sessions.issue(username, input.ClientId, result.Session);
    sendWhole(res, 200, answer.headers, Buffer.from(JSON.stringify({ ...result, Session: session })));
  }

  // A request that fails while it is read has no one left to answer.
  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  server.requestTimeout = 30_000;
  trackResponses(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(props.port, props.host, () => resolve((server.address() as AddressInfo).port));
  });
  hosts = loopbackHosts(props.host, port);
  return { endpoint: `http://${props.host}:${port}`, stop: () => closeServer(server) };
}
