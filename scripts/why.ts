// The `why` command of `mlflow-gate`: explains one request of the local stack's access log
// ($MLFLOW_GATE_DATA/access.jsonl), with the guard's audit line of it (audit.jsonl) and today's policy files.
import { existsSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { resolveDataDir } from "../local/config";
import { ACCESS_LOG_FILE } from "../local/access-log-file";
import type { AccessLogEntry } from "../gateway/answer";
import type { AuditRecord } from "../guard/audit";
import type { Command, Context } from "./lib/command";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { loadSet } from "./lib/load-set";
import { explainRequest, findRequest, lastRefused } from "./lib/why";

/** The JSON lines of a file that parse, of one event; a line that does not parse is skipped. */
function readLines<T>(file: string, event: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line) as { event?: unknown };
        return parsed?.event === event ? [parsed as T] : [];
      } catch {
        return [];
      }
    });
}

function why(ctx: Context): number {
  const [id, ...rest] = ctx.args;
  if (rest.length > 0) throw new CliUsageError(`unexpected argument "${rest[0]}"`);
  const dataDir = resolveDataDir(ctx.io.env ?? process.env, process.cwd());
  const file = ctx.values.file !== undefined ? resolve(ctx.values.file) : join(dataDir, ACCESS_LOG_FILE);
  if (!existsSync(file))
    throw new CliFailure([
      `mlflow-gate: no access log at ${file}`,
      '  the local stack writes it ("npm start"); a stack with another data directory: set MLFLOW_GATE_DATA to it',
    ]);
  // The gateway's lines: the STS's requests are in the same file, and explained by its own answer.
  const entries = readLines<AccessLogEntry>(file, "request").filter((e) => e.component === "gateway");
  const entry = id === undefined ? lastRefused(entries) : findRequest(entries, id);
  if (!entry)
    throw new CliFailure([
      id === undefined
        ? `mlflow-gate: no refused request in ${file}`
        : `mlflow-gate: no request ${id} in ${file} (the x-amzn-RequestId or x-amz-apigw-id of an answer)`,
    ]);
  const auditFile =
    ctx.values["audit-file"] !== undefined ? resolve(ctx.values["audit-file"]) : join(dataDir, "audit.jsonl");
  const audit = readLines<AuditRecord>(auditFile, "audit").find((r) => r.requestId === entry.extendedRequestId);
  let set;
  try {
    set = loadSet(ctx);
  } catch {
    // Policy files that do not load: the explanation goes without the rule (policy lint says what is wrong).
  }
  const lines = explainRequest({ entry, ...(audit ? { audit } : {}), ...(set ? { set } : {}) });
  ctx.io.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

export const whyCommand: Command = { name: "why", options: ["file", "audit-file"], run: why };
