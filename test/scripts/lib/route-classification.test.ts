import {
  actionName,
  buildRouteCatalog,
  classifyRoute,
  toPathTemplate,
} from "../../../scripts/lib/route-classification";

const route = (over: Partial<Parameters<typeof actionName>[0]>) => ({
  source: "flask" as const,
  method: "POST",
  rule: "/ajax-api/2.0/mlflow/x",
  view: "_x",
  rpc: null,
  service: null,
  ...over,
});

describe("route classification", () => {
  test("router syntaxes become API Gateway templates", () => {
    expect(toPathTemplate("/a/<path:artifact_path>")).toBe("/a/{artifact_path+}");
    expect(toPathTemplate("/t/<trace_id>/tags")).toBe("/t/{trace_id}/tags");
    expect(toPathTemplate("/m/{name:path}/v/{version}")).toBe("/m/{name+}/v/{version}");
  });

  test("RPC names win; named views and generic views get clear names", () => {
    expect(actionName(route({ rpc: "searchRuns" }))).toBe("SearchRuns");
    expect(actionName(route({ view: "_graphql" }))).toBe("GraphQL");
    expect(actionName(route({ view: "serve_gateway_proxy" }))).toBe("GatewayProxy");
    expect(actionName(route({ view: "_list_widgets_handler" }))).toBe("ListWidgets");
  });

  test("reads that are POSTs, promotions, registry writes and admin areas", () => {
    expect(classifyRoute(route({ rpc: "searchRuns" }), "SearchRuns")).toEqual({ class: "read" });
    expect(classifyRoute(route({}), "GetLatestVersions")).toMatchObject({ class: "read" });
    expect(classifyRoute(route({}), "TransitionModelVersionStage")).toMatchObject({ class: "registry-promote" });
    expect(classifyRoute(route({ service: "ModelRegistryService" }), "CreateModelVersion")).toEqual({
      class: "registry-write",
    });
    expect(classifyRoute(route({ rule: "/ajax-api/2.0/mlflow/webhooks" }), "ListWebhooks")).toMatchObject({
      class: "admin",
    });
    expect(
      classifyRoute(route({ method: "GET", rule: "/ajax-api/2.0/mlflow/gateway-proxy" }), "GatewayProxy"),
    ).toMatchObject({ class: "llm-gateway" });
  });

  test("a route no rule can decide stops the generation with a reason", () => {
    expect(classifyRoute(route({}), "FrobnicateEverything")).toEqual({
      error: expect.stringMatching(/no rule classifies POST .* FrobnicateEverything/),
    });
    expect(() =>
      buildRouteCatalog({ mlflowVersion: "9.9.9", routes: [route({ view: "_frobnicate_everything" })] }),
    ).toThrow(/need a decision/);
  });
});
