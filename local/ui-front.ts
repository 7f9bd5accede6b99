import { randomUUID } from "crypto";
import { ServerResponse } from "http";
import { ANSWERS } from "../gateway/api-responses";
import { AccessLogEntry, createRequestEnd } from "../gateway/answer";
import { readTarget } from "../gateway/passes/target";
import { Gateway } from "../gateway/server";
import { resolveUiFile, sendUiFile, uiRouteOf, UiRoute } from "./ui-files";

export interface UiFrontProps {
  /** The emulator: every request that is not for the UI goes to it. */
  readonly gateway: Gateway;
  /** A patched UI built before (ui-patch/build-ui.ts), read only; its config is the API's (the definition's MOCK). */
  readonly uiDirectory: string;
  /** The gateway's access log: UI requests get a line too (decision "public"). */
  readonly log: (entry: AccessLogEntry) => void;
  /** With teams: the workspaces whose `/ws/<team>/` also serves the UI (the UI config's teams); @default none */
  readonly workspaces?: readonly string[];
}

/**
 * The local stack's front: `GET /` and `/static-files/*` come from the patched UI's directory, as Amplify
 * Hosting serves them in AWS (a missing file is a 404, never a request to MLflow); with teams, so do
 * `/ws/<team>/` and `/ws/<team>/static-files/*` (uiRouteOf); every other request,
 * `/mlflow-gate-ui.json` included (the API definition's MOCK answers it, as Amplify proxies it to the API),
 * goes to the gateway. Serve it
 * with serveGateway (gateway/server.ts).
 */
export function createUiFront(props: UiFrontProps): Gateway {
  const endRequest = createRequestEnd(props.log);

  async function serveUi(res: ServerResponse, path: string, route: UiRoute): Promise<void> {
    const clock = { requestId: randomUUID(), started: performance.now() };
    const facts = { requestId: clock.requestId, method: "GET", path, surface: "none" as const };
    try {
      if ("redirect" in route) {
        res.writeHead(301, { location: route.redirect, "content-length": 0, "x-amzn-requestid": clock.requestId });
        res.end();
        return endRequest(res, clock, facts, { status: 301, decision: "public" });
      }
      const file = resolveUiFile(props.uiDirectory, route.file);
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
      const route = target && uiRouteOf(target.path, props.workspaces);
      if (target && route) return serveUi(res, target.path, route);
      return props.gateway.handle(req, res);
    },
    close: () => props.gateway.close(),
  };
}
