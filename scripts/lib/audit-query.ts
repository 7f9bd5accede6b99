import type { AuditRecord } from "../../guard/audit";
import { CliUsageError } from "./cli-errors";

/** What `mlflow-gate audit` selects: every given criterion must match. */
export interface AuditFilter {
  readonly model?: string;
  readonly run?: string;
  /** The stamped name, the username or the principal (a SigV4 caller's ARN). */
  readonly user?: string;
  readonly action?: string;
  readonly since?: Date;
  readonly refusedOnly?: boolean;
}

const RELATIVE = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: an ISO date or time (`2026-12-01`, `2026-12-01T10:00:00Z`), or a span back from now (`30m`, `12h`, `7d`). */
export function parseSince(text: string, now: Date): Date {
  const rel = RELATIVE.exec(text);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]);
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime())) {
    throw new CliUsageError(
      `--since "${text}" is neither a date (2026-12-01, 2026-12-01T10:00:00Z) nor a span (30m, 12h, 7d)`,
    );
  }
  return at;
}

/** An audit line of the trail; undefined for anything else (a partial line, another log's line). */
export function parseAuditLine(line: string): AuditRecord | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const r = JSON.parse(line) as Partial<AuditRecord>;
    return r.event === "audit" && typeof r.time === "string" && typeof r.action === "string"
      ? (r as AuditRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

export function matchesAudit(r: AuditRecord, f: AuditFilter): boolean {
  // A rename is about the new name too.
  if (f.model !== undefined && r.resources?.model !== f.model && r.resources?.newModel !== f.model) return false;
  if (f.run !== undefined && r.resources?.run !== f.run) return false;
  if (f.user !== undefined && ![r.caller, r.username, r.principal].includes(f.user)) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.since !== undefined && !(Date.parse(r.time) >= f.since.getTime())) return false;
  if (f.refusedOnly === true && r.decision !== "refused") return false;
  return true;
}

/** One line for people: when, who, what, the outcome, on which resources. */
export function formatAuditRecord(r: AuditRecord): string {
  const resources = Object.entries(r.resources ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const outcome = r.decision === "refused" ? `refused ${r.status} ${r.reason ?? ""}`.trimEnd() : String(r.status);
  return [r.time, r.caller ?? "-", r.action, outcome, resources].filter((s) => s !== "").join("  ");
}
