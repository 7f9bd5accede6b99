// The short table of contents at the top of each docs/ page: its `##` sections, between markers, written by
// `npm run docs:contents` and checked by test/docs.test.ts.

export const CONTENTS_START = "<!-- contents: npm run docs:contents -->";
export const CONTENTS_END = "<!-- /contents -->";

/** A page needs contents from this many sections on. */
export const MIN_SECTIONS = 2;

/** GitHub's anchor of a heading: lower case, without punctuation but `-` and `_`, spaces as `-`. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The headings of a level (`##`), outside fenced code. */
export function headingsOf(markdown: string, level = 2): string[] {
  const marker = `${"#".repeat(level)} `;
  const found: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (!fenced && line.startsWith(marker)) found.push(line.slice(marker.length).trim());
  }
  return found;
}

/** Every anchor a page has: each heading's, numbered as GitHub numbers repeats (`name`, `name-1`, ...). */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = anchorOf(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/**
 * The page with its contents block after the title: a block already there is replaced; a hand-written list of
 * section links before the first section is removed. A page of fewer than MIN_SECTIONS sections gets none.
 */
export function withContents(markdown: string): string {
  const sections = headingsOf(markdown);
  let lines = markdown.split("\n");
  const start = lines.indexOf(CONTENTS_START);
  const end = lines.indexOf(CONTENTS_END);
  if (start >= 0 && end > start) lines.splice(start, end - start + 1 + (lines[end + 1] === "" ? 1 : 0));
  const firstSection = lines.findIndex((l) => l.startsWith("## "));
  lines = lines.filter((l, i) => !(i < firstSection && /^- \[[^\]]*\]\(#[^)]*\)$/.test(l)));
  // Blank lines left twice by a removed list become one.
  lines = lines.filter((l, i) => !(l === "" && lines[i - 1] === ""));
  if (sections.length < MIN_SECTIONS) return lines.join("\n");
  const title = lines.findIndex((l) => l.startsWith("# "));
  const block = [
    CONTENTS_START,
    ...sections.map((s) => `- [${s.replace(/`/g, "")}](#${anchorOf(s)})`),
    CONTENTS_END,
    "",
  ];
  lines.splice(title + 1, lines[title + 1] === "" ? 1 : 0, "", ...block);
  return lines.join("\n");
}
