import { CatalogRoute, readPathParameters } from "../authorizer/core/catalog";
import type { Stage } from "../authorizer/core/promotion";
import type { Caller } from "./caller";
import { isJsonObject, Json, JsonObject } from "./json-body";
import type { VersionFacts } from "./promotion";
import { PromotionAction, readPromotionRequest, RegistryChangeAction } from "./promotion-request";

/**
 * The audit trail: one JSON line per write MLflow answered and per refusal (reads too when switched
 * on), naming who, what, on which resources, and the outcome. Pure: the server hands the record to a
 * sink (a file locally, the container's log stream on AWS).
 */
export interface AuditResources {
  experiment?: string;
  experimentName?: string;
  run?: string;
  model?: string;
  /** A rename's new name (`new_name`); `model` stays the name it had. */
  newModel?: string;
  version?: string;
  stage?: string;
  alias?: string;
  tag?: string;
  trace?: string;
  loggedModel?: string;
  dataset?: string;
  artifactPath?: string;
}

/**
 * What a promotion (TransitionModelVersionStage, SetRegisteredModelAlias, DeleteRegisteredModelAlias) or a
 * registry change decided with the same rules (DeleteModelVersion, DeleteRegisteredModel, RenameRegisteredModel)
 * asked, as the guard read it to decide, and what it knew of the version: `mlflow-gate audit --model` lists them.
 */
export interface AuditPromotion {
  readonly kind: "transition" | "set-alias" | "delete-alias" | "delete-version" | "delete-model" | "rename";
  /** The stage asked for, as MLflow reads it (`production` is `Production`); `resources.stage` keeps the spelling sent. */
  readonly to?: Stage;
  /** The version's stage when the guard looked it up, before the transition (or the deletion). */
  readonly from?: Stage;
  /** `archive_existing_versions`, when it was asked for. */
  readonly archiveExisting?: true;
  readonly alias?: string;
  /** The version's creator as the guard stamped it (what the two-person rule compares), when the guard looked. */
  readonly creator?: string;
  /** Why the guard refused it: the rule and the group files, as the 403 said. */
  readonly message?: string;
}

export interface AuditRecord {
  readonly time: string;
  readonly level: "info" | "warn";
  readonly component: "guard";
  readonly event: "audit";
  /** API Gateway's request id (x-mlflow-gate-request-id: its extendedRequestId), else the guard's own. */
  readonly requestId: string;
  readonly surface?: "iam" | "cognito";
  readonly principal?: string;
  readonly username?: string;
  readonly groups?: readonly string[];
  /** The name stamped on what the caller creates. */
  readonly caller?: string;
  /** The address the caller reached API Gateway from (x-mlflow-gate-source-ip: `context.identity.sourceIp`). */
  readonly sourceIp?: string;
  readonly action: string;
  readonly method: string;
  /** The path as the guard received it (with teams, `/ws/<team>/...`). */
  readonly path: string;
  /** With teams: the request's team, the MLflow workspace it acted in. */
  readonly workspace?: string;
  readonly resources: AuditResources;
  /** On the promotion routes, once the guard read the request. */
  readonly promotion?: AuditPromotion;
  readonly status: number;
  readonly decision: "forwarded" | "refused";
  /** Why a request was refused (a short code), or why an answer is odd. */
  readonly reason?: string;
  readonly latencyMs: number;
}

/** What a request's audit line says of it, besides the caller. */
type RequestFields = Pick<
  AuditRecord,
  | "requestId"
  | "action"
  | "method"
  | "path"
  | "workspace"
  | "resources"
  | "promotion"
  | "status"
  | "decision"
  | "reason"
  | "latencyMs"
>;

/** The audit line of a request. */
export function buildAuditRecord(
  fields: RequestFields & { readonly now: Date; readonly caller?: Caller },
): AuditRecord {
  const refused = fields.decision === "refused";
  const c = fields.caller;
  return {
    time: fields.now.toISOString(),
    level: refused ? "warn" : "info",
    component: "guard",
    event: "audit",
    requestId: fields.requestId,
    ...(c
      ? {
          surface: c.surface,
          principal: c.principal,
          username: c.username,
          groups: c.groups,
          caller: c.name,
          sourceIp: c.sourceIp,
        }
      : {}),
    action: fields.action,
    method: fields.method,
    path: fields.path,
    ...(fields.workspace !== undefined ? { workspace: fields.workspace } : {}),
    resources: fields.resources,
    ...(fields.promotion !== undefined ? { promotion: fields.promotion } : {}),
    status: fields.status,
    decision: fields.decision,
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
    latencyMs: fields.latencyMs,
  };
}

/** Request fields (either spelling) that name a resource. */
const REQUEST_FIELDS: readonly (readonly [keyof AuditResources, readonly string[]])[] = [
  ["experiment", ["experiment_id", "experimentId"]],
  ["run", ["run_id", "runId", "run_uuid", "runUuid"]],
  ["version", ["version"]],
  ["stage", ["stage"]],
  ["alias", ["alias"]],
  ["tag", ["key"]],
  ["trace", ["trace_id", "traceId", "request_id", "requestId"]],
  ["loggedModel", ["model_id", "modelId"]],
  ["dataset", ["dataset_id", "datasetId"]],
];

/** Path parameters (catalog template names) that name a resource. */
const PATH_PARAMETERS: Readonly<Record<string, keyof AuditResources>> = {
  trace_id: "trace",
  request_id: "trace",
  model_id: "loggedModel",
  dataset_id: "dataset",
  experiment_id: "experiment",
  run_id: "run",
  tag_key: "tag",
  key: "tag",
  artifact_path: "artifactPath",
};

const text = (v: Json | undefined): string | undefined =>
  typeof v === "string" ? v.slice(0, 512) : typeof v === "number" ? String(v) : undefined;

/** The resources a request names: in its path parameters, its query, and its JSON body. */
export function requestResources(
  route: Pick<CatalogRoute, "path"> | undefined,
  path: string,
  query: URLSearchParams,
  body: JsonObject | undefined,
): AuditResources {
  const out: AuditResources = {};
  const fields: Record<string, Json | undefined> = { ...Object.fromEntries(query), ...(body ?? {}) };
  for (const [resource, names] of REQUEST_FIELDS) {
    const value = names.map((n) => text(fields[n])).find((v) => v !== undefined);
    if (value !== undefined) out[resource] = value;
  }
  const name = text(fields.name);
  if (name !== undefined) {
    if (/\/(registered-models|model-versions)\//.test(path)) out.model = name;
    else if (/\/experiments\//.test(path)) out.experimentName = name;
  }
  // The proto name only: MLflow reads no other (and the guard refuses `newName` beside it).
  const newName = text(fields.new_name);
  if (newName !== undefined && /\/registered-models\//.test(path)) out.newModel = newName;
  if (route) {
    for (const [param, value] of Object.entries(readPathParameters(route.path, path))) {
      const resource = PATH_PARAMETERS[param];
      if (resource !== undefined) out[resource] = value.slice(0, 1024);
    }
  }
  return out;
}

/**
 * A request's resources with those MLflow's answer adds. The request's model stands: a rename is answered with
 * the new name, which the line keeps as `newModel`.
 */
export function mergeResources(requested: AuditResources, answered: AuditResources): AuditResources {
  return { ...requested, ...answered, ...(requested.model !== undefined ? { model: requested.model } : {}) };
}

/** The resources MLflow assigned, from its JSON answer to a create. */
export function responseResources(body: unknown): AuditResources {
  if (!isJsonObject(body)) return {};
  const at = (...keys: string[]): Json | undefined => {
    let v: Json | undefined = body;
    for (const k of keys) v = isJsonObject(v) ? v[k] : undefined;
    return v;
  };
  const candidates: [keyof AuditResources, Json | undefined][] = [
    ["experiment", at("experiment_id") ?? at("run", "info", "experiment_id")],
    ["run", at("run", "info", "run_id")],
    ["model", at("registered_model", "name") ?? at("model_version", "name")],
    ["version", at("model_version", "version")],
    ["stage", at("model_version", "current_stage")],
    ["loggedModel", at("model", "info", "model_id")],
    ["trace", at("trace", "trace_info", "trace_id") ?? at("trace_info", "request_id")],
    ["dataset", at("dataset", "dataset_id")],
  ];
  const out: AuditResources = {};
  for (const [resource, value] of candidates) {
    const t = text(value);
    if (t !== undefined) out[resource] = t;
  }
  return out;
}

const PROMOTION_KINDS: Readonly<Record<PromotionAction, AuditPromotion["kind"]>> = {
  TransitionModelVersionStage: "transition",
  SetRegisteredModelAlias: "set-alias",
  DeleteRegisteredModelAlias: "delete-alias",
};

/**
 * The promotion a request asked for, read as the guard decides it (an unreadable request: its kind and the
 * refusal only), with what the guard learnt of the version and, on a refusal, its message.
 */
export function auditPromotion(
  action: PromotionAction,
  body: JsonObject | undefined,
  facts: Pick<VersionFacts, "stage" | "creator"> | undefined,
  message?: string,
): AuditPromotion {
  const read = readPromotionRequest(action, body ?? {});
  const request = read.ok ? read.target.request : undefined;
  return {
    kind: PROMOTION_KINDS[action],
    ...(request?.kind === "transition"
      ? { to: request.to, ...(request.archiveExisting ? { archiveExisting: true as const } : {}) }
      : {}),
    ...(facts !== undefined ? { from: facts.stage } : {}),
    ...(request !== undefined && request.kind !== "transition" ? { alias: request.alias.slice(0, 512) } : {}),
    ...(facts?.creator !== undefined ? { creator: facts.creator.slice(0, 512) } : {}),
    ...(message !== undefined ? { message: message.slice(0, 2048) } : {}),
  };
}

const REGISTRY_CHANGE_KINDS: Readonly<Record<RegistryChangeAction, AuditPromotion["kind"]>> = {
  DeleteModelVersion: "delete-version",
  DeleteRegisteredModel: "delete-model",
  RenameRegisteredModel: "rename",
};

/**
 * A registry change decided with the promotion rules: its kind, for a version's deletion what the guard learnt
 * of the version, and on a refusal its message (the model, the version and the new name are in the resources).
 */
export function auditRegistryChange(
  action: RegistryChangeAction,
  facts: Pick<VersionFacts, "stage" | "creator"> | undefined,
  message?: string,
): AuditPromotion {
  const version = action === "DeleteModelVersion" ? facts : undefined;
  return {
    kind: REGISTRY_CHANGE_KINDS[action],
    ...(version !== undefined ? { from: version.stage } : {}),
    ...(version?.creator !== undefined ? { creator: version.creator.slice(0, 512) } : {}),
    ...(message !== undefined ? { message: message.slice(0, 2048) } : {}),
  };
}
