/** CloudFormation JSON as templates hold it: deep, loosely typed values that tests read by path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnProperties = Record<string, any>;

/** How an imported value is shown: the first pattern its export name matches names it. */
export type ImportLabels = readonly (readonly [RegExp, string])[];

/** The API id imported from the API stack reads API_ID. */
export const API_IMPORT: ImportLabels = [[/RefApi/, "API_ID"]];

/**
 * A template value with its intrinsic functions rendered as text, for readable assertions: joins are
 * joined, `AWS::Partition` is aws, `AWS::URLSuffix` amazonaws.com, other refs `<ref Id>`, attributes
 * `<Id.Attr>`, imports by `labels` (else `<import Name>`).
 */
export function flatTemplate(value: unknown, labels: ImportLabels = API_IMPORT): unknown {
  const flat = (v: unknown): unknown => flatTemplate(v, labels);
  if (Array.isArray(value)) return value.map(flat);
  if (!value || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  if ("Fn::Join" in o) {
    const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
    return parts.map(flat).join(sep);
  }
  if ("Fn::ImportValue" in o) {
    const name = String(o["Fn::ImportValue"]);
    return labels.find(([re]) => re.test(name))?.[1] ?? `<import ${name}>`;
  }
  if ("Ref" in o)
    return o.Ref === "AWS::Partition" ? "aws" : o.Ref === "AWS::URLSuffix" ? "amazonaws.com" : `<ref ${String(o.Ref)}>`;
  if ("Fn::GetAtt" in o) return `<${(o["Fn::GetAtt"] as string[]).join(".")}>`;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, flat(v)]));
}
