import Ajv from "ajv";
import { isMap, isSeq, LineCounter, parseDocument, Node as YamlNode } from "yaml";
import groupSchema from "../../policies/group.schema.json";
import { GroupPolicyError } from "./errors";
import { GROUP_NAME, GroupFile, PatternAt } from "./groups";
import { Stage } from "./promotion";

// Kept apart from groups.ts so that the Lambda bundle, which ships parsed group files, has no YAML or Ajv.

const validateSchema = new Ajv({ allErrors: true }).compile(groupSchema);

/** Parses one group file's YAML text; every problem is reported as `file:line: message`. */
export function parseGroupFile(name: string, file: string, text: string): GroupFile {
  const problems: string[] = [];
  if (!GROUP_NAME.test(name))
    problems.push(`${file}:1: group name "${name}" must match ${GROUP_NAME.source} (it becomes a Cognito group)`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (node: YamlNode | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  for (const e of doc.errors)
    problems.push(`${file}:${lineCounter.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`);
  if (problems.length > 0) throw new GroupPolicyError(problems[0] as string, problems);

  const data: unknown = doc.toJS();
  if (!validateSchema(data)) {
    for (const err of validateSchema.errors ?? []) {
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
  const g = data as {
    description: string;
    extends?: string | string[];
    allow: string[];
    deny?: string[];
    unknownRoutes?: "allow" | "deny";
    promotion?: {
      stages?: { to: Stage[]; from?: Stage[] };
      aliases?: { allow?: string[]; deny?: string[] };
      separateFromCreator?: boolean;
    };
  };
  const patternsAt = (key: "allow" | "deny"): PatternAt[] => {
    const seq = doc.get(key, true);
    if (!isSeq(seq)) return [];
    return seq.items.map((item) => ({
      pattern: String((item as { value?: unknown }).value ?? item),
      line: lineOf(item as YamlNode),
    }));
  };
  if (!isMap(doc.contents)) throw new GroupPolicyError(`${file}:1: a group file is a mapping`);
  return {
    name,
    file,
    description: g.description,
    extends: g.extends === undefined ? [] : Array.isArray(g.extends) ? g.extends : [g.extends],
    allow: patternsAt("allow"),
    deny: patternsAt("deny"),
    unknownRoutes: g.unknownRoutes ?? "deny",
    ...(g.promotion
      ? {
          promotion: {
            line: lineOf(doc.get("promotion", true) as YamlNode),
            // A block without stages moves no version; without aliases it touches none.
            stagesTo: g.promotion.stages?.to ?? [],
            ...(g.promotion.stages?.from ? { stagesFrom: g.promotion.stages.from } : {}),
            aliasesAllow: g.promotion.aliases?.allow ?? [],
            aliasesDeny: g.promotion.aliases?.deny ?? [],
            separateFromCreator: g.promotion.separateFromCreator ?? false,
          },
        }
      : {}),
  };
}
