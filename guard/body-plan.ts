// What the guard does with a request's body: whether it reads it, how much it may hold, and what it checks
// once read (OTLP exports, GraphQL documents, strict JSON, the caller stamped). Pure: the server reads the
// body between planBody and vetBody, within the budget the plan names.
import { graphqlRefusal, GuardAnswer, REFUSALS, stampRefusal } from "./answers";
import { checkGraphqlRequest, GraphqlLimits } from "./graphql";
import { JsonObject, parseJsonBody, serializeJsonBody } from "./json-body";
import { checkOtlpExport, OTLP_RESERVED_TAG_MESSAGE } from "./otlp";
import { isPromotionDecided } from "./promotion-request";
import { hasStampRules, stampBody } from "./stamp";

export const OTLP_ACTION = "ExportOtelTraces";
export const GRAPHQL_ACTION = "GraphQL";
/** Flask routes whose body is not JSON whatever its Content-Type says: the UI's artifact upload (raw bytes). */
export const RAW_BODY_ACTIONS: ReadonlySet<string> = new Set(["UploadArtifact"]);

/** What is known of a request before its body is read. */
export interface BodyFacts {
  readonly action: string;
  readonly method: string;
  /** The router that serves the route; undefined for a route the catalog does not list. */
  readonly routeSource: "flask" | "fastapi" | undefined;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentLength: string | undefined;
  /** A length above 0, or chunked framing. */
  readonly hasBody: boolean;
  /** The request gets an audit line, which names the resources its JSON body names. */
  readonly audited: boolean;
}

export interface BodyLimits {
  /** The most the guard reads of a body (the API's payload limit). */
  readonly maxBodyBytes: number;
  readonly graphql: GraphqlLimits;
}

export interface BodyRefusal {
  readonly reason: string;
  readonly answer: GuardAnswer;
  /** The JSON the client sent, when it was read before the refusal: for the audit line. */
  readonly json?: JsonObject;
}

/** Why the body is read; more than one may hold (a stamped Flask route is read strictly too). */
export interface BodyChecks {
  readonly otlp: boolean;
  readonly graphql: boolean;
  readonly stamps: boolean;
  readonly strict: boolean;
  /**
   * A route decided with the promotion rules (a stage, an alias, a deletion or rename that takes them): read
   * whatever its Content-Type says, as MLflow parses a DELETE's
   * body under any type, so that the guard decides on what MLflow reads.
   */
  readonly promotion: boolean;
}

export type BodyPlan =
  /** Nothing to check: the client's body streams to MLflow. */
  | { readonly kind: "stream" }
  | { readonly kind: "refuse"; readonly refusal: BodyRefusal }
  | {
      readonly kind: "read";
      readonly checks: BodyChecks;
      /** Read at most this many bytes; past it, `tooLarge`. */
      readonly limit: number;
      /** What to set aside from the guard's budget while the request lasts. */
      readonly reserve: number;
      readonly tooLarge: BodyRefusal;
    };

const refusal = (reason: string, answer: GuardAnswer = REFUSALS[reason] ?? REFUSALS["guard-error"]!): BodyRefusal => ({
  reason,
  answer,
});

const isJsonType = (contentType: string | undefined) => /^application\/json\b/i.test(contentType ?? "");

/**
 * Whether and how to read the body. Read: OTLP exports and GraphQL documents (checked), the bodies of the
 * routes the guard stamps, JSON bodies of MLflow's Flask routes (MLflow reads them leniently and answers one
 * that is not an object, or holds a number beyond a double, with an HTML 500), and JSON bodies of audited
 * requests (for the ids they name). Everything else streams.
 */
export function planBody(f: BodyFacts, limits: BodyLimits): BodyPlan {
  const graphql = f.action === GRAPHQL_ACTION;
  if (graphql && f.method !== "POST") return { kind: "refuse", refusal: refusal("graphql-get") };
  const isJson = isJsonType(f.contentType);
  const checks: BodyChecks = {
    otlp: f.action === OTLP_ACTION,
    graphql,
    stamps: hasStampRules(f.action),
    strict: f.routeSource === "flask" && f.method !== "GET" && isJson && f.hasBody && !RAW_BODY_ACTIONS.has(f.action),
    promotion: isPromotionDecided(f.action),
  };
  const audit = f.audited && isJson && f.hasBody;
  if (!checks.otlp && !checks.graphql && !checks.stamps && !checks.strict && !checks.promotion && !audit)
    return { kind: "stream" };
  // A GraphQL document is read whole and small: MLflow would parse a large one for seconds.
  const limit = graphql ? limits.graphql.maxBytes : limits.maxBodyBytes;
  const tooLarge = graphql
    ? refusal("graphql-too-large", graphqlRefusal(`the GraphQL request exceeds ${limit} bytes`, 413))
    : refusal("payload-too-large");
  const declared = f.hasBody ? Number(f.contentLength ?? limit) : 0;
  if (!(declared <= limit)) return { kind: "refuse", refusal: tooLarge };
  // What the body takes while the request lasts: its declared length (a chunked one may reach the limit),
  // and for a compressed OTLP export, what it may inflate to.
  const encoded = checks.otlp && (f.contentEncoding ?? "identity").trim().toLowerCase() !== "identity";
  return { kind: "read", checks, limit, reserve: declared + (encoded ? limits.maxBodyBytes : 0), tooLarge };
}

export interface VetContext {
  readonly action: string;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  /** The verified caller's name; undefined on a public route. */
  readonly caller: string | undefined;
  /** The route's path parameters, for the stamping rules that read them. */
  readonly params: Readonly<Record<string, string>>;
  readonly limits: BodyLimits;
}

/** The body to send MLflow (maybe rewritten) and its JSON, or why it is refused. */
export type Vetted =
  | { readonly ok: true; readonly body: Buffer; readonly json?: JsonObject }
  | { readonly ok: false; readonly refusal: BodyRefusal };

const refused = (r: BodyRefusal, json?: JsonObject): Vetted => ({
  ok: false,
  refusal: json !== undefined ? { ...r, json } : r,
});

/** Checks a body read by a plan's `checks`, and stamps the caller on it where a rule says so. */
export function vetBody(checks: BodyChecks, body: Buffer, c: VetContext): Vetted {
  if (checks.otlp) {
    const problem = checkOtlpExport(body, c.contentType, c.contentEncoding, c.limits.maxBodyBytes);
    if (problem === "otlp-reserved-tag") return refused(refusal(problem, stampRefusal(OTLP_RESERVED_TAG_MESSAGE)));
    if (problem) return refused(refusal(problem));
    return { ok: true, body };
  }
  // MLflow reads an empty body as {} (and a GET's parameters from its query).
  const parsed = body.length === 0 ? ({ ok: true, value: {}, exact: true } as const) : parseJsonBody(body);
  if (!parsed.ok) {
    // Only the routes the guard rewrites or reads must be read exactly as MLflow reads them.
    if (checks.stamps || checks.graphql || checks.strict || checks.promotion) return refused(refusal(parsed.problem));
    return { ok: true, body };
  }
  const json = parsed.value;
  if (checks.graphql) {
    const problem = checkGraphqlRequest(json, c.limits.graphql);
    if (problem) return refused(refusal(problem.problem, graphqlRefusal(problem.message)), json);
    return { ok: true, body, json };
  }
  if (!checks.stamps || c.caller === undefined) return { ok: true, body, json };
  const outcome = stampBody(c.action, json, c.caller, c.params);
  if (outcome.kind === "refused") return refused(refusal("stamp-refused", stampRefusal(outcome.message)), json);
  if (outcome.kind === "rewritten") {
    // Written afresh, an integer beyond 2^53 would reach MLflow rounded.
    if (!parsed.exact) return refused(refusal("inexact-number"), json);
    return { ok: true, body: serializeJsonBody(outcome.body), json: outcome.body };
  }
  return { ok: true, body, json };
}
