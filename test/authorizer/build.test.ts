// Builds the Lambda bundle into a temp dir and cold-starts it in a child process, as Lambda would.
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { AuthorizerBuild, buildAuthorizer } from "../../authorizer/build";

let dir: string;
let build: AuthorizerBuild;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "build-authorizer-"));
  build = await buildAuthorizer(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Requires the bundle with only `env`, calls its handler once with `authorization`; reports what happened. */
function invokeBundle(env: Record<string, string>, authorization?: string) {
  const event = {
    type: "REQUEST",
    methodArn: "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/ajax-api/2.0/mlflow/experiments/get",
    headers: authorization === undefined ? {} : { Authorization: authorization },
    multiValueHeaders: authorization === undefined ? {} : { Authorization: [authorization] },
    requestContext: { requestId: "req-build-1" },
  };
  const script = `
    const { handler } = require(${JSON.stringify(build.handlerFile)});
    handler(${JSON.stringify(event)}).then(
      (r) => process.stderr.write("RESULT " + JSON.stringify({ result: r }) + "\\n"),
      (e) => process.stderr.write("RESULT " + JSON.stringify({ rejection: String(e && e.message) }) + "\\n"),
    );`;
  const child = spawnSync(process.execPath, ["-e", script], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  const resultLine = child.stderr.split("\n").find((l) => l.startsWith("RESULT "));
  return {
    status: child.status,
    stderr: child.stderr,
    outcome: resultLine === undefined ? undefined : JSON.parse(resultLine.slice("RESULT ".length)),
    logs: child.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

// No MLFLOW_GATE_POLICY_BUNDLE: the bundle must find policy-bundle.json next to itself.
const localEnv = (): Record<string, string> => ({
  MLFLOW_GATE_MODE: "local",
  COGNITO_ISSUER: "http://127.0.0.1:9/local_pool1",
  COGNITO_CLIENT_ID: "clientlocal1",
});

describe("buildAuthorizer", () => {
  it("writes index.js and policy-bundle.json with the catalog and group files", () => {
    // Act
    const bundle = JSON.parse(readFileSync(build.policyBundleFile, "utf8"));
    // Assess
    expect(existsSync(join(dir, "index.js"))).toBe(true);
    expect(build.handlerBytes).toBeGreaterThan(0);
    expect(build.handlerGzipBytes).toBeLessThan(build.handlerBytes);
    expect(bundle.catalog.routes.length).toBeGreaterThan(100);
    expect(bundle.groups.map((g: { name: string }) => g.name).sort()).toEqual([
      "admins",
      "model-approvers",
      "readers",
      "release-managers",
      "writers",
    ]);
  });

  it("ships the authorizer's resources for each group and each combination of groups", () => {
    // Act
    const bundle = JSON.parse(readFileSync(build.policyBundleFile, "utf8")) as {
      compiled: { groups: string[]; surface: string }[];
    };
    // Assess: 5 groups alone + 26 combinations, all for the authorizer's surface
    const names = ["admins", "model-approvers", "readers", "release-managers", "writers"];
    const subsets = names.reduce<string[][]>((acc, n) => [...acc, ...acc.map((s) => [...s, n])], [[]]).slice(1);
    expect(subsets).toHaveLength(31);
    expect(bundle.compiled.map((c) => c.groups.join("+")).sort()).toEqual(subsets.map((s) => s.join("+")).sort());
    expect(new Set(bundle.compiled.map((c) => c.surface))).toEqual(new Set(["cognito"]));
  });

  it("answers a request without Authorization with Unauthorized", () => {
    // Act
    const run = invokeBundle(localEnv());
    // Assess
    expect(run.outcome).toEqual({ rejection: "Unauthorized" });
    expect(run.logs).toMatchObject([
      {
        service: "mlflow-gate-authorizer",
        decision: "unauthorized",
        reason: "missing-token",
        requestId: "req-build-1",
      },
    ]);
  });

  it("keeps the library's error class names in its logs despite minifying", () => {
    // Prepare: a well-formed JWT without `kid` is rejected before any JWKS fetch.
    const token = `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from("{}").toString("base64url")}.c2ln`;
    // Act
    const run = invokeBundle(localEnv(), `Bearer ${token}`);
    // Assess
    expect(run.outcome).toEqual({ rejection: "Unauthorized" });
    expect(run.logs).toMatchObject([{ decision: "unauthorized", reason: "JwtWithoutValidKidError" }]);
  });

  it("fails its cold start when the policy bundle named in the environment is missing", () => {
    // Act
    const run = invokeBundle({ ...localEnv(), MLFLOW_GATE_POLICY_BUNDLE: join(dir, "absent.json") });
    // Assess
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`ConfigError: cannot read the policy bundle ${join(dir, "absent.json")}`);
  });

  it("fails its cold start with the ConfigError message when the configuration is invalid", () => {
    // Act
    const run = invokeBundle({ MLFLOW_GATE_MODE: "local", COGNITO_ISSUER: "http://10.1.2.3/pool" });
    // Assess
    expect(run.status).not.toBe(0);
    expect(run.outcome).toBeUndefined();
    expect(run.stderr).toContain("ConfigError: invalid authorizer configuration:");
    expect(run.stderr).toContain("COGNITO_CLIENT_ID is required");
    expect(run.stderr).toContain("COGNITO_ISSUER may use http only for a loopback host");
  });
});
