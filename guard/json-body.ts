/**
 * A JSON request body read strictly, so that what the guard checks and rewrites is what MLflow reads.
 * MLflow is lenient (invalid JSON becomes `{}`, a JSON string is decoded twice, a BOM or UTF-16 is
 * accepted, a bad field silently drops the fields after it); the guard refuses every such body, and
 * sends MLflow the object it decided on, serialised afresh (duplicate keys collapse to the last, as
 * Python reads them). Pure.
 */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export type JsonTextProblem = "not-json" | "non-finite-number";
export type JsonBodyProblem = "not-utf8" | "not-an-object" | JsonTextProblem;

/**
 * `exact`: serialising the value afresh gives MLflow the numbers it would have read from the text.
 * Python keeps an integer literal of any size; JavaScript rounds one beyond 2^53, so a body holding one
 * cannot be rewritten without changing it.
 */
export type JsonTextResult =
  | { readonly ok: true; readonly value: Json; readonly exact: boolean }
  | { readonly ok: false; readonly problem: JsonTextProblem };

export type JsonBodyResult =
  | { readonly ok: true; readonly value: JsonObject; readonly exact: boolean }
  | { readonly ok: false; readonly problem: JsonBodyProblem };

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function parseJsonBody(bytes: Uint8Array): JsonBodyResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, problem: "not-utf8" };
  }
  // A BOM is kept by the decoder above, and JSON.parse refuses it: MLflow would accept it.
  const parsed = parseJsonText(text);
  if (!parsed.ok) return parsed;
  if (!isJsonObject(parsed.value)) return { ok: false, problem: "not-an-object" };
  return { ok: true, value: parsed.value, exact: parsed.exact };
}

/**
 * JSON text (a body, or a field holding JSON as a string), with every number finite: `1e400` reads as
 * Infinity, which JSON.stringify would send on as `null` (Python reads it as inf).
 */
export function parseJsonText(text: string): JsonTextResult {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return { ok: false, problem: "not-json" };
  }
  if (!numbersAreFinite(value)) return { ok: false, problem: "non-finite-number" };
  return { ok: true, value, exact: !hasUnsafeIntegerLiteral(text) };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function numbersAreFinite(value: Json): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(numbersAreFinite);
  if (isJsonObject(value)) return Object.values(value).every(numbersAreFinite);
  return true;
}

const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

/** Whether valid JSON text holds an integer literal (no fraction, no exponent) that a double cannot hold exactly. */
export function hasUnsafeIntegerLiteral(text: string): boolean {
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = endOfString(text, i);
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) return true;
      if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(Number(m[0]))) return true;
      i += m[0].length;
    } else i++;
  }
  return false;
}

/** The index just past the JSON string that opens at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

/** The index just past the JSON value that starts at `start` (after any whitespace) in valid JSON text. */
function endOfValue(text: string, start: number): number {
  let i = skipSpace(text, start);
  const c = text[i];
  if (c === '"') return endOfString(text, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    while (i < text.length) {
      const d = text[i];
      if (d === '"') {
        i = endOfString(text, i);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length && !/[\s,\]}]/.test(text[i] as string)) i++;
  return i;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  return i;
}

/** One member of a JSON object as written: its key (decoded) and its value's exact text. */
export interface RawMember {
  readonly key: string;
  readonly valueText: string;
}

/**
 * The members of each object in JSON text that is a list of objects, every value's text exactly as
 * written, so that a rewrite can change one member and keep the rest byte for byte (numbers included:
 * `1.0` stays `1.0`). Undefined when the text is not a JSON list of objects.
 */
export function readListOfObjects(text: string): RawMember[][] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every(isJsonObject)) return undefined;
  const objects: RawMember[][] = [];
  let i = skipSpace(text, 0) + 1; // past "["
  for (;;) {
    i = skipSpace(text, i);
    if (text[i] === "]") return objects;
    if (text[i] === ",") i = skipSpace(text, i + 1);
    i = skipSpace(text, i + 1); // past "{"
    const members: RawMember[] = [];
    while (text[i] !== "}") {
      if (text[i] === ",") i = skipSpace(text, i + 1);
      const keyEnd = endOfString(text, i);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1); // past ":"
      const valueEnd = endOfValue(text, valueStart);
      members.push({ key, valueText: text.slice(valueStart, valueEnd) });
      i = skipSpace(text, valueEnd);
    }
    objects.push(members);
    i += 1;
  }
}

/** A JSON object written from members whose values are JSON text. */
export function writeObject(members: readonly RawMember[]): string {
  return `{${members.map((m) => `${JSON.stringify(m.key)}:${m.valueText}`).join(",")}}`;
}

export function serializeJsonBody(value: JsonObject): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}
