import {
  authTypeOf,
  CatalogRoute,
  HttpMethod,
  HTTP_METHODS,
  RouteCatalog,
  RouteClass,
} from "../../authorizer/core/catalog";

/** One route as `scripts/introspect-mlflow-routes.py` prints it. */
export interface IntrospectedRoute {
  readonly source: "flask" | "fastapi";
  readonly method: string;
  readonly rule: string;
  readonly view: string;
  readonly rpc: string | null;
  readonly service: string | null;
}

export interface Introspection {
  readonly mlflowVersion: string;
  readonly routes: readonly IntrospectedRoute[];
}

/** Action names for routes without an RPC name, keyed by view (the issue names several). */
const VIEW_ACTIONS: Record<string, string> = {
  serve: "UiIndex",
  static: "UiBuildFile",
  serve_static_file: "UiStaticFile",
  health: "Health",
  version: "Version",
  _graphql: "GraphQL",
  _get_server_info: "GetServerInfo",
  get_server_info: "GetServerInfo",
  serve_artifacts: "GetArtifact",
  serve_model_version_artifact: "GetModelVersionArtifact",
  serve_get_metric_history_bulk: "GetMetricHistoryBulk",
  serve_get_metric_history_bulk_interval: "GetMetricHistoryBulkInterval",
  serve_search_datasets: "SearchDatasets",
  serve_create_promptlab_run: "CreatePromptlabRun",
  serve_gateway_proxy: "GatewayProxy",
  serve_upload_artifact: "UploadArtifact",
  serve_get_trace_artifact: "GetTraceArtifact",
  serve_get_logged_model_artifact: "GetLoggedModelArtifact",
  serve_get_ui_telemetry: "GetUiTelemetry",
  serve_post_ui_telemetry: "PostUiTelemetry",
  export_traces: "ExportOtelTraces",
  get_job: "GetJob",
  submit_job: "SubmitJob",
  cancel_job: "CancelJob",
  _cancel_job: "CancelJob",
  _get_job: "GetJob",
  search_jobs: "SearchJobs",
  invocations: "GatewayInvocations",
  raw_proxy: "GatewayRawProxy",
  list_models: "GatewayListModels",
  // Views that share a name with an RPC of another service would collide; give them their own.
  _list_artifacts_mlflow_artifacts: "ListProxiedArtifacts",
  _delete_artifact_mlflow_artifacts: "DeleteProxiedArtifact",
  download_artifact: "DownloadArtifact",
  upload_artifact: "UploadProxiedArtifact",
};

/** Classes decided one by one, with the reason a reviewer needs. */
const ACTION_CLASSES: Record<string, { class: RouteClass; note?: string }> = {
  GraphQL: { class: "read", note: "POST that only reads: MLflow's GraphQL schema has search and get fields only" },
  GetLatestVersions: { class: "read", note: "POST that only reads" },
  ListLabelSchemas: {
    class: "read",
    note: "a read that writes once: MLflow seeds an experiment's default Feedback label schema on its first list (readers keep it, the UI needs it)",
  },
  CalculateTraceFilterCorrelation: { class: "read", note: "POST that only computes over traces" },
  QueryTraceMetrics: { class: "read", note: "POST that only reads" },
  BatchGetTraceInfos: { class: "read", note: "POST that only reads" },
  CreatePresignedDownloadUrl: { class: "read", note: "POST that returns a download URL" },
  GetOrCreateUserQueue: { class: "write", note: "creates the queue when missing" },
  GetUiTelemetry: { class: "read", note: "UI telemetry settings" },
  PostUiTelemetry: { class: "read", note: "UI usage events; changes no tracking data, and every UI user sends them" },
  GatewayProxy: { class: "llm-gateway", note: "GET and POST both call out to model providers" },
  GatewayInvocations: { class: "llm-gateway" },
  GatewayRawProxy: { class: "llm-gateway" },
  GatewayListModels: { class: "llm-gateway" },
  InvokeScorer: { class: "llm-gateway", note: "runs a scorer, which may call a model provider" },
  InvokeIssueDetection: { class: "llm-gateway", note: "calls a model provider" },
  InvokeGenaiEvaluate: { class: "llm-gateway", note: "runs an evaluation that calls a model provider" },
  GenerateDemo: { class: "admin", note: "writes demo data across the server" },
  DeleteDemo: { class: "admin", note: "deletes demo data across the server" },
  UpsertOnlineScoringConfig: { class: "admin", note: "schedules scorers that call model providers" },
  GetOnlineScoringConfigs: { class: "read" },
  TransitionModelVersionStage: { class: "registry-promote" },
  SetRegisteredModelAlias: { class: "registry-promote" },
  DeleteRegisteredModelAlias: { class: "registry-promote" },
  UiIndex: { class: "static" },
  UiBuildFile: {
    class: "admin",
    note: "Flask's default static route: MLflow's own UI build, whose index.html lacks the login shell; the patched UI is served at / and /static-files/",
  },
  UiStaticFile: { class: "static" },
  Health: { class: "static" },
  Version: { class: "static" },
};

const READ_PREFIXES = ["Get", "Search", "List", "BatchGet", "Query", "Download"];
const WRITE_PREFIXES = [
  "Create",
  "Update",
  "Delete",
  "Set",
  "Log",
  "Start",
  "End",
  "Link",
  "Restore",
  "Finalize",
  "Upsert",
  "Add",
  "Remove",
  "Register",
  "Cancel",
  "Rename",
  "Upload",
  "Abort",
  "Complete",
  "Export",
  "Submit",
  "Attach",
  "Detach",
  "Resolve",
  "Patch",
  "Install",
  "Send",
  "Post",
  "Test",
];

function pascalCase(name: string): string {
  return name
    .replace(/^_+/, "")
    .replace(/_handler$/, "")
    .split(/_+/)
    .map((w) => (w.length > 0 ? (w[0] as string).toUpperCase() + w.slice(1) : w))
    .join("");
}

export function actionName(route: IntrospectedRoute): string {
  if (route.rpc) return (route.rpc[0] as string).toUpperCase() + route.rpc.slice(1);
  const known = VIEW_ACTIONS[route.view];
  if (known) return known;
  if (route.rule.startsWith("/ajax-api/3.0/mlflow/assistant/")) return `Assistant${pascalCase(route.view)}`;
  if (route.rule.startsWith("/gateway/")) return `Gateway${pascalCase(route.view)}`;
  return pascalCase(route.view);
}

function startsWithWord(action: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => action.startsWith(p) && /^[A-Z0-9]|^$/.test(action.slice(p.length)));
}

/** Decides a route's class, or explains why it needs a human decision. */
export function classifyRoute(
  route: IntrospectedRoute,
  action: string,
): { class: RouteClass; note?: string } | { error: string } {
  const explicit = ACTION_CLASSES[action];
  if (explicit) return explicit;
  const path = route.rule;
  // Server-wide configuration and agents that act on the host: admins only, whatever the verb.
  if (/\/mlflow\/gateway\//.test(path))
    return { class: "admin", note: "AI gateway configuration (secrets, endpoints, budgets)" };
  if (path.startsWith("/gateway/")) return { class: "llm-gateway" };
  if (/\/(mlflow\/)?webhooks(\/|$)/.test(path)) return { class: "admin", note: "webhooks call out to any URL" };
  if (/\/mlflow\/workspaces(\/|$)/.test(path)) return { class: "admin" };
  if (/\/ajax-api\/3\.0\/(mlflow\/)?jobs(\/|$)/.test(path) || /\/prompt-optimization\/jobs/.test(path)) {
    return { class: "admin", note: "server-side jobs" };
  }
  if (path.includes("/mlflow/assistant/"))
    return { class: "admin", note: "the assistant runs tools on the server host" };
  const read = startsWithWord(action, READ_PREFIXES);
  if (path.includes("/mlflow/mcp-servers")) {
    return read ? { class: "read" } : { class: "admin", note: "MCP server registry: configures tool access" };
  }
  if (read) return { class: "read" };
  if (!startsWithWord(action, WRITE_PREFIXES)) {
    return { error: `no rule classifies ${route.method} ${path} (action ${action}); add it to ACTION_CLASSES` };
  }
  if (route.service === "ModelRegistryService") return { class: "registry-write" };
  return { class: "write" };
}

/** Flask `<x>`/`<path:x>` and Starlette `{x}`/`{x:path}` to API Gateway style `{x}`/`{x+}`. */
export function toPathTemplate(rule: string): string {
  return rule
    .replace(/<path:([A-Za-z_][A-Za-z0-9_]*)>/g, "{$1+}")
    .replace(/<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>/g, "{$1}")
    .replace(/\{([A-Za-z_][A-Za-z0-9_]*):path\}/g, "{$1+}")
    .replace(/\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}/g, "{$1}");
}

/**
 * Turns the introspected routes into the catalog: one entry per (method, path), FastAPI routes first
 * in their order (they shadow Flask's). Throws with every route that needs a decision.
 */
export function buildRouteCatalog(introspection: Introspection): RouteCatalog {
  const problems: string[] = [];
  const routes: CatalogRoute[] = [];
  const seen = new Set<string>();
  const ordered = [
    ...introspection.routes.filter((r) => r.source === "fastapi"),
    ...introspection.routes.filter((r) => r.source === "flask"),
  ];
  for (const r of ordered) {
    if (!(HTTP_METHODS as readonly string[]).includes(r.method)) {
      problems.push(`${r.method} ${r.rule}: unsupported method`);
      continue;
    }
    const path = toPathTemplate(r.rule);
    const id = `${r.method} ${path}`;
    if (seen.has(id)) continue; // shadowed by a FastAPI route, or registered twice in Flask (first wins)
    seen.add(id);
    const action = actionName(r);
    const decided = classifyRoute(r, action);
    if ("error" in decided) {
      problems.push(decided.error);
      continue;
    }
    routes.push({
      method: r.method as HttpMethod,
      path,
      action,
      class: decided.class,
      auth: authTypeOf(path, decided.class),
      source: r.source,
      ...(decided.note ? { note: decided.note } : {}),
    });
  }
  if (problems.length > 0) throw new Error(`routes that need a decision:\n  ${problems.join("\n  ")}`);
  return { mlflowVersion: introspection.mlflowVersion, routes };
}
