import { createServer, IncomingHttpHeaders, OutgoingHttpHeaders, Server } from "http";
import { listenOnLoopback } from "./loopback";

/** A request as the upstream received it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** As sent to the upstream: names in their spelling, every copy. */
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

/** What the upstream answers, asked once per request (after its body arrived). */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
  /** Waits this long before answering. @default 0 */
  readonly delayMs?: number;
}

/**
 * An upstream on a free loopback port that stands for MLflow in the gateway's and the guard's unit tests
 * (the integration suites run real MLflow): it hands every request it reads to `record` and answers as
 * `answer` says.
 */
export async function startRecordingUpstream(
  record: (seen: SeenRequest) => void,
  answer: () => UpstreamAnswer,
): Promise<{ server: Server; url: URL }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      record({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      const a = answer();
      setTimeout(() => {
        res.writeHead(a.status, a.headers);
        res.end(a.body);
      }, a.delayMs ?? 0);
    });
  });
  return { server, url: await listenOnLoopback(server) };
}
