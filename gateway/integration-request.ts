import { randomBytes } from "crypto";
import { isIPv4 } from "net";

/**
 * The `$context` variables API Gateway offers an integration request's parameter mappings, as far as
 * the API definition uses them. `path` is the request path as the client sent it (this stage has no
 * stage prefix in its URLs, as behind a custom domain).
 */
export interface RequestContext {
  readonly requestId: string;
  /** The id API Gateway generates, which no client can set (`AbCdEfGhIjKlMnO=`). */
  readonly extendedRequestId: string;
  readonly httpMethod: string;
  readonly path: string;
  /** `sourceIp`: the address of the connection that reached API Gateway. */
  readonly identity?: { readonly userArn?: string; readonly sourceIp?: string };
  readonly authorizer?: { readonly principalId?: string; readonly [key: string]: string | undefined };
}

/**
 * A mapping expression's value: a static `'value'`, a `context.*` variable, or a path parameter of the method request
 * (`method.request.path.<name>`, decoded as API Gateway passes it); undefined when it has none.
 */
export function resolveMapping(
  expression: string,
  context: RequestContext,
  pathParameters: Readonly<Record<string, string>> = {},
): string | undefined {
  const literal = /^'(.*)'$/s.exec(expression);
  if (literal) return literal[1];
  const param = /^method\.request\.path\.(.+)$/.exec(expression);
  if (param) return Object.hasOwn(pathParameters, param[1] as string) ? pathParameters[param[1] as string] : undefined;
  if (!expression.startsWith("context.")) return undefined;
  let value: unknown = context;
  for (const key of expression.slice("context.".length).split(".")) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === "string" ? value : undefined;
}

/**
 * A method's header mappings (`integration.request.header.<Name>` ← its expression) with this request's values (and
 * its path parameters):
 * a variable without a value maps no header (API Gateway skips it; the guard then refuses the request).
 */
export function mappedHeaders(
  mappings: readonly (readonly [string, string])[],
  context: RequestContext,
  pathParameters: Readonly<Record<string, string>> = {},
): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, expression] of mappings) {
    const value = resolveMapping(expression, context, pathParameters);
    if (value !== undefined) out.push([name, value]);
  }
  return out;
}

/** A fresh `context.extendedRequestId` in the shape API Gateway's have: 16 characters of base64, 11 random bytes. */
export function newExtendedRequestId(): string {
  return randomBytes(11).toString("base64");
}

/**
 * `context.identity.sourceIp`: the client's socket address, an IPv4 address as itself (not in the
 * `::ffff:` form a dual-stack socket reports); undefined once the connection is gone.
 */
export function sourceIpOf(socket: { readonly remoteAddress?: string | undefined }): string | undefined {
  const address = socket.remoteAddress;
  if (address?.startsWith("::ffff:") && isIPv4(address.slice("::ffff:".length))) return address.slice("::ffff:".length);
  return address;
}
