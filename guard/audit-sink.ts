import { appendFileSync, closeSync, fchmodSync, mkdirSync, openSync } from "fs";
import { dirname } from "path";
import type { AuditRecord } from "./audit";

/**
 * Where audit lines go: appended to a file (the local stack's `$MLFLOW_GATE_DATA/audit.jsonl`), or
 * written to standard output, which the container's log driver sends to the audit log group on AWS.
 * One line per record, written at once: a crash never leaves half a line behind another.
 */
export function openAuditSink(file: string | undefined): (record: AuditRecord) => void {
  if (file === undefined) return (record) => void process.stdout.write(`${JSON.stringify(record)}\n`);
  mkdirSync(dirname(file), { recursive: true });
  // Created private (it names every caller), then appended to with one write per line.
  const fd = openSync(file, "a", 0o600);
  fchmodSync(fd, 0o600);
  closeSync(fd);
  return (record) => appendFileSync(file, `${JSON.stringify(record)}\n`);
}
