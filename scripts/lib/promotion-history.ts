import { canonicalStage, Stage } from "../../authorizer/core/promotion";
import type { AuditPromotion, AuditRecord } from "../../guard/audit";

/**
 * A model's promotions as the audit trail holds them, version by version (`mlflow-gate audit --model NAME`):
 * who asked for which stage or alias, whether the guard refused it and why, whether MLflow did it, when. The
 * registry changes the guard decides with the same rules are listed too: a version's deletion under its version,
 * the model's deletion and its renames (from or to the name) on their own. Pure: the command reads the lines and
 * prints.
 */
export type PromotionKind = AuditPromotion["kind"];

const KIND_OF_ACTION: Readonly<Record<string, PromotionKind>> = {
  TransitionModelVersionStage: "transition",
  SetRegisteredModelAlias: "set-alias",
  DeleteRegisteredModelAlias: "delete-alias",
  DeleteModelVersion: "delete-version",
  DeleteRegisteredModel: "delete-model",
  RenameRegisteredModel: "rename",
};

/** One promotion request: a row of the table, a line of `--json`. */
export interface PromotionEntry {
  readonly time: string;
  /** The model the request named (a rename: the name it had). */
  readonly model: string;
  /** A rename's new name. */
  readonly newName?: string;
  /**
   * The version asked about. An alias deletion names none: its version is the one the trail last saw the alias
   * set on, if it did (`versionFromTrail`).
   */
  readonly version?: string;
  readonly versionFromTrail?: true;
  readonly kind: PromotionKind;
  /** The version's stage before (a transition's, a version deletion's), as the guard read it. */
  readonly from?: Stage;
  /** The stage asked for, as MLflow reads it. */
  readonly to?: Stage;
  /** A stage MLflow would not accept, as sent (the guard refuses it). */
  readonly stageSent?: string;
  readonly archiveExisting?: true;
  readonly alias?: string;
  /** Who asked: the stamped name (else the username or the principal). */
  readonly who: string;
  readonly principal?: string;
  readonly groups?: readonly string[];
  /** The version's stamped creator, as the guard read it. */
  readonly creator?: string;
  /** done: MLflow did it; failed: MLflow answered an error (or the call broke off); refused: the guard refused it. */
  readonly outcome: "done" | "failed" | "refused";
  readonly status: number;
  readonly reason?: string;
  /** The guard's refusal message (the rule and the group files). */
  readonly message?: string;
  readonly requestId: string;
}

export interface VersionHistory {
  readonly version: string;
  /** The version's creation, when the trail holds it. */
  readonly created?: { readonly time: string; readonly by: string };
  readonly promotions: readonly PromotionEntry[];
}

export interface ModelHistory {
  readonly model: string;
  /** In version order. */
  readonly versions: readonly VersionHistory[];
  /** Alias deletions whose version the trail does not show. */
  readonly unattributed: readonly PromotionEntry[];
  /** The model's deletions, and its renames from or to the name. */
  readonly modelChanges: readonly PromotionEntry[];
}

const whoOf = (r: AuditRecord): string => r.caller ?? r.username ?? r.principal ?? "-";

function entryOf(r: AuditRecord, kind: PromotionKind, aliasHolder: string | undefined): PromotionEntry {
  const p = r.promotion;
  const res = r.resources ?? {};
  const alias = p?.alias ?? res.alias;
  // Lines written before the guard recorded `promotion` (or refused before it read the request) say what they
  // can in `resources`: the stage as sent, or on success as MLflow answered it.
  const sent = kind === "transition" && p?.to === undefined ? res.stage : undefined;
  const to = p?.to ?? (sent !== undefined ? canonicalStage(sent) : undefined);
  const version = res.version ?? (kind === "delete-alias" ? aliasHolder : undefined);
  const outcome = r.decision === "refused" ? "refused" : r.status < 400 && r.reason === undefined ? "done" : "failed";
  return {
    time: r.time,
    model: res.model ?? "",
    ...(kind === "rename" && res.newModel !== undefined ? { newName: res.newModel } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(res.version === undefined && version !== undefined ? { versionFromTrail: true as const } : {}),
    kind,
    ...(p?.from !== undefined ? { from: p.from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(to === undefined && sent !== undefined ? { stageSent: sent } : {}),
    ...(p?.archiveExisting === true ? { archiveExisting: true as const } : {}),
    ...((kind === "set-alias" || kind === "delete-alias") && alias !== undefined ? { alias } : {}),
    who: whoOf(r),
    ...(r.principal !== undefined ? { principal: r.principal } : {}),
    ...(r.groups !== undefined && r.groups.length > 0 ? { groups: r.groups } : {}),
    ...(p?.creator !== undefined ? { creator: p.creator } : {}),
    outcome,
    status: r.status,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(p?.message !== undefined ? { message: p.message } : {}),
    requestId: r.requestId,
  };
}

const byVersion = (a: string, b: string): number =>
  /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b);

/**
 * The history of one model from its audit lines in the trail's order. `keep` selects the requests listed (the
 * other filters of the command); every line of the model still counts for the creations and for which version
 * holds an alias, so that a filter does not change what a row says.
 */
export function buildModelHistory(
  model: string,
  records: Iterable<AuditRecord>,
  keep: (r: AuditRecord) => boolean = () => true,
): ModelHistory {
  const versions = new Map<string, { created?: VersionHistory["created"]; promotions: PromotionEntry[] }>();
  const at = (v: string) => versions.get(v) ?? versions.set(v, { promotions: [] }).get(v)!;
  const unattributed: PromotionEntry[] = [];
  const modelChanges: PromotionEntry[] = [];
  const aliasHolders = new Map<string, string>();
  for (const r of records) {
    const res = r.resources ?? {};
    const renamedInto = r.action === "RenameRegisteredModel" && res.newModel === model && res.model !== model;
    if (res.model !== model && !renamedInto) continue;
    const done = r.decision === "forwarded" && r.status < 300;
    if (r.action === "CreateModelVersion" && done && res.version !== undefined) {
      at(res.version).created = { time: r.time, by: whoOf(r) };
      continue;
    }
    const kind = KIND_OF_ACTION[r.action];
    if (kind === undefined) continue;
    // Deleting a version takes its aliases; deleting the model, or renaming it away, takes them all.
    if (done && kind === "delete-version")
      for (const [alias, v] of aliasHolders) if (v === res.version) aliasHolders.delete(alias);
    if (done && !renamedInto && (kind === "delete-model" || kind === "rename")) aliasHolders.clear();
    const alias = r.promotion?.alias ?? res.alias;
    const entry = entryOf(r, kind, alias !== undefined ? aliasHolders.get(alias) : undefined);
    if (done && alias !== undefined) {
      if (kind === "set-alias" && res.version !== undefined) aliasHolders.set(alias, res.version);
      if (kind === "delete-alias") aliasHolders.delete(alias);
    }
    if (!keep(r)) continue;
    if (kind === "delete-model" || kind === "rename") modelChanges.push(entry);
    else if (entry.version !== undefined) at(entry.version).promotions.push(entry);
    else unattributed.push(entry);
  }
  return {
    model,
    versions: [...versions]
      .sort(([a], [b]) => byVersion(a, b))
      .map(([version, h]) => ({ version, ...(h.created ? { created: h.created } : {}), promotions: h.promotions })),
    unattributed,
    modelChanges,
  };
}

/** Every request of a history, in time order (what `--json` prints, one per line). */
export function promotionEntries(h: ModelHistory): PromotionEntry[] {
  return [...h.versions.flatMap((v) => v.promotions), ...h.unattributed, ...h.modelChanges].sort((a, b) =>
    a.time.localeCompare(b.time),
  );
}

/**
 * What a request asked, in a few words: `stage Staging -> Production`, `set alias champion`, `rename to churn-v2`.
 * `model`: the name the history is of (a rename into it reads `renamed from OLD`).
 */
export function describeRequest(e: PromotionEntry, model: string = e.model): string {
  switch (e.kind) {
    case "transition": {
      const to = e.to ?? (e.stageSent !== undefined ? JSON.stringify(e.stageSent) : "?");
      return `stage ${e.from ?? "?"} -> ${to}${e.archiveExisting ? " (archiving the others)" : ""}`;
    }
    case "set-alias":
    case "delete-alias":
      return `${e.kind === "set-alias" ? "set" : "delete"} alias ${e.alias ?? "?"}`;
    case "delete-version":
      return `delete version${e.from !== undefined ? ` (in ${e.from})` : ""}`;
    case "delete-model":
      return "delete model";
    case "rename":
      if (e.newName === model && e.model !== model) return `renamed from ${e.model}`;
      // A done rename written before the guard recorded the new name holds the new name as its model.
      if (e.newName === undefined && e.outcome === "done") return "renamed from ?";
      return `rename to ${e.newName ?? "?"}`;
  }
}

export function describeOutcome(e: PromotionEntry): string {
  if (e.outcome === "done") return "done";
  return [e.outcome, String(e.status), e.reason ?? ""].filter((s) => s !== "").join(" ");
}

/**
 * The table for people: a heading per version (with who created it, when the trail says), one row per
 * request, the model's deletions and renames last, and under a refusal the guard's reason in full. `idle`: also
 * the versions without a listed request.
 */
export function formatModelHistory(h: ModelHistory, options: { readonly idle?: boolean } = {}): string {
  const groups = [
    ...h.versions
      .filter((v) => v.promotions.length > 0 || options.idle === true)
      .map((v) => ({
        heading: `version ${v.version}${v.created ? `  created ${v.created.time} by ${v.created.by}` : ""}`,
        rows: v.promotions,
      })),
    ...(h.unattributed.length > 0
      ? [{ heading: "version unknown (alias deletions the trail cannot place)", rows: h.unattributed }]
      : []),
    ...(h.modelChanges.length > 0 ? [{ heading: "whole model (deletions and renames)", rows: h.modelChanges }] : []),
  ];
  const all = groups.flatMap((g) => g.rows);
  const cells = (e: PromotionEntry) => [e.time, e.who, describeRequest(e, h.model), describeOutcome(e)];
  const header = ["TIME", "WHO", "REQUEST", "OUTCOME"];
  const widths = header.map((title, i) => Math.max(title.length, ...all.map((e) => cells(e)[i]!.length)));
  const row = (c: readonly string[]) =>
    `  ${c.map((s, i) => (i < c.length - 1 ? s.padEnd(widths[i]!) : s)).join("  ")}`;
  const indent = " ".repeat(2 + widths[0]! + 2 + widths[1]! + 2);

  const refused = all.filter((e) => e.outcome === "refused").length;
  const lines = [
    `model ${h.model}: ${all.length} promotion request${all.length === 1 ? "" : "s"}, ${refused} refused by the guard`,
  ];
  for (const g of groups) {
    lines.push("", g.heading);
    if (g.rows.length === 0) {
      lines.push("  no promotion request");
      continue;
    }
    lines.push(row(header));
    for (const e of g.rows) {
      lines.push(row(cells(e)));
      if (e.message !== undefined) lines.push(`${indent}${e.message}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
