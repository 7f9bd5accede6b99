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

export type JsonBodyProblem = "not-utf8" | "not-json" | "not-an-object" | "non-finite-number";

export type JsonBodyResult =
  { readonly ok: true; readonly value: JsonObject } | { readonly ok: false; readonly problem: JsonBodyProblem };

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function parseJsonBody(bytes: Uint8Array): JsonBodyResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, problem: "not-utf8" };
  }
  // A BOM is kept by the decoder above, and JSON.parse refuses it: MLflow would accept it.
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "not-json" };
  }
  if (!isJsonObject(value)) return { ok: false, problem: "not-an-object" };
  if (!numbersAreFinite(value)) return { ok: false, problem: "non-finite-number" };
  return { ok: true, value };
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether every number is finite: `1e400` reads as Infinity, which JSON.stringify would send on as
 * `null` (Python reads it as inf). Integers past 2^53 are rounded by a rewrite; no field the guard
 * rewrites (ids, names, times in milliseconds) holds one.
 */
function numbersAreFinite(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(numbersAreFinite);
  if (isJsonObject(value)) return Object.values(value).every(numbersAreFinite);
  return true;
}

export function serializeJsonBody(value: JsonObject): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}
