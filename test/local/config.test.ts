import { ConfigError } from "../../authorizer/core/errors";
import { parseStackConfig } from "../../local/config";
import { thrownBy } from "../support/errors";
import { GROUPS_DIR, TEAMS_DIR } from "../../project/paths";

describe("parseStackConfig", () => {
  test("defaults: .mlflow-gate under the working directory, port 8080, us-east-1, a 300 s cache, a 29 s timeout", () => {
    expect(parseStackConfig({}, "/work/x")).toEqual({
      dataDir: "/work/x/.mlflow-gate",
      groupsDir: GROUPS_DIR,
      teamsDir: TEAMS_DIR,
      host: "127.0.0.1",
      gatewayPort: 8080,
      mlflowPort: 0,
      guardPort: 0,
      s3Port: 0,
      auditReads: false,
      mlflowJobs: false,
      userPoolPort: 9229,
      stsPort: 8090,
      stsMinDurationSeconds: 900,
      stsMaxDurationSeconds: 3600,
      region: "us-east-1",
      authorizerCacheTtlSeconds: 300,
      integrationTimeoutMs: 29_000,
    });
  });

  test("reads every variable", () => {
    const c = parseStackConfig(
      {
        MLFLOW_GATE_DATA: "/tmp/d",
        MLFLOW_GATE_GROUPS_DIR: "policies/examples",
        MLFLOW_GATE_TEAMS_DIR: "policies/examples/teams",
        MLFLOW_GATE_PORT: "0",
        MLFLOW_GATE_MLFLOW_PORT: "5001",
        MLFLOW_GATE_GUARD_PORT: "5002",
        MLFLOW_GATE_S3_PORT: "5003",
        MLFLOW_GATE_AUDIT_READS: "true",
        MLFLOW_GATE_MLFLOW_JOBS: "true",
        MLFLOW_GATE_USER_POOL_PORT: "0",
        MLFLOW_GATE_REGION: "eu-west-1",
        MLFLOW_GATE_AUTHORIZER_CACHE_TTL: "0",
        MLFLOW_GATE_INTEGRATION_TIMEOUT_MS: "1000",
        MLFLOW_GATE_ACCESS_TOKEN_SECONDS: "120",
        MLFLOW_GATE_STS_PORT: "0",
        MLFLOW_GATE_STS_MIN_DURATION_SECONDS: "30",
        MLFLOW_GATE_STS_MAX_DURATION_SECONDS: "43200",
      },
      "/",
    );
    expect(c).toMatchObject({
      guardPort: 5002,
      s3Port: 5003,
      auditReads: true,
      mlflowJobs: true,
      dataDir: "/tmp/d",
      groupsDir: "/policies/examples",
      teamsDir: "/policies/examples/teams",
      gatewayPort: 0,
      mlflowPort: 5001,
      userPoolPort: 0,
      region: "eu-west-1",
      authorizerCacheTtlSeconds: 0,
      integrationTimeoutMs: 1000,
      accessTokenValiditySeconds: 120,
      stsPort: 0,
      stsMinDurationSeconds: 30,
      stsMaxDurationSeconds: 43_200,
    });
  });

  test("lists every problem at once; never binds beyond loopback", () => {
    const e = thrownBy(
      () =>
        parseStackConfig({
          MLFLOW_GATE_PORT: "http",
          MLFLOW_GATE_REGION: "mars",
          MLFLOW_GATE_HOST: "0.0.0.0",
          MLFLOW_GATE_AUTHORIZER_CACHE_TTL: "4000",
          MLFLOW_GATE_INTEGRATION_TIMEOUT_MS: "60000",
          MLFLOW_GATE_STS_MIN_DURATION_SECONDS: "5",
          MLFLOW_GATE_AUDIT_READS: "yes",
        }),
      ConfigError,
    );
    expect(e.message).toMatch(/MLFLOW_GATE_PORT must be an integer from 0 to 65535, not "http"/);
    expect(e.message).toMatch(/MLFLOW_GATE_REGION "mars"/);
    expect(e.message).toMatch(/MLFLOW_GATE_HOST must be a loopback address/);
    expect(e.message).toMatch(/MLFLOW_GATE_AUTHORIZER_CACHE_TTL must be an integer from 0 to 3600/);
    expect(e.message).toMatch(/MLFLOW_GATE_INTEGRATION_TIMEOUT_MS must be an integer from 50 to 29000/);
    expect(e.message).toMatch(/MLFLOW_GATE_STS_MIN_DURATION_SECONDS must be an integer from 15 to 900/);
    expect(e.message).toMatch(/MLFLOW_GATE_AUDIT_READS must be true or false, not "yes"/);
  });

  test("the STS's shortest session may not exceed its longest", () => {
    const e = thrownBy(
      () =>
        parseStackConfig({ MLFLOW_GATE_STS_MIN_DURATION_SECONDS: "900", MLFLOW_GATE_STS_MAX_DURATION_SECONDS: "60" }),
      ConfigError,
    );
    expect(e.message).toMatch(
      /MLFLOW_GATE_STS_MIN_DURATION_SECONDS \(900\) must not exceed MLFLOW_GATE_STS_MAX_DURATION_SECONDS \(60\)/,
    );
  });
});
