import type { ValidateFunction } from "ajv";
import { LineCounter, parseDocument, Document, Node as YamlNode } from "yaml";
import { GroupPolicyError } from "./errors";

/** A policy file's YAML, checked against its JSON schema, with the line of any node for messages. */
export interface YamlFile {
  readonly doc: Document.Parsed;
  readonly data: unknown;
  lineOf(node: YamlNode | null | undefined): number;
}

/**
 * Parses one policy file (a group or a team) and checks it against its schema; every problem is reported at
 * once as `file:line: message` in a GroupPolicyError, so an editor can jump to each; `earlier` problems (the file's
 * name) come first.
 */
export function readYamlFile(
  file: string,
  text: string,
  validate: ValidateFunction,
  earlier: readonly string[] = [],
): YamlFile {
  const problems = [...earlier];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  for (const e of doc.errors)
    problems.push(`${file}:${lineCounter.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);

  const data: unknown = doc.toJS();
  if (!validate(data)) {
    for (const err of validate.errors ?? []) {
      const path = err.instancePath.split("/").filter(Boolean);
      const node = path.length > 0 ? (doc.getIn(path, true) as YamlNode | undefined) : doc.contents;
      const where = err.instancePath === "" ? "" : ` at ${err.instancePath}`;
      const extra =
        err.keyword === "additionalProperties"
          ? ` (${String(err.params.additionalProperty)})`
          : err.keyword === "enum"
            ? ` (${JSON.stringify(doc.getIn(path))}: write one of ${(err.params.allowedValues as unknown[]).join(", ")}, as spelt here)`
            : "";
      problems.push(`${file}:${lineOf(node ?? doc.contents)}: ${err.message ?? "invalid"}${where}${extra}`);
    }
    throw new GroupPolicyError(problems[0] as string, problems);
  }
  return { doc, data, lineOf };
}
