import { existsSync, readdirSync, readFileSync } from "fs";
import { dirname, join, resolve } from "path";
import { REPO_ROOT } from "../../project/paths";
import { anchorsOf, withContents } from "../../scripts/lib/doc-contents";

// The README and docs/ as a reader meets them: short enough, each page's contents current, every link
// between them (and to the repository's files) leading somewhere that exists, anchors included.

const DOCS = join(REPO_ROOT, "docs");
const pages = [
  join(REPO_ROOT, "README.md"),
  join(REPO_ROOT, "SECURITY.md"),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(DOCS, f)),
];

/** The relative links of a page outside fenced code: [text](target). */
function linksOf(markdown: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (!/^(https?:|mailto:)/.test(target)) links.push(target);
    }
  }
  return links;
}

describe("the README and docs/", () => {
  test("the README fits on a screen or two: at most 150 lines", () => {
    // Act / Assess
    expect(readFileSync(join(REPO_ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(150);
  });

  test.each(readdirSync(DOCS).filter((f) => f.endsWith(".md")))(
    "docs/%s: its contents list is current (npm run docs:contents)",
    (name) => {
      // Act
      const text = readFileSync(join(DOCS, name), "utf8");
      // Assess
      expect(withContents(text)).toBe(text);
    },
  );

  test.each(pages.map((p) => [p.slice(REPO_ROOT.length + 1), p]))(
    "%s: every relative link leads to a file and anchor that exist",
    (_name, page) => {
      // Prepare
      const text = readFileSync(page, "utf8");
      // Act
      const broken = linksOf(text).filter((link) => {
        const [path, anchor] = link.split("#") as [string, string | undefined];
        const target = path === "" ? page : resolve(dirname(page), decodeURIComponent(path));
        if (!existsSync(target)) return true;
        if (anchor === undefined || !target.endsWith(".md")) return false;
        return !anchorsOf(readFileSync(target, "utf8")).has(anchor);
      });
      // Assess
      expect(broken).toEqual([]);
    },
  );
});
