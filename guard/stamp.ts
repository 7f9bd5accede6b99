import { isJsonObject, Json, JsonObject, parseJsonText, RawMember, readListOfObjects, writeObject } from "./json-body";

/**
 * Who did it, stamped: on every route where MLflow 3.17 stores a person taken from the request, the
 * guard writes the authenticated caller instead, and refuses later changes of the creator tag. The
 * rules come from reading the pinned MLflow's handlers and stores (docs/guard.md lists them with the
 * route, the field and the rule). Pure.
 *
 * MLflow reads a field under its proto name or its camelCase JSON name, and a field it cannot parse
 * silently drops the fields after it (ParseDict stops there). So a stamped field replaces both
 * spellings and goes first in its object, and every object on the way to it goes first in its parent.
 */

/** MLflow's creator tag of runs, traces and logged models (the UI's "User"); the guard also puts it on registered models and versions. */
export const USER_TAG = "mlflow.user";
/** Trace metadata MLflow's own AI gateway trusts for user-scoped budgets: only MLflow may write them. */
const GATEWAY_TRUST_KEYS = [
  "mlflow.auth.username",
  "mlflow.auth.userId",
  "mlflow.gateway.endpointId",
  "mlflow.gateway.caller",
];

/** A proto field as JSON: its name and, when it differs, its camelCase JSON name. */
type Field = readonly [name: string, jsonName?: string];

export type StampOutcome =
  | { readonly kind: "unchanged" }
  | { readonly kind: "rewritten"; readonly body: JsonObject }
  | { readonly kind: "refused"; readonly message: string };

export interface StampRule {
  /** The catalog actions (MLflow RPC names) the rule applies to. */
  readonly actions: readonly string[];
  /** Where the user is, for the docs. */
  readonly field: string;
  /** What the guard does, for the docs. */
  readonly rule: string;
  /** `params`: the route's path parameters (catalog template names), decoded. */
  apply(body: JsonObject, caller: string, params: Readonly<Record<string, string>>): StampOutcome;
}

const refused = (message: string): StampOutcome => ({ kind: "refused", message });
const CREATOR_IS_FIXED = `${USER_TAG} names who created this, as mlflow-gate stamped it from the authenticated caller; it cannot be set, changed or deleted`;

function get(obj: JsonObject, [name, jsonName]: Field): Json | undefined {
  return obj[name] ?? (jsonName !== undefined ? obj[jsonName] : undefined);
}

/** `obj` with `field` set to `value` under its proto name, first; both spellings of the old value gone. */
function putFirst(obj: JsonObject, [name, jsonName]: Field, value: Json): JsonObject {
  const rest = { ...obj };
  delete rest[name];
  if (jsonName !== undefined) delete rest[jsonName];
  return { [name]: value, ...rest };
}

/** Applies `fn` to the object at `path` (missing objects are not created: the rule then does nothing). */
function updateAt(obj: JsonObject, path: readonly Field[], fn: (o: JsonObject) => JsonObject): JsonObject | undefined {
  if (path.length === 0) return fn(obj);
  const [head, ...rest] = path as [Field, ...Field[]];
  const child = get(obj, head);
  if (!isJsonObject(child)) return undefined;
  const updated = updateAt(child, rest, fn);
  return updated === undefined ? undefined : putFirst(obj, head, updated);
}

function objectAt(obj: JsonObject, path: readonly Field[]): JsonObject | undefined {
  let at: Json | undefined = obj;
  for (const field of path) at = isJsonObject(at) ? get(at, field) : undefined;
  return isJsonObject(at) ? at : undefined;
}

const isTagEntry = (e: Json, key: string): boolean => isJsonObject(e) && e.key === key;

/** Tags MLflow parses without an error: a list of `{key, value}` strings, or a map of strings. */
const isTagList = (list: Json | undefined): boolean =>
  list === undefined ||
  list === null ||
  (Array.isArray(list) &&
    list.every(
      (e) => isJsonObject(e) && typeof e.key === "string" && ["string", "undefined"].includes(typeof e.value),
    ));
const isTagMap = (map: Json | undefined): boolean =>
  map === undefined || map === null || (isJsonObject(map) && Object.values(map).every((v) => typeof v === "string"));
const MALFORMED_TAGS =
  "tags must be a list of {key, value} strings (or a map of strings): MLflow would drop what follows a malformed one";

/** A `[{key, value}]` list with every creator entry replaced by one naming the caller, first. */
function stampTagList(list: Json | undefined, caller: string): Json[] {
  const others = Array.isArray(list) ? list.filter((e) => !isTagEntry(e, USER_TAG)) : [];
  return [{ key: USER_TAG, value: caller }, ...others];
}

/** A `{key: value}` map with the creator key naming the caller, first. */
function stampTagMap(map: Json | undefined, caller: string): JsonObject {
  const others = isJsonObject(map) ? { ...map } : {};
  delete others[USER_TAG];
  return { [USER_TAG]: caller, ...others };
}

const listHasKey = (list: Json | undefined, keys: readonly string[]): boolean =>
  Array.isArray(list) && list.some((e) => keys.some((k) => isTagEntry(e, k)));
const mapHasKey = (map: Json | undefined, keys: readonly string[]): boolean =>
  isJsonObject(map) && keys.some((k) => Object.prototype.hasOwnProperty.call(map, k));

/**
 * A field holding JSON text (datasets keep their tags and records as strings), parsed; undefined when
 * absent. Not ok when it is not JSON, or when it is to be written afresh (`exact`) and that would change
 * a number in it.
 */
function readJsonField(value: Json | undefined, exact: boolean): { ok: true; value: Json | undefined } | { ok: false } {
  if (value === undefined || value === null || value === "") return { ok: true, value: undefined };
  if (typeof value !== "string") return { ok: false };
  const parsed = parseJsonText(value);
  return parsed.ok && (parsed.exact || !exact) ? { ok: true, value: parsed.value } : { ok: false };
}

/** A rule that sets one string field to the caller. */
function setField(actions: readonly string[], field: Field, path: readonly Field[] = []): StampRule {
  const where = [...path, field].map(([n]) => n).join(".");
  return {
    actions,
    field: where,
    rule: "set to the caller (whatever the client sent, under either spelling)",
    apply: (body, caller) => {
      const out = updateAt(body, path, (o) => putFirst(o, field, caller));
      return out === undefined ? { kind: "unchanged" } : { kind: "rewritten", body: out };
    },
  };
}

/** A rule that refuses a request naming the creator tag in `field` (a tag key). */
function refuseKey(actions: readonly string[], field: Field): StampRule {
  return {
    actions,
    field: field[0],
    rule: `refused (400) when it is ${USER_TAG}`,
    apply: (body) => (get(body, field) === USER_TAG ? refused(CREATOR_IS_FIXED) : { kind: "unchanged" }),
  };
}

/** A rule that refuses a request whose `[{key, value}]` lists name the creator tag. */
function refuseTagLists(actions: readonly string[], lists: readonly Field[]): StampRule {
  return {
    actions,
    field: lists.map(([n]) => `${n}[].key`).join(", "),
    rule: `refused (400) when a key is ${USER_TAG}`,
    apply: (body) =>
      lists.some((l) => listHasKey(get(body, l), [USER_TAG])) ? refused(CREATOR_IS_FIXED) : { kind: "unchanged" },
  };
}

/** A rule that refuses a request whose path parameter `param` (a tag key) is the creator tag. */
function refusePathKey(actions: readonly string[], param: string): StampRule {
  return {
    actions,
    field: `{${param}} in the path`,
    rule: `refused (400) when it is ${USER_TAG}`,
    apply: (_body, _caller, params) => (params[param] === USER_TAG ? refused(CREATOR_IS_FIXED) : { kind: "unchanged" }),
  };
}

const GATEWAY_KEYS_ARE_MLFLOWS = `trace metadata ${GATEWAY_TRUST_KEYS.join(", ")} are MLflow's own and cannot be sent`;

/** A rule that refuses trace metadata (a `[{key, value}]` list, the v2 trace routes) naming MLflow's gateway trust keys. */
function refuseTrustKeys(actions: readonly string[], list: Field): StampRule {
  return {
    actions,
    field: `${list[0]}[].key`,
    rule: `refused (400) when a key is one of MLflow's gateway trust keys (${GATEWAY_TRUST_KEYS.join(", ")})`,
    apply: (body) =>
      listHasKey(get(body, list), GATEWAY_TRUST_KEYS) ? refused(GATEWAY_KEYS_ARE_MLFLOWS) : { kind: "unchanged" },
  };
}

/** A rule that stamps the creator entry of `[{key, value}]` lists (tags of what is being created). */
function stampTagLists(actions: readonly string[], lists: readonly Field[], path: readonly Field[] = []): StampRule {
  return {
    actions,
    field: lists.map(([n]) => [...path.map(([p]) => p), n].join(".")).join(", "),
    rule: `${USER_TAG} entry set to the caller (added when missing, every other value dropped), first in the list`,
    apply: (body, caller) => {
      const at = objectAt(body, path);
      if (at && !lists.every((l) => isTagList(get(at, l)))) return refused(MALFORMED_TAGS);
      const out = updateAt(body, path, (o) =>
        lists.reduceRight((acc, l) => putFirst(acc, l, stampTagList(get(acc, l), caller)), o),
      );
      return out === undefined ? { kind: "unchanged" } : { kind: "rewritten", body: out };
    },
  };
}

const TRACE_INFO: readonly Field[] = [["trace"], ["trace_info", "traceInfo"]];
/** AssessmentSource.SourceType, by name and number. */
const SOURCE_TYPES = ["SOURCE_TYPE_UNSPECIFIED", "HUMAN", "LLM_JUDGE", "CODE"] as const;
const HUMAN = 1;
const SOURCE_TYPE_IS_STRICT = `an assessment's source_type must be one of ${SOURCE_TYPES.join(", ")} (or its number)`;

/**
 * An assessment with a HUMAN source gets the caller as its source id; judges and code keep theirs.
 * MLflow's JSON parser takes anything `int()` reads as 1 (`"1"`, `" +01"`, `true`, `1.5`) as HUMAN, so
 * the source type must be a name or an integer the guard reads the same way; anything else is refused.
 */
function stampAssessment(assessment: Json, caller: string): { ok: true; value: Json } | { ok: false } {
  if (!isJsonObject(assessment)) return { ok: true, value: assessment };
  const source = get(assessment, ["source"]);
  if (!isJsonObject(source)) return { ok: true, value: assessment };
  const type = get(source, ["source_type", "sourceType"]);
  const number =
    type === undefined || type === null
      ? 0
      : typeof type === "string"
        ? SOURCE_TYPES.indexOf(type as (typeof SOURCE_TYPES)[number])
        : typeof type === "number" && Number.isInteger(type) && type >= 0 && type < SOURCE_TYPES.length
          ? type
          : -1;
  if (number < 0) return { ok: false };
  if (number !== HUMAN) return { ok: true, value: assessment };
  return { ok: true, value: putFirst(assessment, ["source"], putFirst(source, ["source_id", "sourceId"], caller)) };
}

/** Each record's tags stamped, every other member kept as written (MLflow hashes a record's inputs). */
function stampRecords(records: readonly (readonly RawMember[])[], caller: string): string | undefined {
  const out: string[] = [];
  for (const members of records) {
    const tagMembers = members.filter((m) => m.key === "tags");
    const last = tagMembers[tagMembers.length - 1];
    const tags = last === undefined ? { ok: true as const, value: undefined } : parseJsonText(last.valueText);
    if (!tags.ok || (tags.value !== undefined && tags.value !== null && !isJsonObject(tags.value))) return undefined;
    if ("exact" in tags && !tags.exact) return undefined;
    const stamped = JSON.stringify(stampTagMap(tags.value ?? undefined, caller));
    out.push(writeObject([{ key: "tags", valueText: stamped }, ...members.filter((m) => m.key !== "tags")]));
  }
  return `[${out.join(",")}]`;
}

/** Every rule, one per route family; docs/guard.md is written from this list. */
export const STAMP_RULES: readonly StampRule[] = [
  // An action's rules run in this order and each puts its field first: CreateRun's user_id ends up first.
  stampTagLists(["CreateRun"], [["tags"]]),
  setField(["CreateRun", "CreatePromptlabRun"], ["user_id", "userId"]),
  refuseKey(["SetTag", "DeleteTag"], ["key"]),
  refuseTagLists(["LogBatch"], [["tags"]]),
  stampTagLists(["CreateRegisteredModel", "CreateModelVersion"], [["tags"]]),
  refuseKey(
    ["SetRegisteredModelTag", "SetModelVersionTag", "DeleteRegisteredModelTag", "DeleteModelVersionTag"],
    ["key"],
  ),
  {
    actions: ["StartTraceV3"],
    field: "trace.trace_info.trace_metadata, trace.trace_info.tags, trace.trace_info.assessments[].source.source_id",
    rule: `${USER_TAG} set to the caller in the metadata and the tags; MLflow's gateway trust keys (${GATEWAY_TRUST_KEYS.join(", ")}) refused (400); a HUMAN assessment's source id set to the caller, a source type that is not an enum name or number refused (400)`,
    apply: (body, caller) => {
      const info = objectAt(body, TRACE_INFO);
      if (!info) return { kind: "unchanged" };
      if (!isTagMap(get(info, ["tags"])) || !isTagMap(get(info, ["trace_metadata", "traceMetadata"]))) {
        return refused(MALFORMED_TAGS);
      }
      if (mapHasKey(get(info, ["trace_metadata", "traceMetadata"]), GATEWAY_TRUST_KEYS)) {
        return refused(GATEWAY_KEYS_ARE_MLFLOWS);
      }
      const assessments = get(info, ["assessments"]);
      const stamped = Array.isArray(assessments) ? assessments.map((a) => stampAssessment(a, caller)) : [];
      if (stamped.some((a) => !a.ok)) return refused(SOURCE_TYPE_IS_STRICT);
      const out = updateAt(body, TRACE_INFO, (o) => {
        let next = putFirst(o, ["tags"], stampTagMap(get(o, ["tags"]), caller));
        next = putFirst(
          next,
          ["trace_metadata", "traceMetadata"],
          stampTagMap(get(o, ["trace_metadata", "traceMetadata"]), caller),
        );
        if (Array.isArray(assessments)) next = { ...next, assessments: stamped.map((a) => (a.ok ? a.value : null)) };
        return next;
      });
      return out === undefined ? { kind: "unchanged" } : { kind: "rewritten", body: out };
    },
  },
  refuseTrustKeys(["StartTrace", "EndTrace"], ["request_metadata", "requestMetadata"]),
  stampTagLists(["StartTrace"], [["request_metadata", "requestMetadata"], ["tags"]]),
  refuseTagLists(["EndTrace"], [["request_metadata", "requestMetadata"], ["tags"]]),
  refuseKey(["SetTraceTag", "SetTraceTagV3", "DeleteTraceTag", "DeleteTraceTagV3"], ["key"]),
  {
    actions: ["CreateAssessment"],
    field: "assessment.source.source_id",
    rule: "set to the caller when the source type is HUMAN (a judge's or code's id is kept); a source type that is not an enum name or number refused (400)",
    apply: (body, caller) => {
      const assessment = get(body, ["assessment"]);
      const stamped = stampAssessment(assessment ?? null, caller);
      if (!stamped.ok) return refused(SOURCE_TYPE_IS_STRICT);
      return stamped.value === (assessment ?? null) || !isJsonObject(stamped.value)
        ? { kind: "unchanged" }
        : { kind: "rewritten", body: putFirst(body, ["assessment"], stamped.value) };
    },
  },
  {
    actions: ["CreateDataset"],
    field: "tags (a JSON string)",
    rule: `${USER_TAG} in it set to the caller (MLflow makes it the dataset's created_by and last_updated_by); tags that are not a JSON object refused (400)`,
    apply: (body, caller) => {
      const tags = readJsonField(get(body, ["tags"]), true);
      if (!tags.ok || (tags.value !== undefined && !isJsonObject(tags.value)))
        return refused("tags must be a JSON object in a string");
      return { kind: "rewritten", body: putFirst(body, ["tags"], JSON.stringify(stampTagMap(tags.value, caller))) };
    },
  },
  {
    actions: ["UpsertDatasetRecords"],
    field: "records (a JSON string), each record's tags",
    rule: `${USER_TAG} in each record's tags set to the caller (MLflow makes it created_by and last_updated_by), the rest of each record kept as written; records that are not a JSON list of objects, or tags that are not an object, refused (400)`,
    apply: (body, caller) => {
      const text = get(body, ["records"]);
      const records = typeof text === "string" ? readListOfObjects(text) : undefined;
      const stamped = records === undefined ? undefined : stampRecords(records, caller);
      if (stamped === undefined)
        return refused("records must be a JSON list of objects in a string, each one's tags an object");
      return { kind: "rewritten", body: putFirst(body, ["records"], stamped) };
    },
  },
  {
    actions: ["SetDatasetTags"],
    field: "tags (a JSON string)",
    rule: `refused (400) when it names ${USER_TAG}`,
    apply: (body) => {
      const tags = readJsonField(get(body, ["tags"]), false);
      if (!tags.ok) return refused("tags must be a JSON object in a string");
      return mapHasKey(tags.value, [USER_TAG]) ? refused(CREATOR_IS_FIXED) : { kind: "unchanged" };
    },
  },
  refusePathKey(["DeleteDatasetTag"], "key"),
  stampTagLists(["CreateLoggedModel"], [["tags"]]),
  refuseTagLists(["SetLoggedModelTags"], [["tags"]]),
  refusePathKey(["DeleteLoggedModelTag"], "tag_key"),
  setField(["CreateIssue"], ["created_by", "createdBy"]),
  {
    actions: ["SetReviewQueueItemStatus"],
    field: "completed_by",
    rule: "set to the caller when the status is COMPLETE or DECLINED (removed for PENDING, as MLflow requires)",
    apply: (body, caller) => {
      const status = get(body, ["status"]);
      if (status === "PENDING" || status === 1) {
        const out = { ...body };
        delete out.completed_by;
        delete out.completedBy;
        return { kind: "rewritten", body: out };
      }
      return { kind: "rewritten", body: putFirst(body, ["completed_by", "completedBy"], caller) };
    },
  },
  setField(
    [
      "CreateGatewaySecret",
      "CreateGatewayEndpoint",
      "CreateGatewayModelDefinition",
      "AttachModelToEndpoint",
      "CreateEndpointBinding",
      "CreateBudgetPolicy",
    ],
    ["created_by", "createdBy"],
  ),
  setField(
    ["UpdateGatewaySecret", "UpdateGatewayEndpoint", "UpdateGatewayModelDefinition", "UpdateBudgetPolicy"],
    ["updated_by", "updatedBy"],
  ),
  setField(["SubmitJob"], ["username"], [["params"]]),
];

const RULES_BY_ACTION = new Map<string, StampRule[]>();
for (const rule of STAMP_RULES)
  for (const a of rule.actions) RULES_BY_ACTION.set(a, [...(RULES_BY_ACTION.get(a) ?? []), rule]);

/** Whether the guard must read an action's body (it has stamping rules). */
export function hasStampRules(action: string): boolean {
  return RULES_BY_ACTION.has(action);
}

/** Applies an action's rules in order: the first refusal wins; otherwise the body as the rules left it. */
export function stampBody(
  action: string,
  body: JsonObject,
  caller: string,
  params: Readonly<Record<string, string>> = {},
): StampOutcome {
  let current = body;
  let rewritten = false;
  for (const rule of RULES_BY_ACTION.get(action) ?? []) {
    const outcome = rule.apply(current, caller, params);
    if (outcome.kind === "refused") return outcome;
    if (outcome.kind === "rewritten") {
      current = outcome.body;
      rewritten = true;
    }
  }
  return rewritten ? { kind: "rewritten", body: current } : { kind: "unchanged" };
}
