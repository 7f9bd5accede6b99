import type { AccessLogEntry } from "../../gateway/answer";
import type { LogHead } from "../../common/log";

/** The access lines among a stack's log lines (the gateway's, the UI front's, the STS's): what tests read. */
export function isAccessLine(line: LogHead): line is AccessLogEntry {
  return line.event === "request";
}
