/** Longest refusal shown: the guard's messages are a line or two; anything longer is not one. */
const MAX_REFUSAL = 1000;

/**
 * The guard's reason in a 403's body (`{"error_code": "PERMISSION_DENIED", "message": ...}`, e.g. a promotion
 * rule), or undefined for any other answer: API Gateway's own 403 says nothing the banner does not.
 */
export function refusalOf(status: number, body: string): string | undefined {
  if (status !== 403) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { error_code: code, message } = parsed as Record<string, unknown>;
    // The guard signs its messages ("mlflow-gate: ..."); the banner speaks for it already.
    return code === "PERMISSION_DENIED" && typeof message === "string" && message.length <= MAX_REFUSAL
      ? message.replace(/^mlflow-gate: /, "")
      : undefined;
  } catch {
    return undefined;
  }
}
