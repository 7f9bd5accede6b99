// The one shape of every JSON line mlflow-gate's programs write: the gateway's and the STS's access lines,
// the authorizer's decisions and the guard's events locally, the guard's audit trail in both places.

export type LogLevel = "info" | "warn" | "error";

/** The keys every line starts with: when, how bad, which program part, what happened. */
export interface LogHead {
  readonly time: string;
  readonly level: LogLevel;
  /** `gateway`, `sts`, `authorizer`, `guard`, `stack`. */
  readonly component: string;
  /** `request` (an access line), `decision`, `audit`, `started`, ... */
  readonly event: string;
}

/** A line: the head, and whatever fields its kind has (an access line, an audit record, a decision). */
export type LogLine = LogHead & { readonly [field: string]: unknown };

/** Where lines go; any line with the head will do. */
export type LogSink = (line: LogHead) => void;

/** A line of `component`'s `event`, its fields after the head. */
export function logLine(
  component: string,
  event: string,
  fields: Readonly<Record<string, unknown>> = {},
  level: LogLevel = "info",
  now: Date = new Date(),
): LogLine {
  return { time: now.toISOString(), level, component, event, ...fields };
}

/** Writes each line as one JSON line; a failing stream (a closed stdout) never throws into the caller. */
export function jsonLineWriter(stream: { write(text: string): unknown }): LogSink {
  return (line) => {
    try {
      stream.write(`${JSON.stringify(line)}\n`);
    } catch {
      // Nothing to do: the line is lost, the program goes on.
    }
  };
}
