// The `audit` command of `mlflow-gate`: reads the guard's audit trail (the local stack's audit.jsonl, or any file of its lines).
import { createReadStream, existsSync } from "fs";
import { join, resolve } from "path";
import { createInterface } from "readline";
import { resolveDataDir } from "../local/config";
import type { Command, Context } from "./lib/command";
import type { AuditRecord } from "../guard/audit";
import { AuditFilter, formatAuditRecord, matchesAudit, parseAuditLine, parseSince } from "./lib/audit-query";
import { buildModelHistory, formatModelHistory, promotionEntries } from "./lib/promotion-history";
import { CliFailure, CliUsageError } from "./lib/cli-errors";

async function audit(ctx: Context): Promise<number> {
  if (ctx.args.length > 0) throw new CliUsageError(`unexpected argument "${ctx.args[0]}"`);
  const env = ctx.io.env ?? process.env;
  const file =
    ctx.values.file !== undefined ? resolve(ctx.values.file) : join(resolveDataDir(env, process.cwd()), "audit.jsonl");
  if (!existsSync(file)) {
    throw new CliFailure([
      `mlflow-gate: no audit trail at ${file}`,
      "  the local stack writes it (npm start); on AWS, query the audit log group with CloudWatch Logs Insights (docs/deploying.md)",
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
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  if (v.model !== undefined && v.lines !== true) return promotions(ctx, v.model, filter, lines);
  let shown = 0;
  for await (const line of lines) {
    const record = parseAuditLine(line);
    if (!record || !matchesAudit(record, filter)) continue;
    ctx.io.stdout.write(`${v.json === true ? line : formatAuditRecord(record)}\n`);
    shown += 1;
  }
  if (shown === 0) ctx.io.stderr.write("mlflow-gate: no audit line matches\n");
  return 0;
}

/**
 * `--model NAME`: the model's promotions version by version, then its deletions and renames (--json: one request
 * per line), the other filters applied to them.
 */
async function promotions(
  ctx: Context,
  model: string,
  filter: AuditFilter,
  lines: AsyncIterable<string>,
): Promise<number> {
  const records: AuditRecord[] = [];
  for await (const line of lines) {
    const record = parseAuditLine(line);
    if (record?.resources?.model === model || record?.resources?.newModel === model) records.push(record);
  }
  const { model: _model, ...others } = filter;
  const history = buildModelHistory(model, records, (r) => matchesAudit(r, others));
  const entries = promotionEntries(history);
  if (ctx.values.json === true) for (const e of entries) ctx.io.stdout.write(`${JSON.stringify(e)}\n`);
  else if (entries.length > 0 || history.versions.length > 0)
    ctx.io.stdout.write(formatModelHistory(history, { idle: Object.keys(others).length === 0 }));
  if (entries.length === 0) ctx.io.stderr.write(`mlflow-gate: no promotion of ${model} matches in the audit trail\n`);
  return 0;
}

export const auditCommand: Command = {
  name: "audit",
  options: ["model", "run", "user", "action", "since", "refused", "json", "lines", "file"],
  run: audit,
};
