import { randomUUID } from "crypto";
import { IncomingMessage, ServerResponse } from "http";
import { ANSWERS } from "../gateway/api-responses";
import { AccessLogEntry, createRequestEnd } from "../gateway/answer";
import { readTarget } from "../gateway/passes/target";
import { Gateway } from "../gateway/server";
import { isUiPath, resolveUiFile, sendUiFile } from "./ui-files";

export interface UiFrontProps {
  /** The emulator: every request that is not for the UI goes to it. */
  readonly gateway: Gateway;
  /** A patched UI built before (ui-patch/build-ui.ts), read only; its config is the API's (the definition's MOCK). */
  readonly uiDirectory: string;
  /** The gateway's access log: UI requests get a line too (decision "public"). */
  readonly log: (entry: AccessLogEntry) => void;
}

/**
 * The local stack's front: `GET /` and `/static-files/*` come from the patched UI's directory, as Amplify
 * Hosting serves them in AWS (a missing file is a 404, never a request to MLflow); every other request,
 * `/mlflow-gate-ui.json` included (the API definition's MOCK answers it, as Amplify proxies it to the API),
 * goes to the gateway. Serve it
 * with serveGateway (gateway/server.ts).
 */
export function createUiFront(props: UiFrontProps): Gateway {
  const endRequest = createRequestEnd(props.log);

  async function serveUi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const clock = { requestId: randomUUID(), started: performance.now() };
    const facts = { requestId: clock.requestId, method: "GET", path, surface: "none" as const };
    try {
      const file = resolveUiFile(props.uiDirectory, path);
      if (!file) return endRequest(res, clock, facts, { answer: ANSWERS.notFound, decision: "public" });
      const status = await sendUiFile(res, file, clock.requestId);
      endRequest(res, clock, facts, { status, decision: "public" });
    } catch (e) {
      // Fail closed, as the gateway does: a 403 and an error line, never a stack trace.
      const reason = `gateway-error:${(e as Error)?.name ?? "unknown"}`;
      endRequest(res, clock, facts, { answer: ANSWERS.accessDenied, decision: "error", reason });
    }
  }

  return {
    handle(req, res) {
      // A target the gateway would refuse goes to the gateway, which refuses it.
      const target = req.method === "GET" ? readTarget(req.url) : undefined;
      if (target && isUiPath(target.path)) return serveUi(req, res, target.path);
      return props.gateway.handle(req, res);
    },
    close: () => props.gateway.close(),
  };
}
