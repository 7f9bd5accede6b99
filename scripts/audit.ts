// The `audit` command of `mlflow-gate`: reads the guard's audit trail (the local stack's audit.jsonl, or any file of its lines).
import { createReadStream, existsSync } from "fs";
import { join, resolve } from "path";
import { createInterface } from "readline";
import { resolveDataDir } from "../local/config";
import type { Command, Context } from "./lib/command";
import { AuditFilter, formatAuditRecord, matchesAudit, parseAuditLine, parseSince } from "./lib/audit-query";
import { CliFailure, CliUsageError } from "./lib/cli-errors";

async function audit(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw new CliUsageError(`unexpected argument "${ctx.args[0]}"`);
  const env = ctx.io.env ?? process.env;
  const file =
    ctx.values.file !== undefined ? resolve(ctx.values.file) : join(resolveDataDir(env, process.cwd()), "audit.jsonl");
  if (!existsSync(file)) {
    throw new CliFailure([
      `mlflow-gate: no audit trail at ${file}`,
      "  the local stack writes it (npm start); on AWS, query the audit log group with CloudWatch Logs Insights (README)",
    ]);
  }
  const v = ctx.values;
  const filter: AuditFilter = {
    ...(v.model !== undefined ? { model: v.model } : {}),
    ...(v.run !== undefined ? { run: v.run } : {}),
    ...(v.user !== undefined ? { user: v.user } : {}),
    ...(v.action !== undefined ? { action: v.action } : {}),
    ...(v.since !== undefined ? { since: parseSince(v.since, new Date()) } : {}),
    ...(v.refused === true ? { refusedOnly: true } : {}),
  };
  let shown = 0;
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  for await (const line of lines) {
    const record = parseAuditLine(line);
    if (!record || !matchesAudit(record, filter)) continue;
    ctx.io.stdout.write(`${v.json === true ? line : formatAuditRecord(record)}\n`);
    shown += 1;
  }
  if (shown === 0) ctx.io.stderr.write("mlflow-gate: no audit line matches\n");
  return 0;
}

export const auditCommand: Command = {
  name: "audit",
  options: ["model", "run", "user", "action", "since", "refused", "json", "file"],
  run: audit,
};
