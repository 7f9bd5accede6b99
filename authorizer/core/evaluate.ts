import { UnsupportedPolicyError } from "./errors";
import { globToRegExp } from "./glob";

/**
 * How IAM, and API Gateway for an authorizer's policy, decide one request: any matching Deny
 * statement wins; otherwise a matching Allow allows; otherwise the request is implicitly denied.
 * Implements Effect, Action/NotAction (case-insensitive globs) and Resource/NotResource (ARN globs
 * matched component by component, case-sensitively, `*` spanning "/"). Anything else (Condition,
 * Principal) is rejected with UnsupportedPolicyError: callers treat that as deny.
 */
export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface Evaluation {
  readonly decision: Decision;
  /** The resource pattern that decided, when a statement matched. */
  readonly matched?: string;
}

interface Statement {
  readonly effect: "Allow" | "Deny";
  readonly actions: { readonly not: boolean; readonly patterns: readonly RegExp[] };
  readonly resources: { readonly not: boolean; readonly patterns: readonly ResourcePattern[] };
}

/** A Resource pattern compiled once: its text (what decided) and a glob per ARN component. */
interface ResourcePattern {
  readonly text: string;
  /** undefined: `*`, any resource; null: not an ARN, no resource. */
  readonly parts: readonly RegExp[] | undefined | null;
}

function compileResourcePattern(text: string): ResourcePattern {
  if (text === "*") return { text, parts: undefined };
  const parts = arnComponents(text);
  return { text, parts: parts ? parts.map((part) => cachedGlob(part, "")) : null };
}

/** Whether a compiled pattern matches an ARN already split into its components. */
function resourceMatches(pattern: ResourcePattern, arn: readonly string[] | undefined): boolean {
  if (pattern.parts === undefined) return true;
  if (pattern.parts === null || arn === undefined) return false;
  const parts = pattern.parts;
  for (let i = 0; i < parts.length; i++) if (!(parts[i] as RegExp).test(arn[i] as string)) return false;
  return true;
}

const KNOWN_KEYS = new Set(["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource"]);

function stringList(value: unknown, what: string): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v): v is string => typeof v === "string")) {
    throw new UnsupportedPolicyError(`${what} must be a string or a non-empty list of strings`);
  }
  return list;
}

function parseStatement(raw: unknown, i: number): Statement {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new UnsupportedPolicyError(`Statement[${i}] must be an object`);
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!KNOWN_KEYS.has(key)) throw new UnsupportedPolicyError(`Statement[${i}].${key} is not supported`);
  }
  if (s.Effect !== "Allow" && s.Effect !== "Deny")
    throw new UnsupportedPolicyError(`Statement[${i}].Effect must be Allow or Deny`);
  if ("Action" in s === "NotAction" in s)
    throw new UnsupportedPolicyError(`Statement[${i}] needs exactly one of Action, NotAction`);
  if ("Resource" in s === "NotResource" in s)
    throw new UnsupportedPolicyError(`Statement[${i}] needs exactly one of Resource, NotResource`);
  return {
    effect: s.Effect,
    actions: {
      not: "NotAction" in s,
      patterns: stringList(s.Action ?? s.NotAction, `Statement[${i}] action`).map((p) => cachedGlob(p, "i")),
    },
    resources: {
      not: "NotResource" in s,
      patterns: stringList(s.Resource ?? s.NotResource, `Statement[${i}] resource`).map(compileResourcePattern),
    },
  };
}

/** A policy document's statements, validated by parsePolicyDocument. */
export type ParsedPolicy = readonly Statement[];

/** Validates a policy document once, so evaluating it is cheap and cannot throw. */
export function parsePolicyDocument(doc: unknown): ParsedPolicy {
  if (typeof doc !== "object" || doc === null) throw new UnsupportedPolicyError("policy document must be an object");
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== "2012-10-17")
    throw new UnsupportedPolicyError(`Version ${String(d.Version)} is not supported`);
  const list = Array.isArray(d.Statement) ? d.Statement : d.Statement === undefined ? undefined : [d.Statement];
  if (list === undefined) throw new UnsupportedPolicyError("policy document has no Statement");
  return list.map(parseStatement);
}

/**
 * parsePolicyDocument, once per document object: for documents that are built once and never changed (a policy
 * set's memoised role policies, a cached authorizer answer), so that each request only evaluates.
 */
const parsedDocuments = new WeakMap<object, ParsedPolicy>();
export function parsePolicyDocumentOnce(doc: object): ParsedPolicy {
  let parsed = parsedDocuments.get(doc);
  if (!parsed) {
    parsed = parsePolicyDocument(doc);
    parsedDocuments.set(doc, parsed);
  }
  return parsed;
}

/** Splits an ARN into its six components; the sixth keeps any further colons. */
function arnComponents(arn: string): string[] | undefined {
  const parts: string[] = [];
  let rest = arn;
  for (let i = 0; i < 5; i++) {
    const at = rest.indexOf(":");
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

const regexCache = new Map<string, RegExp>();
function cachedGlob(glob: string, flags: string): RegExp {
  const key = `${flags}:${glob}`;
  let re = regexCache.get(key);
  if (!re) {
    re = globToRegExp(glob, flags);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

export function arnMatches(pattern: string, arn: string): boolean {
  return resourceMatches(compileResourcePattern(pattern), arnComponents(arn));
}

function statementMatches(s: Statement, action: string, resource: readonly string[] | undefined): string | undefined {
  const actionHit = s.actions.patterns.some((p) => p.test(action));
  if (actionHit === s.actions.not) return undefined;
  if (s.resources.not)
    return s.resources.patterns.some((p) => resourceMatches(p, resource)) ? undefined : `NotResource`;
  return s.resources.patterns.find((p) => resourceMatches(p, resource))?.text;
}

/** Evaluates one or more policy documents (a role's managed policies, or an authorizer's policy) together. */
export function evaluatePolicies(docs: readonly ParsedPolicy[], action: string, resource: string): Evaluation {
  const arn = arnComponents(resource);
  let allowed: string | undefined;
  for (const statements of docs) {
    for (const s of statements) {
      const hit = statementMatches(s, action, arn);
      if (hit === undefined) continue;
      if (s.effect === "Deny") return { decision: "ExplicitDeny", matched: hit };
      allowed ??= hit;
    }
  }
  return allowed !== undefined ? { decision: "Allow", matched: allowed } : { decision: "ImplicitDeny" };
}
