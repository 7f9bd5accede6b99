// The local stack's machine-readable lines in the one log shape (common/log.ts): the authorizer's decisions
// (the Lambda writes them with Powertools) and its children's output.
import type { DecisionLogger } from "../authorizer/authorize";
import { LogLine, logLine, LogSink } from "../common/log";

/** The authorizer's decisions in the one log shape (the Lambda writes them with Powertools). */
export function decisionLogger(log: LogSink): DecisionLogger {
  return {
    info: (_message, attributes) => log(logLine("authorizer", "decision", attributes, "info")),
    error: (_message, attributes) => log(logLine("authorizer", "decision", attributes, "error")),
  };
}

/** A child's output line: its own JSON line when it writes the log shape, else the text as an `output` event. */
export function parseLogLine(text: string, component: string): LogLine {
  try {
    const parsed = JSON.parse(text) as Partial<LogLine>;
    if (typeof parsed.time === "string" && typeof parsed.event === "string" && typeof parsed.component === "string") {
      return parsed as LogLine;
    }
  } catch {
    // Not JSON: a stack trace, a warning.
  }
  return logLine(component, "output", { text: text.slice(0, 2000) }, "warn");
}
