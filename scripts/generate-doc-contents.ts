// Writes the table of contents of every docs/ page (scripts/lib/doc-contents.ts): `npm run docs:contents`.
import { readdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { REPO_ROOT } from "../project/paths";
import { withContents } from "./lib/doc-contents";

const dir = join(REPO_ROOT, "docs");
for (const name of readdirSync(dir).filter((f) => f.endsWith(".md"))) {
  const file = join(dir, name);
  const before = readFileSync(file, "utf8");
  const after = withContents(before);
  if (after !== before) {
    writeFileSync(file, after);
    process.stdout.write(`docs/${name}: contents written\n`);
  }
}
