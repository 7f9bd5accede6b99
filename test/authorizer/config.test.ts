import { join, resolve } from "path";
import { DEFAULT_MAX_TOKEN_BYTES, parseAuthorizerConfig } from "../../authorizer/config";
import { ConfigError } from "../../authorizer/core/errors";

const AWS_ENV = {
  AWS_REGION: "eu-west-1",
  COGNITO_USER_POOL_ID: "eu-west-1_AbCdEf123",
  COGNITO_CLIENT_ID: "4abcdefghijklmnopqrstuvw12",
};
const LOCAL_ENV = {
  MLFLOW_GATE_MODE: "local",
  COGNITO_ISSUER: "http://localhost:9229/local_5tU1wZ9p",
  COGNITO_CLIENT_ID: "clientlocal1",
};

/** The problems a ConfigError lists, one per line. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseAuthorizerConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
  throw new Error("expected a ConfigError");
}

describe("parseAuthorizerConfig in aws mode", () => {
  it("derives the Cognito issuer and JWKS URI from the pool id and region", () => {
    // Prepare
    const env = { ...AWS_ENV };
    // Act
    const config = parseAuthorizerConfig(env, "/var/task/policy-bundle.json");
    // Assess
    expect(config).toEqual({
      mode: "aws",
      issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
      jwksUri: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json",
      clientIds: ["4abcdefghijklmnopqrstuvw12"],
      policyBundlePath: "/var/task/policy-bundle.json",
      maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES,
    });
  });

  it("accepts several comma-separated client ids, a bundle path and a token size limit", () => {
    // Prepare
    const env = {
      ...AWS_ENV,
      MLFLOW_GATE_MODE: "aws",
      COGNITO_CLIENT_ID: " a1b2 , c3d4 ",
      MLFLOW_GATE_POLICY_BUNDLE: "conf/bundle.json",
      MLFLOW_GATE_MAX_TOKEN_BYTES: "4096",
    };
    // Act
    const config = parseAuthorizerConfig(env);
    // Assess
    expect(config.clientIds).toEqual(["a1b2", "c3d4"]);
    expect(config.policyBundlePath).toBe(resolve("conf/bundle.json"));
    expect(config.maxTokenBytes).toBe(4096);
  });

  it("defaults the policy bundle to policy-bundle.json next to the handler", () => {
    // Act
    const config = parseAuthorizerConfig({ ...AWS_ENV });
    // Assess
    expect(config.policyBundlePath).toBe(join(__dirname, "..", "..", "authorizer", "policy-bundle.json"));
  });

  it("rejects COGNITO_ISSUER and COGNITO_JWKS_URI so a local pool's issuer is never trusted in AWS", () => {
    // Prepare
    const env = {
      ...AWS_ENV,
      COGNITO_ISSUER: "http://localhost:9229/local_x",
      COGNITO_JWKS_URI: "http://localhost:9229/local_x/.well-known/jwks.json",
    };
    // Act
    const problems = problemsOf(env);
    // Assess
    expect(problems).toEqual([
      "COGNITO_ISSUER is not allowed in aws mode (the issuer is derived from COGNITO_USER_POOL_ID)",
      "COGNITO_JWKS_URI is not allowed in aws mode (the issuer is derived from COGNITO_USER_POOL_ID)",
    ]);
  });

  it("lists every problem of an empty environment at once", () => {
    // Act
    const problems = problemsOf({});
    // Assess
    expect(problems).toEqual([
      "COGNITO_CLIENT_ID is required (one app client id, or several separated by commas)",
      "AWS_REGION is required in aws mode",
      "COGNITO_USER_POOL_ID is required in aws mode",
    ]);
  });

  it("lists malformed values together", () => {
    // Prepare
    const env = {
      AWS_REGION: "Ireland",
      COGNITO_USER_POOL_ID: "mypool",
      COGNITO_CLIENT_ID: "ok1,not ok",
      MLFLOW_GATE_POLICY_BUNDLE: "bundle.yaml",
      MLFLOW_GATE_MAX_TOKEN_BYTES: "8k",
    };
    // Act
    const problems = problemsOf(env);
    // Assess
    expect(problems).toEqual([
      'COGNITO_CLIENT_ID: "not ok" is not an app client id',
      'AWS_REGION "Ireland" is not a region name',
      'COGNITO_USER_POOL_ID "mypool" is not of the form <region>_<id>',
      'MLFLOW_GATE_POLICY_BUNDLE must name a .json file, not "bundle.yaml"',
      'MLFLOW_GATE_MAX_TOKEN_BYTES must be an integer from 512 to 65536, not "8k"',
    ]);
  });

  it("rejects a pool of another region, whose tokens the derived issuer would never accept", () => {
    // Act
    const problems = problemsOf({ ...AWS_ENV, COGNITO_USER_POOL_ID: "us-east-1_AbCdEf123" });
    // Assess
    expect(problems).toEqual([
      "COGNITO_USER_POOL_ID is in us-east-1 but AWS_REGION is eu-west-1; the pool must be in the authorizer's region",
    ]);
  });

  it("rejects an unknown mode and a token size limit out of range", () => {
    // Act
    const problems = problemsOf({ ...AWS_ENV, MLFLOW_GATE_MODE: "dev", MLFLOW_GATE_MAX_TOKEN_BYTES: "100" });
    // Assess
    expect(problems).toEqual([
      'MLFLOW_GATE_MODE must be "aws" or "local", not "dev"',
      'MLFLOW_GATE_MAX_TOKEN_BYTES must be an integer from 512 to 65536, not "100"',
    ]);
  });
});

describe("parseAuthorizerConfig in local mode", () => {
  it("takes the issuer as given and defaults the JWKS URI under it", () => {
    // Act
    const config = parseAuthorizerConfig({ ...LOCAL_ENV }, "/tmp/policy-bundle.json");
    // Assess
    expect(config).toEqual({
      mode: "local",
      issuer: "http://localhost:9229/local_5tU1wZ9p",
      jwksUri: "http://localhost:9229/local_5tU1wZ9p/.well-known/jwks.json",
      clientIds: ["clientlocal1"],
      policyBundlePath: "/tmp/policy-bundle.json",
      maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES,
    });
  });

  it.each([
    ["127.0.0.1", "http://127.0.0.1:9229/local_x"],
    ["127.8.9.10", "http://127.8.9.10/pool"],
    ["[::1]", "http://[::1]:9229/local_x"],
    ["an https host", "https://idp.example.com/pool"],
  ])("accepts an issuer on %s", (_, issuer) => {
    // Act
    const config = parseAuthorizerConfig({ ...LOCAL_ENV, COGNITO_ISSUER: issuer });
    // Assess
    expect(config.issuer).toBe(issuer);
  });

  it("accepts an explicit JWKS URI", () => {
    // Act
    const config = parseAuthorizerConfig({ ...LOCAL_ENV, COGNITO_JWKS_URI: "http://127.0.0.1:9229/keys.json" });
    // Assess
    expect(config.jwksUri).toBe("http://127.0.0.1:9229/keys.json");
  });

  it("lists every missing variable at once", () => {
    // Act
    const problems = problemsOf({ MLFLOW_GATE_MODE: "local" });
    // Assess
    expect(problems).toEqual([
      "COGNITO_CLIENT_ID is required (one app client id, or several separated by commas)",
      "COGNITO_ISSUER is required in local mode",
    ]);
  });

  it("rejects plain http to a host that is not loopback, and other schemes, together", () => {
    // Prepare
    const env = {
      ...LOCAL_ENV,
      COGNITO_ISSUER: "http://10.0.0.5:9229/pool",
      COGNITO_JWKS_URI: "ftp://127.0.0.1/jwks.json",
    };
    // Act
    const problems = problemsOf(env);
    // Assess
    expect(problems).toEqual([
      "COGNITO_ISSUER may use http only for a loopback host (127.0.0.0/8, localhost, [::1]); use https for 10.0.0.5",
      "COGNITO_JWKS_URI must be an https URL",
    ]);
  });

  it.each([
    ["a relative URL", "/local_x", 'COGNITO_ISSUER must be an absolute URL, not "/local_x"'],
    [
      "a look-alike host",
      "http://127.0.0.1.evil.example/pool",
      "COGNITO_ISSUER may use http only for a loopback host (127.0.0.0/8, localhost, [::1]); use https for 127.0.0.1.evil.example",
    ],
    ["credentials", "https://user:pw@idp.example.com/pool", "COGNITO_ISSUER must not carry credentials"],
    ["a query", "https://idp.example.com/pool?x=1", "COGNITO_ISSUER must not have a query or fragment"],
  ])("rejects an issuer with %s", (_, issuer, problem) => {
    // Act
    const problems = problemsOf({ ...LOCAL_ENV, COGNITO_ISSUER: issuer });
    // Assess
    expect(problems).toEqual([problem]);
  });

  it("refuses to run inside AWS Lambda", () => {
    // Act
    const problems = problemsOf({ ...LOCAL_ENV, AWS_LAMBDA_FUNCTION_NAME: "mlflow-gate-authorizer" });
    // Assess
    expect(problems).toEqual(['MLFLOW_GATE_MODE "local" is not allowed in AWS Lambda']);
  });
});
