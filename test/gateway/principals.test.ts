import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ConfigError } from "../../authorizer/core/errors";
import { loadPrincipals, parsePrincipals, principalStore, writeAwsFiles } from "../../gateway/principals";
import { thrownBy } from "../support/errors";

const GROUPS = new Set(["admins", "readers", "model-approvers"]);

describe("principals", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "principals-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("first start writes the three default principals with generated keys, private to the user; later starts keep them", () => {
    const first = loadPrincipals(dir, GROUPS);
    expect(first.map((p) => [p.name, p.group])).toEqual([["mlflow-admin", "admins"], ["mlflow-reader", "readers"], ["mlflow-model-approver", "model-approvers"]]);
    expect(first[0]!.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(new Set(first.map((p) => p.secretAccessKey)).size).toBe(3);
    expect(statSync(join(dir, "principals.json")).mode & 0o777).toBe(0o600);
    expect(loadPrincipals(dir, GROUPS)).toEqual(first);
  });

  test("a principal a user adds gets keys; a bad edit is refused with every problem named", () => {
    writeFileSync(join(dir, "principals.json"), JSON.stringify({ principals: [{ name: "ci-bot", group: "readers" }] }));
    expect(loadPrincipals(dir, GROUPS)[0]).toMatchObject({ name: "ci-bot", group: "readers", accessKeyId: expect.stringMatching(/^AKIA/) });
    const e = thrownBy(
      () => parsePrincipals({ principals: [{ name: "a", group: "nobody" }, { name: "a", group: "readers", accessKeyId: "lower", secretAccessKey: "x" }] }, GROUPS, "p.json"),
      ConfigError,
    );
    expect(e.message).toMatch(/principals\[0\]\.group "nobody" is not a group/);
    expect(e.message).toMatch(/principals\[1\]\.name "a" is used twice/);
    expect(e.message).toMatch(/principals\[1\]\.accessKeyId must be/);
    expect(e.message).toMatch(/principals\[1\]\.secretAccessKey must be/);
    writeFileSync(join(dir, "principals.json"), "{not json");
    expect(() => loadPrincipals(dir, GROUPS)).toThrow(ConfigError);
  });

  test("AWS credentials and config files hold one profile per principal, in the configured region", () => {
    const principals = loadPrincipals(dir, GROUPS);
    const files = writeAwsFiles(dir, principals, "eu-west-1");
    const credentials = readFileSync(files.credentialsFile, "utf8");
    expect(credentials).toContain(`[mlflow-reader]\naws_access_key_id = ${principals[1]!.accessKeyId}\naws_secret_access_key = ${principals[1]!.secretAccessKey}\n`);
    expect(readFileSync(files.configFile, "utf8")).toContain("[profile mlflow-model-approver]\nregion = eu-west-1\n");
    expect(statSync(files.credentialsFile).mode & 0o777).toBe(0o600);
  });

  test("the key store finds a principal by access key and its group by name", () => {
    const principals = loadPrincipals(dir, GROUPS);
    const store = principalStore(principals);
    expect(store.find(principals[1]!.accessKeyId)?.principal).toBe("mlflow-reader");
    expect(store.find("AKIANOTAKEY00000000")).toBeUndefined();
    expect(store.groupOf("mlflow-reader")).toBe("readers");
  });
});
