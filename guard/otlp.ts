import { inflateSync, gunzipSync } from "zlib";
import { USER_TAG } from "./stamp";

/**
 * OTLP trace exports (`POST /v1/traces`, protobuf or JSON, maybe compressed) can carry trace tags as
 * root-span attributes `mlflow.traceTag.<key>`, which MLflow stores as tags, `mlflow.user` included.
 * MLflow's own exporter never sends a reserved (`mlflow.`) tag that way, so the guard refuses an export
 * that names one. Protobuf strings are plain bytes and the JSON form is read back without escapes, so
 * the marker cannot hide. Pure (zlib is computation).
 */
const RESERVED_TAG_ATTRIBUTE = Buffer.from("mlflow.traceTag.mlflow.");

export type OtlpProblem = "otlp-encoding" | "otlp-too-large" | "otlp-not-json" | "otlp-reserved-tag";

export function checkOtlpExport(
  body: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  maxBytes: number,
): OtlpProblem | undefined {
  let bytes: Buffer;
  try {
    const encoding = (contentEncoding ?? "identity").trim().toLowerCase();
    if (encoding === "gzip") bytes = gunzipSync(body, { maxOutputLength: maxBytes });
    else if (encoding === "deflate") bytes = inflateSync(body, { maxOutputLength: maxBytes });
    else if (encoding === "identity" || encoding === "") bytes = body;
    else return "otlp-encoding";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ? "otlp-too-large" : "otlp-encoding";
  }
  if ((contentType ?? "").toLowerCase().startsWith("application/json")) {
    try {
      bytes = Buffer.from(JSON.stringify(JSON.parse(bytes.toString("utf8"))));
    } catch {
      return "otlp-not-json";
    }
  }
  return bytes.includes(RESERVED_TAG_ATTRIBUTE) ? "otlp-reserved-tag" : undefined;
}

/** The refusal's message. */
export const OTLP_RESERVED_TAG_MESSAGE = `an OTLP export may not set reserved trace tags (mlflow.traceTag.mlflow.*, such as ${USER_TAG}): mlflow-gate stamps the creator`;
