import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { CDK_FLAGS } from "../support/cdk-flags";
import { tmpdir } from "os";
import { join } from "path";
import { App, CfnElement, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { DEPLOYED_PLACEHOLDERS, renderApiDefinition } from "../../../authorizer/core/api-definition";
import { CatalogRoute, parsePathTemplate } from "../../../authorizer/core/catalog";
import { CatalogError, ConfigError } from "../../../authorizer/core/errors";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { parseInfraConfig } from "../../../infra/config";
import {
  AmplifyMlflowStack,
  buildUiRewrites,
  SPA_FALLBACK,
  UiRewrite,
} from "../../../infra/stacks/amplify-mlflow-stack";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { thrownBy } from "../../support/errors";
import { flatTemplate } from "../support/template";
import { patchedUiLayout } from "../support/ui-directory";

const env = { account: "123456789012", region: "us-east-1" };
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const config = parseInfraConfig({ ...env }, new Set(policySet.groups.keys()));
const BASE = "https://API_ID.execute-api.us-east-1.amazonaws.com/prod";
const UI_DIRECTORY = patchedUiLayout();
/** The API definition of some routes, as RestApiGatewayStack renders it. */
const definitionOf = (routes: readonly CatalogRoute[]) =>
  renderApiDefinition(routes, { ...DEPLOYED_PLACEHOLDERS, version: "1" }).definition;
const API_DEFINITION = definitionOf(policySet.catalog.routes);
afterAll(() => rmSync(UI_DIRECTORY, { recursive: true, force: true }));

/**
 * Amplify's rule matching, as its redirects guide describes it: rules apply top-down and the first whose
 * source matches the request path wins; a source in `</.../>` is a regular expression; otherwise `<*>`
 * matches the rest of the path (slashes included) and `<name>` one segment, and the target gets the
 * same `<*>` / `<name>` values.
 */
function amplifyRewrite(rules: readonly UiRewrite[], path: string): { rule: UiRewrite; target: string } | undefined {
  for (const rule of rules) {
    if (rule.source.startsWith("</") && rule.source.endsWith("/>")) {
      if (new RegExp(rule.source.slice(2, -2)).test(path)) return { rule, target: rule.target };
      continue;
    }
    const names: string[] = [];
    const pattern = rule.source
      .split(/(<[^>]+>)/)
      .map((part) => {
        const placeholder = /^<([^>]+)>$/.exec(part);
        if (!placeholder) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(placeholder[1] as string);
        return placeholder[1] === "*" ? "(.*)" : "([^/]+)";
      })
      .join("");
    const m = new RegExp(`^${pattern}$`).exec(path);
    if (!m) continue;
    let target = rule.target;
    names.forEach((n, i) => (target = target.split(`<${n}>`).join(m[i + 1] as string)));
    return { rule, target };
  }
  return undefined;
}

/** A concrete request path of a route template, with sample values unlike the stack's own helper's. */
function requestPath(route: Pick<CatalogRoute, "path">): string {
  return parsePathTemplate(route.path)
    .map((p) => (p.kind === "literal" ? p.text : p.kind === "segment" ? "s-42" : "deep/er/file.json"))
    .join("");
}

/** The app with cdk-nag, a stand-in API stack and the stack under test. */
function build(props: { uiDirectory?: string; stageName?: string } = {}) {
  const app = new App({ context: CDK_FLAGS });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const shared = new Stack(app, "StandIn", { env });
  const api = new apigw.RestApi(shared, "Api", { cloudWatchRole: false });
  api.root.addMethod("GET", new apigw.MockIntegration(), { authorizationType: apigw.AuthorizationType.IAM });
  for (const id of [
    "AwsSolutions-APIG1",
    "AwsSolutions-APIG2",
    "AwsSolutions-APIG3",
    "AwsSolutions-APIG6",
    "AwsSolutions-COG4",
  ]) {
    Validations.of(shared).acknowledge({ id, reason: "test stand-in for the API stack" });
  }
  const stack = new AmplifyMlflowStack(app, "Ui", {
    env,
    config,
    policySet,
    api,
    apiDefinition: API_DEFINITION,
    stageName: props.stageName ?? "prod",
    uiDirectory: props.uiDirectory ?? UI_DIRECTORY,
  });
  return { app, stack };
}

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

const flat = (value: unknown): unknown => flatTemplate(value);

const only = (template: Template, type: string): Resource => {
  const all = Object.values(template.findResources(type)) as Resource[];
  expect(all).toHaveLength(1);
  return all[0] as Resource;
};

describe("buildUiRewrites over the real catalog's API definition", () => {
  const rules = buildUiRewrites(API_DEFINITION, policySet.catalog.routes, BASE);

  test("collapses the API's browser paths to six proxy rules, then the SPA fallback", () => {
    expect(rules.map((r) => r.source)).toEqual([
      "/ajax-api/<*>",
      // MLflow's unpatched build: an admin route, so a browser gets the API's 401, as locally.
      "/build/<*>",
      "/get-artifact",
      "/graphql",
      // The shell's config: the API's MOCK.
      "/mlflow-gate-ui.json",
      "/model-versions/<*>",
      SPA_FALLBACK.source,
    ]);
    expect(rules.at(-1)).toEqual({ source: SPA_FALLBACK.source, target: "/index.html", status: "200" });
    for (const r of rules.slice(0, -1)) expect(r.status).toBe("200");
  });

  const uiRoutes = policySet.catalog.routes.filter((r) => r.auth === "cognito");
  test.each(uiRoutes.map((r) => [r.method, r.path, r]))(
    "%s %s is proxied to the same path of the API stage",
    (_m, _p, route) => {
      const path = requestPath(route as CatalogRoute);
      const hit = amplifyRewrite(rules, path);
      expect(hit?.rule).not.toBe(SPA_FALLBACK);
      expect(hit?.target).toBe(`${BASE}${path}`);
    },
  );

  test("SDK routes (IAM) are never proxied: Amplify is no way around SigV4", () => {
    for (const route of policySet.catalog.routes.filter((r) => r.auth === "iam")) {
      const hit = amplifyRewrite(rules, requestPath(route));
      expect(hit === undefined || hit.rule === SPA_FALLBACK).toBe(true);
    }
  });

  test("the UI's own files are served, not proxied; app paths fall back to index.html", () => {
    expect(amplifyRewrite(rules, "/static-files/static/js/main.0a1b2c.js")).toBeUndefined();
    expect(amplifyRewrite(rules, "/static-files/favicon.ico")).toBeUndefined();
    expect(amplifyRewrite(rules, "/")?.target).toBe("/index.html");
    expect(amplifyRewrite(rules, "/experiments/1/runs/abc")?.target).toBe("/index.html");
    for (const route of policySet.catalog.routes.filter((r) => r.auth === "none")) {
      const hit = amplifyRewrite(rules, requestPath(route));
      expect(hit === undefined || hit.rule === SPA_FALLBACK).toBe(true);
    }
  });

  test("a prefix that would swallow a public route is refused", () => {
    const routes: CatalogRoute[] = [
      {
        method: "GET",
        path: "/static-files/{path+}",
        action: "UiStaticFile",
        class: "static",
        auth: "none",
        source: "flask",
      },
      {
        method: "GET",
        path: "/static-files/secret",
        action: "Secret",
        class: "read",
        auth: "cognito",
        source: "flask",
      },
    ];
    expect(thrownBy(() => buildUiRewrites(definitionOf(routes), routes, BASE), CatalogError).message).toContain(
      "/static-files/<*>",
    );
  });

  test("a route that is its own first segment gets an exact rule, deeper ones a prefix rule", () => {
    const routes: CatalogRoute[] = [
      { method: "GET", path: "/graphql", action: "GraphQL", class: "read", auth: "cognito", source: "flask" },
      { method: "GET", path: "/graphql/v2/{x}", action: "GraphQLTwo", class: "read", auth: "cognito", source: "flask" },
    ];
    expect(buildUiRewrites(definitionOf(routes), routes, BASE).map((r) => r.source)).toEqual([
      "/graphql/<*>",
      "/graphql",
      "/mlflow-gate-ui.json",
      SPA_FALLBACK.source,
    ]);
  });
});

describe("buildUiRewrites with teams (MLflow under /ws/{workspace}/)", () => {
  const definition = renderApiDefinition(policySet.catalog.routes, {
    ...DEPLOYED_PLACEHOLDERS,
    version: "1",
    workspaces: true,
  }).definition;
  const rules = buildUiRewrites(definition, policySet.catalog.routes, BASE, ["team-a", "default"]);

  test("each named workspace's UI API paths go to the same path of the API", () => {
    for (const w of ["team-a", "default"])
      expect(amplifyRewrite(rules, `/ws/${w}/ajax-api/2.0/mlflow/runs/search`)?.target).toBe(
        `${BASE}/ws/${w}/ajax-api/2.0/mlflow/runs/search`,
      );
    expect(amplifyRewrite(rules, "/mlflow-gate-ui.json")?.target).toBe(`${BASE}/mlflow-gate-ui.json`);
  });

  test("the UI's files under /ws/<workspace>/ are the app's own; the workspace's page and deep links get the shell", () => {
    expect(amplifyRewrite(rules, "/ws/team-a/static-files/static/js/main.abc.js")?.target).toBe(
      "/static-files/static/js/main.abc.js",
    );
    expect(amplifyRewrite(rules, "/ws/team-a/")?.rule).toEqual(SPA_FALLBACK);
    expect(amplifyRewrite(rules, "/ws/team-a/experiments")?.rule).toEqual(SPA_FALLBACK);
  });

  test("nothing at the root and nothing of another workspace is proxied", () => {
    expect(amplifyRewrite(rules, "/ajax-api/2.0/mlflow/runs/search")?.rule).toEqual(SPA_FALLBACK);
    expect(amplifyRewrite(rules, "/ws/team-b/ajax-api/2.0/mlflow/runs/search")?.rule).toEqual(SPA_FALLBACK);
  });

  test("an API with workspaces and no workspace names, or a name that is no team, is refused", () => {
    expect(thrownBy(() => buildUiRewrites(definition, policySet.catalog.routes, BASE), CatalogError).message).toContain(
      "the rewrites need the workspaces' names",
    );
    expect(
      thrownBy(() => buildUiRewrites(definition, policySet.catalog.routes, BASE, ["Team_A"]), CatalogError).message,
    ).toContain('workspace "Team_A" is not a team name');
  });
});

describe("AmplifyMlflowStack", () => {
  const { app, stack } = build();
  const template = Template.fromStack(stack);

  test("a WEB app without a repository whose custom rules are the rewrites, with the API's real URL", () => {
    const props = only(template, "AWS::Amplify::App").Properties;
    expect(props.Platform).toBe("WEB");
    expect(props).not.toHaveProperty("Repository");
    expect(props).not.toHaveProperty("AccessToken");
    expect(props).not.toHaveProperty("OauthToken");
    const rules = flat(props.CustomRules) as { Source: string; Target: string; Status: string }[];
    expect(rules).toEqual(
      buildUiRewrites(API_DEFINITION, policySet.catalog.routes, BASE).map((r) => ({
        Source: r.source,
        Target: r.target,
        Status: r.status,
      })),
    );
    expect(rules).toContainEqual({
      Source: "/mlflow-gate-ui.json",
      Target: `${BASE}/mlflow-gate-ui.json`,
      Status: "200",
    });
    expect(stack.rewrites.map((r) => r.source)).toEqual(rules.map((r) => r.Source));
    expect(rules.at(-1)?.Target).toBe("/index.html");
  });

  test("branch main, production, no auto build", () => {
    const branch = only(template, "AWS::Amplify::Branch").Properties;
    expect(branch).toMatchObject({ BranchName: "main", Stage: "PRODUCTION", EnableAutoBuild: false });
    expect(flat(branch.AppId)).toBe("<App.AppId>");
  });

  test("the UI is a zipped asset of the given directory", () => {
    expect(stack.uiAsset.isZipArchive).toBe(true);
    expect(stack.uiAsset.assetPath).toBeDefined();
    expect(readFileSync(join(UI_DIRECTORY, "index.html"), "utf8")).toContain("MLflow");
  });

  test("the shell's config is proxied to the API before any other rule (Amplify applies the first match)", () => {
    const hit = amplifyRewrite(
      stack.rewrites.map((r) => ({ ...r, target: r.target.replace(/^https:\/\/.*\/prod/, BASE) })),
      "/mlflow-gate-ui.json",
    );
    expect(hit?.target).toBe(`${BASE}/mlflow-gate-ui.json`);
  });

  test("the zip is copied into the source bucket, then deployed with amplify:StartDeployment from there", () => {
    const calls = Object.entries(template.findResources("Custom::AWS") as Record<string, Resource>).map(([id, r]) => ({
      id,
      r,
      call: JSON.parse(flat(r.Properties.Create) as string),
    }));
    const copy = calls.find((c) => c.call.action === "copyObject");
    const start = calls.find((c) => c.call.action === "startDeployment");
    const key = `ui/${stack.uiAsset.assetHash}.zip`;
    const bucket = `<ref ${stack.getLogicalId(stack.sourceBucket.node.defaultChild as never)}>`;
    expect(copy?.call.parameters).toEqual({
      Bucket: bucket,
      Key: key,
      CopySource: `${stack.uiAsset.s3BucketName}/${stack.uiAsset.s3ObjectKey}`,
    });
    expect(start?.call).toMatchObject({
      service: "Amplify",
      parameters: {
        appId: "<App.AppId>",
        branchName: "main",
        sourceUrl: `s3://${bucket}/${key}`,
        sourceUrlType: "ZIP",
      },
    });
    expect(start?.r.DependsOn).toEqual(expect.arrayContaining([copy?.id, stack.getLogicalId(stack.branch)]));
  });

  test("only this app's branch, through Amplify, may read the source bucket; no one without TLS", () => {
    const doc = flat(only(template, "AWS::S3::BucketPolicy").Properties.PolicyDocument) as {
      Statement: { Sid?: string; Effect: string; Principal: unknown; Condition: unknown }[];
    };
    const allows = doc.Statement.filter((s) => s.Effect === "Allow");
    expect(allows.map((s) => s.Principal)).toEqual([
      { Service: "amplify.amazonaws.com" },
      { Service: "amplify.amazonaws.com" },
    ]);
    for (const s of allows) {
      expect(s.Condition).toMatchObject({
        StringEquals: {
          "aws:SourceAccount": "123456789012",
          "aws:SourceArn": "arn%3Aaws%3Aamplify%3Aus-east-1%3A123456789012%3Aapps%2F<App.AppId>%2Fbranches%2Fmain",
        },
      });
    }
    expect(
      doc.Statement.some(
        (s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes('"aws:SecureTransport":"false"'),
      ),
    ).toBe(true);
  });

  test("the deployer may start deployments of this branch, and read their jobs, only", () => {
    const statements = Object.values(template.findResources("AWS::IAM::Policy") as Record<string, Resource>).flatMap(
      (p) => (flat(p.Properties.PolicyDocument) as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    );
    const amplifyCalls = statements.filter((s) => String(s.Action).startsWith("amplify:"));
    expect(amplifyCalls).toEqual([
      expect.objectContaining({
        Action: "amplify:StartDeployment",
        Resource: [
          "arn:aws:amplify:us-east-1:123456789012:apps/<App.AppId>/branches/main",
          "arn:aws:amplify:us-east-1:123456789012:apps/<App.AppId>/branches/main/jobs/*",
        ],
      }),
      expect.objectContaining({
        Action: "amplify:GetJob",
        Resource: "arn:aws:amplify:us-east-1:123456789012:apps/<App.AppId>/branches/main/jobs/*",
      }),
    ]);
    for (const s of statements) expect(s.Resource).not.toEqual("*");
  });

  test("the deploy waits for the Amplify job: a custom resource over the started job, checked every 15 s for 20 minutes", () => {
    const [wait, ...others] = Object.values(template.findResources("Custom::AmplifyDeploymentJob")) as Resource[];
    expect(others).toEqual([]);
    expect(flat(wait!.Properties)).toMatchObject({
      AppId: "<App.AppId>",
      BranchName: "main",
      JobId: expect.stringMatching(/^<Deployment[0-9A-F]*\.jobSummary\.jobId>$/),
    });
    // The handlers: Node.js 22 from infra/lambda/amplify-job.ts, run as the deployer's role
    const handlers = Object.values(template.findResources("AWS::Lambda::Function") as Record<string, Resource>).filter(
      (f) => ["index.onEvent", "index.isComplete"].includes(String(f.Properties.Handler)),
    );
    const deployer = `<${stack.getLogicalId(stack.deployerRole.node.defaultChild as CfnElement)}.Arn>`;
    expect(handlers.map((h) => [h.Properties.Handler, h.Properties.Runtime, flat(h.Properties.Role)]).sort()).toEqual([
      ["index.isComplete", "nodejs22.x", deployer],
      ["index.onEvent", "nodejs22.x", deployer],
    ]);
    // The framework's waiter: its state machine retries isComplete every 15 s, 80 times (20 minutes)
    const [machine] = Object.values(template.findResources("AWS::StepFunctions::StateMachine")) as Resource[];
    const definition = JSON.parse(flat(machine!.Properties.DefinitionString) as string) as {
      States: Record<string, { Retry?: { IntervalSeconds: number; MaxAttempts: number }[] }>;
    };
    expect(definition.States["framework-isComplete-task"]?.Retry?.[0]).toMatchObject({
      IntervalSeconds: 15,
      MaxAttempts: 80,
    });
  });

  test("cdk-nag passes", () => {
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});

describe("AmplifyMlflowStack validation", () => {
  test("a UI directory without index.html is refused, and so is a stage other than the configured one", () => {
    const empty = mkdtempSync(join(tmpdir(), "ui-"));
    try {
      const error = thrownBy(() => build({ uiDirectory: empty, stageName: "dev" }), ConfigError);
      expect(error.message).toContain("has no index.html");
      expect(error.message).toContain("stageName dev differs from the configured stage prod");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("MLflow's own UI (no login shell) is refused: it would reach the API without tokens", () => {
    const unpatched = mkdtempSync(join(tmpdir(), "ui-"));
    try {
      writeFileSync(join(unpatched, "index.html"), "<!doctype html>");
      expect(thrownBy(() => build({ uiDirectory: unpatched }), ConfigError).message).toContain(
        "is not the patched UI (no static-files/mlflow-gate/shell.js): build it with npm run build:ui",
      );
    } finally {
      rmSync(unpatched, { recursive: true, force: true });
    }
  });

  test("a UI built with a config of its own (e.g. the local pool's) is refused", () => {
    const local = patchedUiLayout({ "mlflow-gate-ui.json": '{"userPoolEndpoint":"http://127.0.0.1:9229"}' });
    try {
      expect(thrownBy(() => build({ uiDirectory: local }), ConfigError).message).toContain(
        "has its own mlflow-gate-ui.json",
      );
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});
