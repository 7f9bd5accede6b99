import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ConfigError } from "../../authorizer/core/errors";
import {
  DATA_SCIENCE_PRINCIPAL,
  loadPrincipals,
  parsePrincipals,
  principalStore,
  writeAwsFiles,
} from "../../local/principals";
import { thrownBy } from "../support/errors";

const GROUPS = new Set(["admins", "readers", "model-approvers", "release-managers"]);

describe("principals", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "principals-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("first start writes the default principals with generated keys, private to the user; later starts keep them", () => {
    const first = loadPrincipals(dir, GROUPS);
    expect(first.map((p) => [p.name, p.group])).toEqual([
      ["mlflow-admin", "admins"],
      ["mlflow-reader", "readers"],
      ["mlflow-model-approver", "model-approvers"],
      ["mlflow-release-manager", "release-managers"],
      ["data-science", undefined],
    ]);
    expect(first[0]!.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(new Set(first.map((p) => p.secretAccessKey)).size).toBe(5);
    expect(statSync(join(dir, "principals.json")).mode & 0o777).toBe(0o600);
    expect(loadPrincipals(dir, GROUPS)).toEqual(first);
  });

  test("a principal a user adds gets keys; a bad edit is refused with every problem named", () => {
    writeFileSync(
      join(dir, "principals.json"),
      JSON.stringify({ version: 2, principals: [{ name: "ci-bot", group: "readers" }] }),
    );
    expect(loadPrincipals(dir, GROUPS)[0]).toMatchObject({
      name: "ci-bot",
      group: "readers",
      accessKeyId: expect.stringMatching(/^AKIA/),
    });
    const e = thrownBy(
      () =>
        parsePrincipals(
          {
            principals: [
              { name: "a", group: "nobody" },
              { name: "a", group: "readers", accessKeyId: "lower", secretAccessKey: "x" },
            ],
          },
          GROUPS,
          "p.json",
        ),
      ConfigError,
    );
    expect(e.message).toMatch(/principals\[0\]\.group "nobody" is not a group/);
    expect(e.message).toMatch(/principals\[1\]\.name "a" is used twice/);
    expect(e.message).toMatch(/principals\[1\]\.accessKeyId must be/);
    expect(e.message).toMatch(/principals\[1\]\.secretAccessKey must be/);
    writeFileSync(join(dir, "principals.json"), "{not json");
    expect(() => loadPrincipals(dir, GROUPS)).toThrow(ConfigError);
  });

  test("the default trust: data-science may assume mlflow-reader, and mlflow-admin with an ExternalId; nobody else anything", () => {
    const principals = loadPrincipals(dir, GROUPS);
    expect(Object.fromEntries(principals.map((p) => [p.name, p.trustedBy]))).toEqual({
      "mlflow-admin": [{ principal: DATA_SCIENCE_PRINCIPAL, externalId: "mlflow-gate-local" }],
      "mlflow-reader": [{ principal: DATA_SCIENCE_PRINCIPAL }],
      "mlflow-model-approver": [],
      "mlflow-release-manager": [],
      "data-science": [],
    });
  });

  test("a file from before the local STS keeps its keys and groups and gains data-science and the default trust", () => {
    // Prepare: the format earlier runs wrote (no version, no trust)
    const old = {
      principals: [
        {
          name: "mlflow-admin",
          group: "admins",
          accessKeyId: "AKIAOLDADMIN0000000A",
          secretAccessKey: "old-admin-secret-0000",
        },
        {
          name: "mlflow-reader",
          group: "readers",
          accessKeyId: "AKIAOLDREADER000000A",
          secretAccessKey: "old-reader-secret-000",
        },
        {
          name: "ci-bot",
          group: "readers",
          accessKeyId: "AKIAOLDCIBOT0000000A",
          secretAccessKey: "old-cibot-secret-0000",
        },
      ],
    };
    writeFileSync(join(dir, "principals.json"), JSON.stringify(old));
    // Act
    const migrated = loadPrincipals(dir, GROUPS);
    // Assess
    expect(migrated.map((p) => [p.name, p.accessKeyId, p.trustedBy.map((t) => t.principal)])).toEqual([
      ["mlflow-admin", "AKIAOLDADMIN0000000A", ["data-science"]],
      ["mlflow-reader", "AKIAOLDREADER000000A", ["data-science"]],
      ["ci-bot", "AKIAOLDCIBOT0000000A", []],
      ["data-science", expect.stringMatching(/^AKIA/), []],
    ]);
    const saved = JSON.parse(readFileSync(join(dir, "principals.json"), "utf8"));
    expect(saved.version).toBe(2);
    // A migrated file is not migrated again: removing data-science later is respected.
    saved.principals = saved.principals
      .filter((p: { name: string }) => p.name !== "data-science")
      .map((p: object) => ({ ...p, trustedBy: [] }));
    writeFileSync(join(dir, "principals.json"), JSON.stringify(saved));
    expect(loadPrincipals(dir, GROUPS).map((p) => p.name)).toEqual(["mlflow-admin", "mlflow-reader", "ci-bot"]);
  });

  test("trust policies are validated with every problem named", () => {
    const e = thrownBy(
      () =>
        parsePrincipals(
          {
            version: 2,
            principals: [
              {
                name: "r",
                group: "readers",
                trustedBy: [
                  { principal: "ghost" },
                  { principal: "r" },
                  { principal: "ds", externalId: "x" },
                  { principal: "ds" },
                  { principal: "ds", extra: 1 },
                ],
              },
              { name: "w", group: "admins", trustedBy: "ds" },
              { name: "ds", trustedby: [] },
              { name: "k", accessKeyId: "ASIAAAAAAAAAAAAAAAAA", secretAccessKey: "0123456789abcdef" },
            ],
          },
          GROUPS,
          "p.json",
        ),
      ConfigError,
    );
    expect(e.message).toMatch(/principals\[0\]\.trustedBy\[0\]\.principal "ghost" is not a principal of this file/);
    expect(e.message).toMatch(/principals\[0\]\.trustedBy\[1\]\.principal "r" is the role itself/);
    expect(e.message).toMatch(/principals\[0\]\.trustedBy\[2\]\.externalId must be 2 to 1224 characters/);
    expect(e.message).toMatch(/principals\[0\]\.trustedBy\[3\]\.principal "ds" is listed twice/);
    expect(e.message).toMatch(/principals\[0\]\.trustedBy\[4\] has an unknown field "extra"/);
    expect(e.message).toMatch(/principals\[1\]\.trustedBy must be a list/);
    expect(e.message).toMatch(/principals\[2\] has an unknown field "trustedby"/);
    expect(e.message).toMatch(/principals\[3\]\.accessKeyId must not start with ASIA/);
    expect(
      thrownBy(() => parsePrincipals({ version: 3, principals: [] }, GROUPS, "p.json"), ConfigError).message,
    ).toMatch(/version must be 2/);
  });

  test("AWS files: one profile per principal and per trust entry, STS calls (only) sent to the local STS", () => {
    const principals = loadPrincipals(dir, GROUPS);
    const files = writeAwsFiles(dir, principals, "eu-west-1", {
      endpoint: "http://127.0.0.1:8090",
      accountId: "000000000000",
    });
    const credentials = readFileSync(files.credentialsFile, "utf8");
    expect(credentials).toContain(
      `[mlflow-reader]\naws_access_key_id = ${principals[1]!.accessKeyId}\naws_secret_access_key = ${principals[1]!.secretAccessKey}\n`,
    );
    expect(credentials).toContain("[data-science]\n");
    const config = readFileSync(files.configFile, "utf8");
    expect(config).toContain("[profile mlflow-model-approver]\nregion = eu-west-1\nservices = mlflow-gate-local\n");
    expect(config).toContain(
      "[profile data-science-as-mlflow-admin]\nrole_arn = arn:aws:iam::000000000000:role/mlflow-admin\nsource_profile = data-science\nexternal_id = mlflow-gate-local\nregion = eu-west-1\nservices = mlflow-gate-local\n",
    );
    expect(config).toContain(
      "[profile data-science-as-mlflow-reader]\nrole_arn = arn:aws:iam::000000000000:role/mlflow-reader\nsource_profile = data-science\nregion",
    );
    expect(config).toMatch(/\[services mlflow-gate-local\]\nsts =\n {2}endpoint_url = http:\/\/127\.0\.0\.1:8090\n$/);
    expect(files.roleProfiles.map((r) => r.name)).toEqual([
      "data-science-as-mlflow-admin",
      "data-science-as-mlflow-reader",
    ]);
    expect(statSync(files.credentialsFile).mode & 0o777).toBe(0o600);
  });

  test("the key store finds a principal by access key and its group by name", () => {
    const principals = loadPrincipals(dir, GROUPS);
    const store = principalStore(principals);
    expect(store.find(principals[1]!.accessKeyId)?.principal).toBe("mlflow-reader");
    expect(store.find("AKIANOTAKEY00000000")).toBeUndefined();
    expect(store.groupOf("mlflow-reader")).toBe("readers");
    expect(store.find(principals.find((p) => p.name === "data-science")!.accessKeyId)?.principal).toBe("data-science");
    expect(store.groupOf("data-science")).toBeUndefined();
  });
});
