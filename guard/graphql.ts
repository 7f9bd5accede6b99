// The language modules only: the package's index loads the whole executor too (280 KB more in the bundle).
import { Lexer } from "graphql/language/lexer";
import { parse } from "graphql/language/parser";
import { Source } from "graphql/language/source";
import { TokenKind } from "graphql/language/tokenKind";
import type { JsonObject } from "./json-body";

/**
 * What the guard lets through to MLflow's `/graphql`. MLflow 3.17 parses a whole document before its own
 * depth and alias limits run, so a large or deeply nested one costs it seconds and memory it keeps: the
 * guard reads the document first, with a cheap token scan that stops at the limits, and passes on only a
 * request MLflow can answer (a JSON object whose `query` parses). Pure.
 */
export interface GraphqlLimits {
  /** The largest request body (the JSON around the document included). */
  readonly maxBytes: number;
  /** Lexical tokens in the document. */
  readonly maxTokens: number;
  /** Nesting of `{`, `(` and `[` in the document. */
  readonly maxDepth: number;
}

/**
 * Room for the MLflow UI's own queries (a few hundred tokens, nested under ten deep) many times over, and
 * far under what slows MLflow: it took 0.6 s on a 130 KB document.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphqlLimits = { maxBytes: 64 * 1024, maxTokens: 5000, maxDepth: 32 };

export type GraphqlProblem =
  "graphql-not-a-request" | "graphql-too-many-tokens" | "graphql-too-deep" | "graphql-unparsable";

export interface GraphqlRefusal {
  readonly problem: GraphqlProblem;
  readonly message: string;
}

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R]);

/** Whether a GraphQL request body (already read as JSON) may go on to MLflow; undefined when it may. */
export function checkGraphqlRequest(body: JsonObject, limits: GraphqlLimits): GraphqlRefusal | undefined {
  const { query, variables, operationName } = body;
  if (typeof query !== "string") return notARequest("a GraphQL request needs a `query` string");
  if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables)))
    return notARequest("`variables` must be an object");
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string")
    return notARequest("`operationName` must be a string");
  try {
    // The scan is iterative, so a deep document cannot exhaust the stack before its depth is known; the
    // parser (recursive) then runs only on a document within both limits.
    const lexer = new Lexer(new Source(query));
    let tokens = 0;
    let depth = 0;
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) {
        return {
          problem: "graphql-too-many-tokens",
          message: `the GraphQL document exceeds ${limits.maxTokens} tokens`,
        };
      }
      if (OPENING.has(token.kind) && ++depth > limits.maxDepth) {
        return { problem: "graphql-too-deep", message: `the GraphQL document nests deeper than ${limits.maxDepth}` };
      }
      if (CLOSING.has(token.kind)) depth--;
    }
    parse(query, { maxTokens: limits.maxTokens });
  } catch (e) {
    return { problem: "graphql-unparsable", message: `the GraphQL document does not parse: ${firstLine(e)}` };
  }
  return undefined;
}

const notARequest = (message: string): GraphqlRefusal => ({ problem: "graphql-not-a-request", message });

/** A parser's message, without the source excerpt graphql-js appends (it would echo the client's text back). */
function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : "";
  return (message.split("\n")[0] ?? "").slice(0, 200);
}
