// The gateway's access log as a file of the data directory (`access.jsonl`), besides npm start's stdout:
// `mlflow-gate why` reads it to explain a decision after the fact.
import { closeSync, constants, fchmodSync, openSync, renameSync, statSync, writeSync } from "fs";
import { join } from "path";
import { LogHead, LogSink } from "../common/log";

export const ACCESS_LOG_FILE = "access.jsonl";

/** A file grown past this moves to `access.jsonl.1` (replacing the one before) when a stack starts. */
export const ACCESS_LOG_ROTATE_BYTES = 50 * 1024 * 1024;

export interface AccessLogFile {
  /** Appends the line if it is a request's (`event: "request"`: the gateway's and the STS's). */
  readonly sink: LogSink;
  close(): Promise<void>;
}

/** Opens `<dataDir>/access.jsonl` for appending, only its owner may read it (callers' names and addresses). */
export function openAccessLogFile(dataDir: string, rotateBytes = ACCESS_LOG_ROTATE_BYTES): AccessLogFile {
  const file = join(dataDir, ACCESS_LOG_FILE);
  try {
    if (statSync(file).size > rotateBytes) renameSync(file, `${file}.1`);
  } catch {
    // no file yet
  }
  // Written at once, line by line: a line is in the file when the request ends, and a SIGKILL loses none.
  // Never through a planted symlink, and only its owner may read it, whatever mode an older file had.
  let fd: number | undefined = openSync(
    file,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  fchmodSync(fd, 0o600);
  return {
    sink: (line: LogHead) => {
      if (fd === undefined || (line as { event?: unknown }).event !== "request") return;
      try {
        writeSync(fd, `${JSON.stringify(line)}\n`);
      } catch {
        // A full disk loses lines, never the stack.
      }
    },
    close: async () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
