import { IncomingHttpHeaders, request } from "http";

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One HTTP request exactly as given: the target unnormalised and the headers in their order and spelling, with
 * only Host and, for a body, Content-Length added (Node adds neither to raw headers).
 */
export function rawRequest(
  base: URL,
  method: string,
  target: string,
  headers: readonly [string, string][],
  body?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const framing: [string, string][] = [
      ["Host", base.host],
      ...(body !== undefined ? [["Content-Length", String(Buffer.byteLength(body))] as [string, string]] : []),
    ];
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: target,
        method,
        headers: [...framing, ...headers].flat() as unknown as Record<string, string>,
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
