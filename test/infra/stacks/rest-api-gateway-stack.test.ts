import { App, Stack, Validations } from "aws-cdk-lib";
import { CDK_FLAGS } from "../support/cdk-flags";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import { CloudAssembly } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEPLOYED_PLACEHOLDERS, SECURITY_SCHEMES, STREAMED_ACTIONS } from "../../../authorizer/core/api-definition";
import { CatalogRoute, HttpMethod } from "../../../authorizer/core/catalog";
import { CatalogError, ConfigError } from "../../../authorizer/core/errors";
import { PolicySet } from "../../../authorizer/core/policy-set";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { InfraConfig, parseInfraConfig } from "../../../infra/config";
import { buildApiRouteTree, DEFAULT_MAX_API_RESOURCES } from "../../../authorizer/core/api-routes";
import { RestApiGatewayStack, RestApiGatewayStackProps } from "../../../infra/stacks/rest-api-gateway-stack";
import { API_DEFINITION_FILE, CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { thrownBy } from "../../support/errors";
import { CfnProperties, flatTemplate } from "../support/template";

// RestApiGatewayStack synthesized once as the app does it (cdk.json's feature flags, cdk-nag's AWS
// Solutions checks), beside a stand-in for MLflow's VPC stack (a VPC and an internal NLB on port 80).

const ENV = { account: "123456789012", region: "us-east-1" };
const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const GROUP_FILES = readdirSync(GROUPS_DIR).filter((f) => /\.ya?ml$/.test(f));
const authenticated = policySet.catalog.routes.filter((r) => r.auth !== "none");
const UI_CONFIG = "/mlflow-gate-ui.json";

/**
 * "The maximum size of the API definition file is 6MB" (API Gateway REST API Reference, ImportRestApi and
 * PutRestApi, `body`: https://docs.aws.amazon.com/apigateway/latest/api/API_ImportRestApi.html).
 */
const MAX_API_DEFINITION_BYTES = 6_000_000;
/**
 * "Template body size in an Amazon S3 object: 1 MB" (CloudFormation quotas:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html); past 51,200
 * bytes, `cdk deploy` uploads the template to the bootstrap bucket.
 */
const MAX_TEMPLATE_BYTES = 1_000_000;

type Resources = Record<string, { Type: string; Properties: CfnProperties; Metadata?: CfnProperties }>;

/** One operation of the deployed document: path, method, and the operation as the template holds it. */
interface Operation {
  readonly path: string;
  readonly method: string;
  readonly op: CfnProperties;
}

/** The stand-in for MlflowVpcStack: what the API needs of it, nothing more. */
function networkStandIn(app: App): { vpc: ec2.IVpc; loadBalancer: elbv2.INetworkLoadBalancer } {
  const stack = new Stack(app, "MlflowNetworkStandIn", { env: ENV });
  const vpc = new ec2.Vpc(stack, "Vpc", {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: "private", subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const loadBalancer = new elbv2.NetworkLoadBalancer(stack, "Nlb", { vpc, internetFacing: false });
  const targets = new elbv2.NetworkTargetGroup(stack, "Mlflow", { vpc, port: 5000, targetType: elbv2.TargetType.IP });
  loadBalancer.addListener("Http", { port: 80, defaultTargetGroups: [targets] });
  Validations.of(stack).acknowledge(
    { id: "AwsSolutions-VPC7", reason: "Test stand-in for MlflowVpcStack; never deployed." },
    { id: "AwsSolutions-ELB2", reason: "Test stand-in for MlflowVpcStack; never deployed." },
  );
  return { vpc, loadBalancer };
}

function newApp(outdir: string, withNag: boolean): App {
  const app = new App({ outdir, context: CDK_FLAGS });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

function sampleConfig(input: Record<string, unknown> = {}): InfraConfig {
  return parseInfraConfig(input, new Set(policySet.groups.keys()));
}

/** The stack in an app of its own, without cdk-nag: for what differs with its props. */
function otherStack(name: string, props: Partial<RestApiGatewayStackProps> = {}): RestApiGatewayStack {
  const app = newApp(mkdtempSync(join(outdir, `${name}-`)), false);
  const { vpc, loadBalancer } = networkStandIn(app);
  return new RestApiGatewayStack(app, "RestApiGatewayStack", {
    env: ENV,
    config: sampleConfig(),
    policySet,
    vpc,
    loadBalancer,
    ...props,
  });
}

/** A concrete request path for a route template: `{x}` -> `seg-1`, `{x+}` -> `rest-1/rest-2`. */
function samplePath(template: string): string {
  return template.replace(/\{[A-Za-z0-9_]+\+\}/g, "rest-1/rest-2").replace(/\{[A-Za-z0-9_]+\}/g, "seg-1");
}

interface ApiNode {
  readonly path: string;
  readonly pathPart: string;
  readonly children: ApiNode[];
}

/** The resource tree API Gateway builds from the document's paths (every prefix of a path is a resource). */
function apiTree(paths: readonly string[]): ApiNode {
  const root: ApiNode = { path: "/", pathPart: "", children: [] };
  for (const path of paths) {
    let node = root;
    for (const part of path.split("/").filter((p) => p !== "")) {
      let child = node.children.find((c) => c.pathPart === part);
      if (!child) {
        child = { path: `${node.path === "/" ? "" : node.path}/${part}`, pathPart: part, children: [] };
        node.children.push(child);
      }
      node = child;
    }
  }
  return root;
}

/**
 * Which resource API Gateway routes a concrete path to: a literal part before a variable one, a
 * greedy `{x+}` taking the rest. Returns the resource and the values its parameters capture.
 */
function route(
  node: ApiNode,
  parts: readonly string[],
  captured: Record<string, string> = {},
): { node: ApiNode; captured: Record<string, string> } | undefined {
  if (parts.length === 0) return { node, captured };
  const [head, ...rest] = parts as [string, ...string[]];
  const literal = node.children.find((c) => c.pathPart === head);
  const viaLiteral = literal && route(literal, rest, captured);
  if (viaLiteral) return viaLiteral;
  const segment = node.children.find((c) => /^\{[^+]+\}$/.test(c.pathPart));
  const viaSegment = segment && route(segment, rest, { ...captured, [segment.pathPart.slice(1, -1)]: head });
  if (viaSegment) return viaSegment;
  const greedy = node.children.find((c) => c.pathPart.endsWith("+}"));
  return greedy
    ? { node: greedy, captured: { ...captured, [greedy.pathPart.slice(1, -2)]: parts.join("/") } }
    : undefined;
}

const outdir = mkdtempSync(join(tmpdir(), "rest-api-gateway-stack-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

let stack: RestApiGatewayStack;
let assembly: CloudAssembly | undefined;
let synthError: unknown;
let synthMs = 0;
let template: Template;
let resources: Resources;
let body: CfnProperties;
let operations: Operation[];
let id: (construct: { node: { defaultChild?: unknown } }) => string;

/** The document as the template holds it, with the deployment's values in readable form (`flatTemplate`). */
const flatBody = () =>
  flatTemplate(body, [
    [/Nlb.*DNSName/, "NLB_DNS"],
    [/RefApi/, "API_ID"],
  ]) as CfnProperties;

beforeAll(() => {
  const app = newApp(outdir, true);
  const { vpc, loadBalancer } = networkStandIn(app);
  const started = Date.now();
  stack = new RestApiGatewayStack(app, "RestApiGatewayStack", {
    env: ENV,
    config: sampleConfig(),
    policySet,
    vpc,
    loadBalancer,
  });
  try {
    assembly = app.synth();
  } catch (e) {
    synthError = e;
  }
  synthMs = Date.now() - started;
  // Assertions read the synthesized template; without one (a finding), fall back to a fresh synth.
  template = assembly
    ? Template.fromJSON(assembly.getStackByName(stack.stackName).template)
    : Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
  id = (construct) => stack.getLogicalId(construct.node.defaultChild as never);
  body = (Object.values(template.findResources("AWS::ApiGateway::RestApi"))[0] as Resources[string]).Properties.Body;
  operations = Object.entries(body.paths as Record<string, Record<string, CfnProperties>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
}, 180_000);

describe("RestApiGatewayStack", () => {
  test("passes cdk-nag's AWS Solutions checks with every finding fixed or acknowledged", () => {
    expect(synthError === undefined ? "synthesized" : String((synthError as Error).message)).toBe("synthesized");
    // One synth of the app (authorizer build, cdk-nag, CloudFormation validation) stays quick.
    expect(synthMs).toBeLessThan(60_000);
  });

  test("is a REGIONAL REST API that passes payloads through unchanged", () => {
    template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
    template.hasResourceProperties("AWS::ApiGateway::RestApi", {
      EndpointConfiguration: { Types: ["REGIONAL"] },
      Parameters: { endpointConfigurationTypes: "REGIONAL" },
      BinaryMediaTypes: ["*/*"],
    });
    expect(body["x-amazon-apigateway-binary-media-types"]).toEqual(["*/*"]);
  });

  test("has no resource policy without source CIDRs: an Allow for * would stand in for the callers' IAM policies", () => {
    template.hasResourceProperties("AWS::ApiGateway::RestApi", { Policy: Match.absent() });
  });

  describe("the API definition", () => {
    test("is the whole API: one RestApi with a Body, no Resource, Method or Authorizer of its own", () => {
      template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
      expect(body).toMatchObject({ openapi: "3.0.1" });
      template.resourceCountIs("AWS::ApiGateway::Resource", 0);
      template.resourceCountIs("AWS::ApiGateway::Method", 0);
      template.resourceCountIs("AWS::ApiGateway::Authorizer", 0);
    });

    test("is the committed rendering (policies/api-definition.json) with this deployment's values in it", () => {
      const lambdaArn = `<${id(stack.authorizerFunction)}.Arn>`;
      const text = JSON.stringify(flatBody())
        .replaceAll("NLB_DNS", DEPLOYED_PLACEHOLDERS.upstreamHost)
        .replaceAll(`<ref ${id(stack.vpcLink)}>`, DEPLOYED_PLACEHOLDERS.vpcLinkId)
        .replaceAll(
          `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${lambdaArn}/invocations`,
          DEPLOYED_PLACEHOLDERS.authorizerUri,
        );
      const deployed = JSON.parse(text) as CfnProperties;
      const uiTemplates = deployed.paths[UI_CONFIG].get["x-amazon-apigateway-integration"].responses.default;
      uiTemplates.responseTemplates["application/json"] = DEPLOYED_PLACEHOLDERS.uiConfigJson;
      const committed = JSON.parse(readFileSync(API_DEFINITION_FILE, "utf8")) as CfnProperties;
      expect(deployed).toEqual({
        ...committed,
        info: { title: `mlflow-gate-${stack.stackName}`, version: policySet.catalog.mlflowVersion },
      });
      expect(stack.definition.info.version).toBe(policySet.catalog.mlflowVersion);
    });

    test("holds no unresolved CDK token", () => {
      expect(JSON.stringify(body)).not.toMatch(/\$\{Token\[|#\{Token\[/);
    });

    test("fits API Gateway's definition size limit, and the template CloudFormation's", () => {
      const bodyBytes = Buffer.byteLength(JSON.stringify(body));
      const templateBytes = statSync(join(outdir, `${stack.stackName}.template.json`)).size;
      process.stderr.write(`RestApiGatewayStack: Body ${bodyBytes} bytes, template ${templateBytes} bytes\n`);
      expect(bodyBytes).toBeLessThan(MAX_API_DEFINITION_BYTES);
      expect(templateBytes).toBeLessThan(MAX_TEMPLATE_BYTES);
      expect(Object.keys(resources).length).toBeLessThan(500);
    });

    test("stays within API Gateway's default resource quota, the UI config's resource counted", () => {
      const tree = apiTree(Object.keys(body.paths));
      const count = (n: ApiNode): number => 1 + n.children.reduce((sum, c) => sum + count(c), 0);
      expect(count(tree)).toBe(stack.tree.resourceCount + 1);
      expect(count(tree)).toBeLessThanOrEqual(DEFAULT_MAX_API_RESOURCES);
    });

    test("serves every authenticated catalog route with its method, its surface's security, and the path MLflow expects", () => {
      const tree = apiTree(Object.keys(body.paths));
      const served = { iam: 0, cognito: 0 };
      const problems: string[] = [];
      for (const r of authenticated) {
        const path = samplePath(r.path);
        const found = route(
          tree,
          path.split("/").filter((p) => p !== ""),
        );
        const operation = found && operations.find((o) => o.path === found.node.path && o.method === r.method);
        if (!found || !operation) {
          problems.push(`${r.method} ${r.path}: no operation`);
          continue;
        }
        const { op } = operation;
        const scheme = SECURITY_SCHEMES[r.auth as "iam" | "cognito"];
        if (JSON.stringify(op.security) !== JSON.stringify([{ [scheme]: [] }]))
          problems.push(`${r.method} ${r.path}: security ${JSON.stringify(op.security)}`);
        if (!(op["x-mlflow-gate-actions"] as string[]).includes(r.action))
          problems.push(`${r.method} ${r.path}: ${r.action} not among ${op["x-mlflow-gate-actions"]}`);
        // What MLflow receives: the integration path with the captured values put back.
        const uri = (flatTemplate(op["x-amazon-apigateway-integration"].uri, [[/Nlb.*DNSName/, "NLB_DNS"]]) as string)
          .replace("http://NLB_DNS", "")
          .replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => found.captured[name] ?? `<unmapped ${name}>`);
        if (uri !== path) problems.push(`${r.method} ${r.path}: MLflow would get ${uri} for ${path}`);
        served[r.auth as "iam" | "cognito"]++;
      }
      expect(problems).toEqual([]);
      expect(served).toEqual({
        iam: authenticated.filter((r) => r.auth === "iam").length,
        cognito: authenticated.filter((r) => r.auth === "cognito").length,
      });
    });

    test("every operation but the UI config's requires SigV4 or the Lambda authorizer", () => {
      const unsecured = operations.filter(({ op }) => op.security === undefined);
      expect(unsecured.map(({ method, path }) => `${method} ${path}`)).toEqual([`GET ${UI_CONFIG}`]);
      const schemes = operations.flatMap(({ op }) => (op.security ?? []).flatMap((s: object) => Object.keys(s)));
      expect(new Set(schemes)).toEqual(new Set([SECURITY_SCHEMES.iam, SECURITY_SCHEMES.cognito]));
      expect(operations).toHaveLength(stack.tree.methodCount + 1);
    });

    test("operations are HTTP proxies over the VPC link to the NLB, with each path parameter mapped", () => {
      for (const { path, method, op } of operations.filter((o) => o.path !== UI_CONFIG)) {
        const integration = op["x-amazon-apigateway-integration"];
        expect(integration).toMatchObject({
          type: "http_proxy",
          httpMethod: method,
          connectionType: "VPC_LINK",
          connectionId: { Ref: id(stack.vpcLink) },
          timeoutInMillis: 29_000,
        });
        // The NLB's DNS name, imported from MLflow's stack: resolved by CloudFormation.
        expect(integration.uri["Fn::Join"][1].slice(0, 2)).toEqual([
          "http://",
          { "Fn::ImportValue": expect.stringMatching(/Nlb.*DNSName/) },
        ]);
        const params = ((op.parameters ?? []) as { name: string }[]).map((p) => p.name);
        for (const name of params)
          expect(integration.requestParameters[`integration.request.path.${name}`]).toBe(`method.request.path.${name}`);
        expect(params.sort()).toEqual([...path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((x) => x[1]).sort());
      }
    });

    test("artifact downloads, and only operations that serve one, stream their answers", () => {
      for (const { method, path, op } of operations.filter((o) => o.path !== UI_CONFIG)) {
        const download = (op["x-mlflow-gate-actions"] as string[]).some((a) => STREAMED_ACTIONS.has(a));
        expect([method, path, op["x-amazon-apigateway-integration"].responseTransferMode]).toEqual([
          method,
          path,
          download ? "STREAM" : undefined,
        ]);
      }
      expect(
        operations.filter((o) => o.op["x-amazon-apigateway-integration"].responseTransferMode === "STREAM").length,
      ).toBeGreaterThan(0);
    });

    test("tell the guard who called and what was authorized, in the contract's x-mlflow-gate-* headers, and never pass credentials on", () => {
      const withScheme = (scheme: string) =>
        (operations.find(({ op }) => op.security?.[0]?.[scheme]) as Operation).op["x-amazon-apigateway-integration"]
          .requestParameters;
      expect(withScheme(SECURITY_SCHEMES.iam)).toMatchObject({
        "integration.request.header.x-mlflow-gate-auth": "'iam'",
        "integration.request.header.x-mlflow-gate-principal": "context.identity.userArn",
        "integration.request.header.x-mlflow-gate-request-id": "context.extendedRequestId",
        "integration.request.header.x-mlflow-gate-groups": "'(iam)'",
        "integration.request.header.x-mlflow-gate-method": "context.httpMethod",
        "integration.request.header.x-mlflow-gate-path": "context.path",
        "integration.request.header.x-mlflow-gate-source-ip": "context.identity.sourceIp",
        "integration.request.header.Authorization": "'-'",
        "integration.request.header.X-Amz-Security-Token": "'-'",
      });
      expect(withScheme(SECURITY_SCHEMES.cognito)).toMatchObject({
        "integration.request.header.x-mlflow-gate-auth": "'cognito'",
        "integration.request.header.x-mlflow-gate-principal": "context.authorizer.principalId",
        "integration.request.header.x-mlflow-gate-username": "context.authorizer.username",
        "integration.request.header.x-mlflow-gate-groups": "context.authorizer.groups",
        "integration.request.header.x-mlflow-gate-request-id": "context.extendedRequestId",
        "integration.request.header.x-mlflow-gate-source-ip": "context.identity.sourceIp",
        "integration.request.header.Authorization": "'-'",
      });
    });

    test("leaves the public routes (the UI shell) to Amplify", () => {
      const tree = apiTree(Object.keys(body.paths));
      for (const r of policySet.catalog.routes.filter((x) => x.auth === "none")) {
        const found = route(
          tree,
          samplePath(r.path)
            .split("/")
            .filter((p) => p !== ""),
        );
        const operation = found && operations.find((o) => o.path === found.node.path && o.method === r.method);
        expect([r.method, r.path, operation]).toEqual([r.method, r.path, undefined]);
      }
    });

    test("honours maxApiResources: a smaller quota folds deeper parts into {proxy+}", () => {
      const small = otherStack("small", { maxApiResources: 120 });
      const count = (n: ApiNode): number => 1 + n.children.reduce((sum, c) => sum + count(c), 0);
      expect(count(apiTree(Object.keys(small.definition.paths)))).toBeLessThanOrEqual(120);
      expect(small.tree.maxDepth).toBeLessThan(stack.tree.maxDepth as number);
    });

    test("a changed document is a new deployment of the stage; the same document, the same deployment", () => {
      const deploymentId = (s: RestApiGatewayStack) =>
        Object.keys(Template.fromStack(s).findResources("AWS::ApiGateway::Deployment"));
      const again = otherStack("again");
      const changed = otherStack("changed", { maxApiResources: 120 });
      const [current] = Object.keys(template.findResources("AWS::ApiGateway::Deployment"));
      expect(deploymentId(again)).toEqual([current]);
      expect(deploymentId(changed)).toHaveLength(1);
      expect(deploymentId(changed)).not.toEqual([current]);
      // The stage follows its deployment.
      template.hasResourceProperties("AWS::ApiGateway::Stage", { DeploymentId: { Ref: current } });
    });
  });

  describe("the login shell's config, GET /mlflow-gate-ui.json", () => {
    const configOperation = () => body.paths[UI_CONFIG].get as CfnProperties;

    test("is a MOCK that reaches nothing, text in and out since the API takes */* as binary", () => {
      expect(Object.keys(body.paths[UI_CONFIG])).toEqual(["get"]);
      expect(configOperation().security).toBeUndefined();
      const integration = configOperation()["x-amazon-apigateway-integration"];
      expect(integration).toMatchObject({ type: "mock", passthroughBehavior: "never" });
      // Without it, a MOCK on an API whose binary media types are */* answers 500 "Unable to transform request".
      expect(integration.contentHandling).toBe("CONVERT_TO_TEXT");
      expect(integration).not.toHaveProperty("uri");
      expect(integration.responses.default.responseParameters).toMatchObject({
        "method.response.header.Content-Type": "'application/json'",
        "method.response.header.X-Content-Type-Options": "'nosniff'",
      });
    });

    test("answers the pool, the client and the region of this deployment, with SRP", () => {
      const integration = (flatBody().paths[UI_CONFIG].get as CfnProperties)["x-amazon-apigateway-integration"];
      expect(JSON.parse(integration.responses.default.responseTemplates["application/json"])).toEqual({
        userPoolId: `<ref ${id(stack.userPool)}>`,
        userPoolClientId: `<ref ${id(stack.userPoolClient)}>`,
        region: "us-east-1",
        authFlow: "USER_SRP_AUTH",
      });
    });
  });

  test("the VPC link targets the NLB", () => {
    template.hasResourceProperties("AWS::ApiGateway::VpcLink", {
      TargetArns: [{ "Fn::ImportValue": Match.stringLikeRegexp("Nlb") }],
    });
  });

  test("the Lambda authorizer is a REQUEST authorizer on the token, the verb and the resource, cached 300 s", () => {
    expect(flatBody().components.securitySchemes[SECURITY_SCHEMES.cognito]).toEqual({
      type: "apiKey",
      name: "Unused",
      in: "header",
      "x-amazon-apigateway-authtype": "custom",
      "x-amazon-apigateway-authorizer": {
        type: "request",
        identitySource: "method.request.header.Authorization, context.httpMethod, context.resourcePath",
        authorizerUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/<${id(stack.authorizerFunction)}.Arn>/invocations`,
        authorizerResultTtlInSeconds: 300,
      },
    });
    expect(body.components.securitySchemes[SECURITY_SCHEMES.iam]).toMatchObject({
      "x-amazon-apigateway-authtype": "awsSigv4",
    });
  });

  test("API Gateway may invoke the authorizer function as one of this API's authorizers, and only so", () => {
    const permissions = Object.values(template.findResources("AWS::Lambda::Permission")) as Resources[string][];
    const forAuthorizer = permissions.filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName) ===
        JSON.stringify({ "Fn::GetAtt": [id(stack.authorizerFunction), "Arn"] }),
    );
    expect(forAuthorizer.map((p) => flatTemplate(p.Properties))).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: `<${id(stack.authorizerFunction)}.Arn>`,
        Principal: "apigateway.amazonaws.com",
        SourceAccount: ENV.account,
        SourceArn: `arn:aws:execute-api:us-east-1:${ENV.account}:<ref ${id(stack.api)}>/authorizers/*`,
      },
    ]);
  });

  test("outputs the stage's URL and the pool and client ids", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(flatTemplate(outputs.ApiUrl?.Value)).toBe(
      `https://<ref ${id(stack.api)}>.execute-api.us-east-1.amazonaws.com/<ref ${id(stack.api.deploymentStage)}>/`,
    );
    expect(outputs.UserPoolId?.Value).toEqual({ Ref: id(stack.userPool) });
    expect(outputs.UserPoolClientId?.Value).toEqual({ Ref: id(stack.userPoolClient) });
  });

  describe("the authorizer function", () => {
    const fn = () => resources[id(stack.authorizerFunction)] as Resources[string];

    test("runs the bundled handler on Node.js 22, ARM64, 256 MB, 5 s", () => {
      expect(fn().Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        MemorySize: 256,
        Timeout: 5,
        Handler: "index.handler",
      });
    });

    test("is configured for aws mode: the pool and client ids, no issuer, AWS_REGION left to Lambda", () => {
      const vars = fn().Properties.Environment.Variables;
      expect(vars).toEqual({
        MLFLOW_GATE_MODE: "aws",
        COGNITO_USER_POOL_ID: { Ref: id(stack.userPool) },
        COGNITO_CLIENT_ID: { Ref: id(stack.userPoolClient) },
      });
      expect(vars).not.toHaveProperty("COGNITO_ISSUER");
      expect(vars).not.toHaveProperty("AWS_REGION");
    });

    test("ships the policy bundle beside index.js", () => {
      // The code asset is staged in the cloud assembly as asset.<hash>, the zip uploaded as <hash>.zip.
      const assetPath = `asset.${String(fn().Properties.Code.S3Key).replace(/\.zip$/, "")}`;
      expect(readdirSync(join(outdir, assetPath)).sort()).toEqual(["index.js", "policy-bundle.json"]);
      const bundle = JSON.parse(readFileSync(join(outdir, assetPath, "policy-bundle.json"), "utf8"));
      expect(bundle.groups.map((g: { name: string }) => g.name).sort()).toEqual([...policySet.groups.keys()].sort());
      expect(bundle.catalog.routes).toHaveLength(policySet.catalog.routes.length);
    });

    test("logs to its own log group with a retention, with a role that may write only there", () => {
      expect(fn().Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
      const logGroup = resources[fn().Properties.LoggingConfig.LogGroup.Ref] as Resources[string];
      expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
      const role = resources[fn().Properties.Role["Fn::GetAtt"][0]] as Resources[string];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      template.hasResourceProperties("AWS::IAM::Policy", {
        Roles: [{ Ref: fn().Properties.Role["Fn::GetAtt"][0] }],
        PolicyDocument: {
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: { "Fn::GetAtt": [fn().Properties.LoggingConfig.LogGroup.Ref, "Arn"] },
            },
          ],
        },
      });
    });
  });

  describe("Cognito", () => {
    test("the user pool: administrators create users, strong passwords, optional TOTP, threat protection, retained", () => {
      template.hasResource("AWS::Cognito::UserPool", {
        DeletionPolicy: "Retain",
        Properties: Match.objectLike({
          AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
          Policies: {
            PasswordPolicy: {
              MinimumLength: 14,
              RequireLowercase: true,
              RequireUppercase: true,
              RequireNumbers: true,
              RequireSymbols: true,
              TemporaryPasswordValidityDays: 3,
            },
          },
          MfaConfiguration: "OPTIONAL",
          EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
          UserPoolTier: "PLUS",
          UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
          DeletionProtection: "ACTIVE",
        }),
      });
    });

    test("one group per group file, named after it", () => {
      template.resourceCountIs("AWS::Cognito::UserPoolGroup", GROUP_FILES.length);
      expect(stack.groups).toHaveLength(GROUP_FILES.length);
      for (const file of GROUP_FILES) {
        template.hasResourceProperties("AWS::Cognito::UserPoolGroup", {
          GroupName: file.replace(/\.ya?ml$/, ""),
          UserPoolId: { Ref: id(stack.userPool) },
        });
      }
    });

    test("the UI's app client: no secret, SRP and refresh only, 60-minute tokens, 30-day refresh, no user existence errors", () => {
      template.resourceCountIs("AWS::Cognito::UserPoolClient", 1);
      const client = template.findResources("AWS::Cognito::UserPoolClient")[id(stack.userPoolClient)]?.Properties;
      expect(client.GenerateSecret).toBe(false);
      expect([...client.ExplicitAuthFlows].sort()).toEqual(["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]);
      expect(client).toMatchObject({
        AccessTokenValidity: 60,
        IdTokenValidity: 60,
        RefreshTokenValidity: 30 * 24 * 60,
        TokenValidityUnits: { AccessToken: "minutes", IdToken: "minutes", RefreshToken: "minutes" },
        PreventUserExistenceErrors: "ENABLED",
        EnableTokenRevocation: true,
        AllowedOAuthFlowsUserPoolClient: false,
      });
      expect(client.AllowedOAuthFlows).toBeUndefined();
    });
  });

  describe("the stage", () => {
    const stage = () => Object.values(template.findResources("AWS::ApiGateway::Stage"))[0]?.Properties;

    test("is the configured stage, throttled, with errors-only execution logs and no data trace", () => {
      template.resourceCountIs("AWS::ApiGateway::Stage", 1);
      expect(stage().StageName).toBe("prod");
      expect(stack.stageName).toBe("prod");
      expect(stage().MethodSettings).toEqual([
        {
          HttpMethod: "*",
          ResourcePath: "/*",
          DataTraceEnabled: false,
          LoggingLevel: "ERROR",
          MetricsEnabled: true,
          ThrottlingRateLimit: 200,
          ThrottlingBurstLimit: 400,
        },
      ]);
    });

    test("writes JSON access logs naming the caller: the authorizer's principal and the SigV4 user ARN", () => {
      const format = stage().AccessLogSetting.Format as string;
      expect(format).toContain("$context.authorizer.principalId");
      expect(format).toContain("$context.identity.userArn");
      const fields = JSON.parse(format) as Record<string, string>;
      expect(fields).toMatchObject({
        requestId: "$context.requestId",
        ip: "$context.identity.sourceIp",
        httpMethod: "$context.httpMethod",
        resourcePath: "$context.resourcePath",
        status: "$context.status",
        principalId: "$context.authorizer.principalId",
        userArn: "$context.identity.userArn",
        authorizerError: "$context.authorizer.error",
        latency: "$context.responseLatency",
      });
      expect(format).not.toMatch(/Authorization|header/i);
      // The log group's ARN without the `:*` of its GetAtt (cdk.json's logGroupDestinationArnWithoutWildcard).
      expect(stage().AccessLogSetting.DestinationArn).toEqual({
        "Fn::Join": ["", ["arn:aws:logs:us-east-1:123456789012:log-group:", { Ref: id(stack.accessLogGroup) }]],
      });
      template.hasResource("AWS::Logs::LogGroup", { DeletionPolicy: "Retain", Properties: { RetentionInDays: 365 } });
    });

    test("keeps API Gateway's own 401/403 answers (no gateway responses)", () => {
      template.resourceCountIs("AWS::ApiGateway::GatewayResponse", 0);
    });
  });

  describe("with allowedSourceCidrs", () => {
    test("denies requests from outside the CIDRs, and still allows nothing by itself", () => {
      const app = newApp(mkdtempSync(join(outdir, "cidrs-")), false);
      const { vpc, loadBalancer } = networkStandIn(app);
      const cidrs = ["10.0.0.0/8", "203.0.113.0/24"];
      const s = new RestApiGatewayStack(app, "RestApiGatewayStack", {
        env: ENV,
        config: sampleConfig({ allowedSourceCidrs: cidrs }),
        policySet,
        vpc,
        loadBalancer,
      });
      const api = Template.fromStack(s).findResources("AWS::ApiGateway::RestApi");
      const statements = Object.values(api)[0]?.Properties.Policy.Statement as Record<string, unknown>[];
      expect(statements).toEqual([
        {
          Sid: "DenyOutsideAllowedSourceCidrs",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
          Condition: { NotIpAddress: { "aws:SourceIp": cidrs } },
        },
      ]);
      // Synth says what else it refuses: the UI through Amplify's proxy, Studio through its NAT
      Annotations.fromStack(s).hasWarning(
        "/RestApiGatewayStack",
        Match.stringLikeRegexp("Amplify's proxy \\(CloudFront's addresses\\) and Studio's NAT gateways"),
      );
      expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("allowedSourceCidrs"))).toEqual([]);
    });
  });

  describe("props", () => {
    test("are validated first, every problem listed together", () => {
      const app = newApp(mkdtempSync(join(outdir, "props-")), false);
      const { vpc, loadBalancer } = networkStandIn(app);
      const empty = new PolicySet(policySet.catalog, new Map());
      const e = thrownBy(
        () =>
          new RestApiGatewayStack(app, "Bad", {
            env: ENV,
            config: sampleConfig(),
            policySet: empty,
            vpc,
            loadBalancer,
            maxApiResources: 1,
          }),
        ConfigError,
      );
      expect(e.message).toContain("no group");
      expect(e.message).toContain("maxApiResources");
    });

    test("refuse a policy bundle that differs from the stack's policies", () => {
      const app = newApp(mkdtempSync(join(outdir, "mismatch-")), false);
      const { vpc, loadBalancer } = networkStandIn(app);
      const fewer = new PolicySet(policySet.catalog, new Map([...policySet.groups].slice(0, 1)));
      const e = thrownBy(
        () =>
          new RestApiGatewayStack(app, "Mismatch", {
            env: ENV,
            config: sampleConfig(),
            policySet: fewer,
            vpc,
            loadBalancer,
          }),
        ConfigError,
      );
      expect(e.message).toMatch(/does not match the stack's policies: groups/);
    });
  });
});

describe("buildApiRouteTree", () => {
  const r = (method: HttpMethod, path: string, auth: CatalogRoute["auth"] = "cognito"): CatalogRoute => ({
    method,
    path,
    action: "Action",
    class: "read",
    auth,
    source: "fastapi",
  });
  const paths = (routes: CatalogRoute[], maxResources?: number) =>
    buildApiRouteTree(routes, maxResources === undefined ? {} : { maxResources }).resources.map((x) =>
      `${x.path} ${x.methods.map((m) => `${m.httpMethod}->${m.integrationPath}`).join(" ")}`.trim(),
    );

  test("sibling parameters of different names share one resource, named after the first in sort order", () => {
    expect(paths([r("GET", "/x/{run_id}/a"), r("GET", "/x/{experiment_id}/b")])).toEqual([
      "/x",
      "/x/{experiment_id}",
      "/x/{experiment_id}/a GET->/x/{experiment_id}/a",
      "/x/{experiment_id}/b GET->/x/{experiment_id}/b",
    ]);
  });

  test("a greedy parameter mid-path ends the path: one method per HTTP method serves every route below it", () => {
    const routes = [
      r("GET", "/s/{name+}/versions/{version+}"),
      r("GET", "/s/{name+}"),
      r("DELETE", "/s/{name+}/tags/{key+}"),
      r("GET", "/s/endpoints"),
    ];
    const tree = buildApiRouteTree(routes);
    expect(paths(routes)).toEqual([
      "/s",
      "/s/endpoints GET->/s/endpoints",
      "/s/{name+} DELETE->/s/{name} GET->/s/{name}",
    ]);
    expect(
      tree.resources
        .find((x) => x.path === "/s/{name+}")
        ?.methods.find((m) => m.httpMethod === "GET")
        ?.routes.map((x) => x.path),
    ).toEqual(["/s/{name+}/versions/{version+}", "/s/{name+}"]);
  });

  test("a part with text around its parameter is one variable part; a trailing slash stays in the integration path", () => {
    expect(
      paths([
        r("POST", "/m/{endpoint_name}:generateContent"),
        r("POST", "/m/{endpoint_name}:streamGenerateContent"),
        r("POST", "/jobs/"),
      ]),
    ).toEqual(["/jobs POST->/jobs/", "/m", "/m/{endpoint_name} POST->/m/{endpoint_name}"]);
  });

  test("parameter names stay unique along a path", () => {
    expect(paths([r("GET", "/a/{id}/b/{id}")])).toEqual([
      "/a",
      "/a/{id}",
      "/a/{id}/b",
      "/a/{id}/b/{id_2} GET->/a/{id}/b/{id_2}",
    ]);
  });

  test("public routes get nothing; one method cannot serve both IAM and the authorizer", () => {
    expect(paths([r("GET", "/static-files/{path+}", "none")])).toEqual([]);
    expect(() => buildApiRouteTree([r("GET", "/a/{x+}", "iam"), r("GET", "/a/{y}", "cognito")])).toThrow(CatalogError);
  });

  test("past maxResources, deeper parts fold into {proxy+} at the deepest depth that fits", () => {
    const routes = [r("GET", "/a/b/c/d"), r("POST", "/a/b/e"), r("GET", "/a/f")];
    expect(paths(routes, 10)).toEqual([
      "/a",
      "/a/b",
      "/a/b/c",
      "/a/b/c/d GET->/a/b/c/d",
      "/a/b/e POST->/a/b/e",
      "/a/f GET->/a/f",
    ]);
    expect(paths(routes, 5)).toEqual([
      "/a",
      "/a/b",
      "/a/b/{proxy+} GET->/a/b/{proxy} POST->/a/b/{proxy}",
      "/a/f GET->/a/f",
    ]);
    expect(buildApiRouteTree(routes, { maxResources: 5 })).toMatchObject({
      maxDepth: 2,
      resourceCount: 5,
      methodCount: 3,
    });
    expect(buildApiRouteTree(routes, { maxResources: 4 })).toMatchObject({ maxDepth: 1, resourceCount: 3 });
  });

  test("the real catalog: in full, every greedy part is last; the default quota keeps 4 parts and folds the rest", () => {
    const full = buildApiRouteTree(policySet.catalog.routes, { maxResources: 10_000 });
    expect(full.maxDepth).toBeUndefined();
    for (const x of full.resources) expect(x.path.slice(0, -x.pathPart.length)).not.toMatch(/\+\}/);
    expect(
      full.resources.find((x) => x.path === "/api/3.0/mlflow/mcp-servers/{name+}")?.methods.map((m) => m.httpMethod),
    ).toEqual(["DELETE", "GET", "PATCH", "POST"]);
    const folded = buildApiRouteTree(policySet.catalog.routes);
    expect(folded.resourceCount).toBeLessThanOrEqual(DEFAULT_MAX_API_RESOURCES);
    expect(folded.maxDepth).toBe(4);
  });
});
