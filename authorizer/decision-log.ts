// The authorizer's log line: one JSON object per call, with the fields Powertools' Logger writes (level, message,
// timestamp, service, sampling_rate, xray_trace_id) and the decision's. Built from fixed keys: the part that never
// changes is serialised once, and only the timestamp, the trace id and the decision's fields per line.
import type { DecisionLogger } from "./authorize";

/** Lambda's and Powertools' level names, lowest first; a line below the configured level is not written. */
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"] as const;
type Level = (typeof LEVELS)[number];

export interface DecisionLogOptions {
  readonly service: string;
  /**
   * Where the level comes from (thresholdOf) and, per line, the X-Ray trace id (`_X_AMZN_TRACE_ID`, set per
   * invocation). @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Where a line goes, with its newline; @default process.stdout (Lambda sends it to CloudWatch Logs) */
  readonly write?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

function levelIndex(name: string | undefined): number | undefined {
  const upper = name?.toUpperCase();
  // Lambda's FATAL is Powertools' CRITICAL.
  const known = LEVELS.indexOf((upper === "FATAL" ? "CRITICAL" : upper) as Level);
  return known >= 0 ? known : undefined;
}

/**
 * The lowest level written: `POWERTOOLS_LOG_LEVEL` (or `LOG_LEVEL`), else INFO, as Powertools reads them; and no
 * lower than Lambda's own `AWS_LAMBDA_LOG_LEVEL`, as Lambda drops JSON lines below it anyway.
 */
function thresholdOf(env: NodeJS.ProcessEnv): number {
  const own = levelIndex(env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL) ?? LEVELS.indexOf("INFO");
  return Math.max(own, levelIndex(env.AWS_LAMBDA_LOG_LEVEL) ?? 0);
}

/** The trace id of `_X_AMZN_TRACE_ID` (`Root=1-…;Parent=…;Sampled=…`), as Powertools logs it. */
export function xrayTraceIdOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const root = header.split(";")[0] ?? "";
  const id = root.startsWith("Root=") ? root.slice("Root=".length) : root;
  return id === "" ? undefined : id;
}

/** Attributes as Powertools prints them: undefined, null and "" are left out. */
function attributesJson(attributes: Record<string, unknown>): string {
  let out = "";
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null || value === "") continue;
    out += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return out;
}

/** A DecisionLogger that writes Powertools' fields without Powertools. */
export function createDecisionLog(options: DecisionLogOptions): DecisionLogger {
  const env = options.env ?? process.env;
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? Date.now;
  const threshold = thresholdOf(env);
  // No debug sampling is configured, so Powertools' sampling_rate is always 0.
  const service = `,"service":${JSON.stringify(options.service)},"sampling_rate":0`;
  const line = (level: Level, message: string, attributes: Record<string, unknown>): void => {
    if (LEVELS.indexOf(level) < threshold) return;
    const trace = xrayTraceIdOf(env._X_AMZN_TRACE_ID);
    write(
      `{"level":"${level}","message":${JSON.stringify(message)},"timestamp":"${new Date(now()).toISOString()}"${service}` +
        `${trace !== undefined ? `,"xray_trace_id":${JSON.stringify(trace)}` : ""}${attributesJson(attributes)}}\n`,
    );
  };
  return {
    info: (message, attributes) => line("INFO", message, attributes),
    error: (message, attributes) => line("ERROR", message, attributes),
  };
}
