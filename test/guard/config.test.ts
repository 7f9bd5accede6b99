import { ConfigError } from "../../authorizer/core/errors";
import { GUARD_ENV, parseGuardConfig } from "../../guard/config";
import { thrownBy } from "../support/errors";

const defaults = {
  catalogFile: "/opt/mlflow-gate/policies/mlflow-routes.json",
  groupsDir: "/opt/mlflow-gate/policies/groups",
  teamsDir: "/opt/mlflow-gate/policies/teams",
};

describe("parseGuardConfig", () => {
  test("reads the sidecar's environment: all interfaces, MLflow on loopback, the stage prefix, audit to stdout", () => {
    // Act
    const config = parseGuardConfig(
      {
        [GUARD_ENV.host]: "0.0.0.0",
        [GUARD_ENV.port]: "8080",
        [GUARD_ENV.upstream]: "http://127.0.0.1:5000",
        [GUARD_ENV.stagePathPrefix]: "/prod",
      },
      defaults,
    );
    // Assess
    expect(config).toMatchObject({ host: "0.0.0.0", port: 8080, stagePathPrefix: "/prod", auditReads: false });
    expect(config.upstream.origin).toBe("http://127.0.0.1:5000");
    expect(config.catalogFile).toBe(defaults.catalogFile);
    expect(config.teamsDir).toBe(defaults.teamsDir);
    expect(config).not.toHaveProperty("auditFile");
    expect(config.maxBufferedBytes).toBe(64 * 1024 * 1024);
    expect(config.graphql).toEqual({ maxBytes: 64 * 1024, maxTokens: 5000, maxDepth: 32 });
  });

  test("the bodies held at once: a number of bytes, at least one body API Gateway may send", () => {
    const base = { [GUARD_ENV.upstream]: "http://127.0.0.1:5000" };
    expect(parseGuardConfig({ ...base, [GUARD_ENV.maxBufferedBytes]: "20000000" }, defaults).maxBufferedBytes).toBe(
      20_000_000,
    );
    for (const value of ["1000", "64MiB", "-1", "1e9"]) {
      const e = thrownBy(
        () => parseGuardConfig({ ...base, [GUARD_ENV.maxBufferedBytes]: value }, defaults),
        ConfigError,
      );
      expect(e.problems).toEqual([expect.stringContaining(`${GUARD_ENV.maxBufferedBytes} must be a number of bytes`)]);
    }
  });

  test("lists every problem in one ConfigError, in its message and as a list", () => {
    // Act
    const e = thrownBy(
      () =>
        parseGuardConfig(
          {
            [GUARD_ENV.port]: "70000",
            [GUARD_ENV.upstream]: "http://mlflow.internal:5000",
            [GUARD_ENV.stagePathPrefix]: "/prod/",
            [GUARD_ENV.auditFile]: "audit.jsonl",
          },
          defaults,
        ),
      ConfigError,
    );
    // Assess
    expect(e.problems).toHaveLength(4);
    expect(e.problems.map((p) => p.split(" ")[0])).toEqual([
      GUARD_ENV.port,
      GUARD_ENV.upstream,
      GUARD_ENV.stagePathPrefix,
      GUARD_ENV.auditFile,
    ]);
    for (const problem of e.problems) expect(e.message).toContain(problem);
  });

  test("the GraphQL body limit: bytes from 1 KiB to API Gateway's 10 MB", () => {
    const base = { [GUARD_ENV.upstream]: "http://127.0.0.1:5000" };
    expect(parseGuardConfig({ ...base, [GUARD_ENV.graphqlMaxBytes]: "200000" }, defaults).graphql.maxBytes).toBe(
      200_000,
    );
    for (const value of ["100", "64KB", "20000000"]) {
      const e = thrownBy(
        () => parseGuardConfig({ ...base, [GUARD_ENV.graphqlMaxBytes]: value }, defaults),
        ConfigError,
      );
      expect(e.problems).toEqual([expect.stringContaining(`${GUARD_ENV.graphqlMaxBytes} must be a number of bytes`)]);
    }
  });
});

describe("the groups of SigV4 callers", () => {
  const base = { [GUARD_ENV.upstream]: "http://127.0.0.1:5000" };
  test("a JSON object of role/<name> or user/<name> to a group; none by default", () => {
    expect(parseGuardConfig(base, defaults).iamGroups).toEqual(new Map());
    expect(
      parseGuardConfig(
        { ...base, [GUARD_ENV.iamGroups]: '{"role/mlflow-gate-admin":"admins","user/ci":"readers"}' },
        defaults,
      ).iamGroups,
    ).toEqual(
      new Map([
        ["role/mlflow-gate-admin", "admins"],
        ["user/ci", "readers"],
      ]),
    );
  });

  test.each(['["admins"]', "{", '{"arn:aws:iam::1:role/x":"admins"}', '{"role/x":"Admins"}'])(
    "%s is refused",
    (raw) => {
      expect(() => parseGuardConfig({ ...base, [GUARD_ENV.iamGroups]: raw }, defaults)).toThrow(ConfigError);
    },
  );
});
