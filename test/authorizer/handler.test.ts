// The Lambda entry, loaded as at a cold start: env in process.env, the policy bundle on disk, and a
// local user pool's JWKS served over http on a loopback port.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { evaluatePolicies, parsePolicyDocument } from "../../authorizer/core/evaluate";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { accessToken, CLIENT_ID, createSigningKey, jwksOf, METHOD_ARN_PREFIX, requestEvent } from "./support/tokens";

type Handler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

const ROOT = join(__dirname, "..", "..");
const key = createSigningKey();
let server: Server;
let jwksRequests = 0;
let issuer: string;
let dir: string;
let bundleFile: string;
const savedEnv = process.env;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== "/local_pool1/.well-known/jwks.json") return void res.writeHead(404).end();
    jwksRequests++;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwksOf(key)));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/local_pool1`;
  dir = mkdtempSync(join(tmpdir(), "authorizer-handler-"));
  bundleFile = join(dir, "policy-bundle.json");
  const bundle = {
    catalog: loadRouteCatalog(join(ROOT, "policies", "mlflow-routes.json")),
    groups: loadGroupFiles(join(ROOT, "policies", "groups"), ROOT),
  };
  writeFileSync(bundleFile, JSON.stringify(bundle));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((done) => server.close(() => done()));
});

afterEach(() => {
  process.env = savedEnv;
  jest.restoreAllMocks();
});

/** Loads handler.ts afresh with only `env` set, as a cold start would. */
function coldStart(env: Record<string, string>): Handler {
  process.env = { PATH: savedEnv.PATH, ...env };
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module per environment
    handler = (require("../../authorizer/handler") as { handler: Handler }).handler;
  });
  return handler!;
}

/** The error a cold start fails with (a fresh module registry has its own ConfigError class: compare names). */
function coldStartError(env: Record<string, string>): Error {
  try {
    coldStart(env);
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the cold start to fail");
}

const localEnv = (): Record<string, string> => ({
  MLFLOW_GATE_MODE: "local",
  COGNITO_ISSUER: issuer,
  COGNITO_CLIENT_ID: CLIENT_ID,
  MLFLOW_GATE_POLICY_BUNDLE: bundleFile,
});

/** Captures what Powertools prints: one JSON object per line. */
function captureStdout(): () => Record<string, unknown>[] {
  const written: string[] = [];
  jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return () =>
    written
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
}

describe("handler", () => {
  it("allows a reader's valid token, fetching the JWKS from the issuer once", async () => {
    // Prepare
    const handler = coldStart(localEnv());
    const logs = captureStdout();
    const token = accessToken(key, { iss: issuer });
    const before = jwksRequests;
    // Act
    const first = await handler(requestEvent({ authorization: `Bearer ${token}` }));
    await handler(requestEvent({ authorization: `Bearer ${token}` }));
    // Assess
    const arn = `${METHOD_ARN_PREFIX}POST/ajax-api/2.0/mlflow/runs/search`;
    expect(evaluatePolicies([parsePolicyDocument(first.policyDocument)], "execute-api:Invoke", arn).decision).toBe(
      "Allow",
    );
    expect(first.context).toEqual({ username: "alice", groups: "readers", tokenUse: "access" });
    expect(jwksRequests - before).toBe(1);
    expect(logs()).toMatchObject([
      { service: "mlflow-gate-authorizer", decision: "allow", groups: ["readers"], requestId: "req-0001" },
      { service: "mlflow-gate-authorizer", decision: "allow" },
    ]);
  });

  it("rejects a token of an AWS pool when configured for a local one", async () => {
    // Prepare
    const handler = coldStart(localEnv());
    captureStdout();
    const token = accessToken(key);
    // Act
    const outcome = handler(requestEvent({ authorization: `Bearer ${token}` }));
    // Assess
    await expect(outcome).rejects.toThrow(/^Unauthorized$/);
  });

  it("rejects a request without Authorization", async () => {
    // Prepare
    const handler = coldStart(localEnv());
    captureStdout();
    // Act
    const outcome = handler(requestEvent());
    // Assess
    await expect(outcome).rejects.toThrow(/^Unauthorized$/);
  });

  it("fails the cold start with a ConfigError listing every configuration problem", () => {
    // Act
    const error = coldStartError({ MLFLOW_GATE_MODE: "aws", COGNITO_ISSUER: issuer });
    // Assess
    expect(error.name).toBe("ConfigError");
    expect(error.message).toBe(
      [
        "invalid authorizer configuration:",
        "  COGNITO_CLIENT_ID is required (one app client id, or several separated by commas)",
        "  COGNITO_ISSUER is not allowed in aws mode (the issuer is derived from COGNITO_USER_POOL_ID)",
        "  AWS_REGION is required in aws mode",
        "  COGNITO_USER_POOL_ID is required in aws mode",
      ].join("\n"),
    );
  });

  it("fails the cold start when the policy bundle is missing", () => {
    // Act
    const error = coldStartError({ ...localEnv(), MLFLOW_GATE_POLICY_BUNDLE: join(dir, "absent.json") });
    // Assess
    expect(error.name).toBe("ConfigError");
    expect(error.message).toMatch(`cannot read the policy bundle ${join(dir, "absent.json")}: ENOENT`);
  });
});
