import Ajv from "ajv";
import { isMap, Node as YamlNode } from "yaml";
import teamSchema from "../../policies/team.schema.json";
import { isTeamName, TEAM_NAME_RULE } from "./contract";
import { GroupPolicyError } from "./errors";
import { TeamFile } from "./teams";
import { readYamlFile } from "./yaml-file";

// Kept apart from teams.ts so that the Lambda bundle, which ships parsed team files, has no YAML or Ajv.

const validateSchema = new Ajv({ allErrors: true }).compile(teamSchema);

/** Parses one team file's YAML text; every problem is reported as `file:line: message`. */
export function parseTeamFile(name: string, file: string, text: string): TeamFile {
  const earlier = isTeamName(name)
    ? []
    : [`${file}:1: team name "${name}" must be ${TEAM_NAME_RULE} (it is a workspace and a path: /ws/<team>/)`];
  const { doc, data, lineOf } = readYamlFile(file, text, validateSchema, earlier);
  const t = data as { description: string; tiers: Record<string, string[]> };
  const tiersNode = doc.get("tiers", true);
  if (!isMap(doc.contents) || !isMap(tiersNode)) throw new GroupPolicyError(`${file}:1: a team file is a mapping`);
  return {
    name,
    file,
    description: t.description,
    tiers: tiersNode.items.map((pair) => {
      const tier = String((pair.key as { value?: unknown }).value ?? pair.key);
      return { tier, line: lineOf(pair.key as YamlNode), groups: t.tiers[tier] ?? [] };
    }),
  };
}
