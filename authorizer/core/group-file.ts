import Ajv from "ajv";
import { isMap, isSeq, Node as YamlNode } from "yaml";
import groupSchema from "../../policies/group.schema.json";
import { GroupPolicyError } from "./errors";
import { GROUP_NAME, GroupFile, PatternAt } from "./groups";
import { Stage } from "./promotion";
import { readYamlFile } from "./yaml-file";

// Kept apart from groups.ts so that the Lambda bundle, which ships parsed group files, has no YAML or Ajv.

const validateSchema = new Ajv({ allErrors: true }).compile(groupSchema);

/** Parses one group file's YAML text; every problem is reported as `file:line: message`. */
export function parseGroupFile(name: string, file: string, text: string): GroupFile {
  const problems: string[] = [];
  if (!GROUP_NAME.test(name))
    problems.push(`${file}:1: group name "${name}" must match ${GROUP_NAME.source} (it becomes a Cognito group)`);
  const { doc, data, lineOf } = readYamlFile(file, text, validateSchema, problems);
  const g = data as {
    description: string;
    extends?: string | string[];
    allow: string[];
    deny?: string[];
    unknownRoutes?: "allow" | "deny";
    workspaces?: "all" | "teams";
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
    workspaces: g.workspaces ?? "teams",
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
