import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ConfigError } from "../../authorizer/core/errors";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { loadPolicyBundle, parsePolicyBundle, PolicyBundle } from "../../authorizer/policy-bundle";
import { thrownBy } from "../support/errors";

const ROOT = join(__dirname, "..", "..");
const bundle = (): PolicyBundle =>
  JSON.parse(
    JSON.stringify({
      catalog: loadRouteCatalog(join(ROOT, "policies", "mlflow-routes.json")),
      groups: loadGroupFiles(join(ROOT, "policies", "groups"), ROOT),
    }),
  );

const messageOf = (act: () => unknown): string => thrownBy(act, ConfigError).message;

describe("parsePolicyBundle", () => {
  it("resolves the groups of a bundle as written by the build", () => {
    // Act
    const set = parsePolicyBundle(bundle());
    // Assess
    expect([...set.groups.keys()].sort()).toEqual([
      "admins",
      "model-approvers",
      "readers",
      "release-managers",
      "writers",
    ]);
  });

  it("serves precompiled resources as they are, without compiling", () => {
    // Prepare: a recognisable precompiled entry for readers
    const b = {
      ...bundle(),
      compiled: [{ groups: ["readers"], surface: "cognito", allow: ["GET/precompiled"], deny: [] }],
    };
    // Act
    const set = parsePolicyBundle(b);
    // Assess
    expect(set.resourcesFor(["readers"], "cognito")).toEqual({ allow: ["GET/precompiled"], deny: [] });
    expect(set.resourcesFor(["readers"], "iam").allow).toContain("POST/api/2.0/mlflow/runs/search");
  });

  it("refuses precompiled entries that name unknown groups or surfaces or are not lists of strings", () => {
    // Prepare
    const b = {
      ...bundle(),
      compiled: [
        { groups: ["ghosts"], surface: "cognito", allow: [], deny: [] },
        { groups: ["readers"], surface: "ftp", allow: [1], deny: [] },
      ],
    };
    // Act
    const message = messageOf(() => parsePolicyBundle(b));
    // Assess
    expect(message).toMatch(/compiled\[0\]\.groups must name groups of the bundle/);
    expect(message).toMatch(/compiled\[1\]\.surface must be cognito or iam/);
    expect(message).toMatch(/compiled\[1\]\.allow and \.deny must be lists of strings/);
  });

  it("lists every malformed group record", () => {
    // Prepare
    const b = bundle() as unknown as { groups: Record<string, unknown>[] };
    b.groups[0]!.name = "Admins!";
    b.groups[1]!.allow = ["class:read"];
    b.groups[2]!.unknownRoutes = "maybe";
    // Act
    const message = messageOf(() => parsePolicyBundle(b));
    // Assess
    expect(message).toBe(
      [
        "policy bundle:",
        "  groups[0].name must match ^[a-z][a-z0-9-]{0,62}$",
        "  groups[1].allow must be a list of { pattern, line }",
        "  groups[2].unknownRoutes must be allow or deny",
      ].join("\n"),
    );
  });

  it("reports a group that extends an unknown one", () => {
    // Prepare
    const b = bundle() as unknown as { groups: { name: string; extends: string[] }[] };
    b.groups.find((g) => g.name === "model-approvers")!.extends = ["viewers"];
    // Act
    const message = messageOf(() => parsePolicyBundle(b));
    // Assess
    expect(message).toContain('extends unknown group "viewers"');
  });

  it.each([
    ["no groups", { catalog: {} }, "policy bundle: groups must be a non-empty list"],
    [
      "a broken catalog",
      { catalog: { routes: "none" }, groups: bundle().groups },
      "policy bundle: mlflowVersion must be a string; routes must be an array",
    ],
  ])("rejects a bundle with %s", (_, input, expected) => {
    // Act
    const message = messageOf(() => parsePolicyBundle(input));
    // Assess
    expect(message).toBe(expected);
  });
});

describe("loadPolicyBundle", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "policy-bundle-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loads a bundle file", () => {
    // Prepare
    const file = join(dir, "policy-bundle.json");
    writeFileSync(file, JSON.stringify(bundle()));
    // Act
    const set = loadPolicyBundle(file);
    // Assess
    expect(set.knownGroups(["readers", "x"])).toEqual(["readers"]);
  });

  it("names the file when it is missing", () => {
    // Act
    const message = messageOf(() => loadPolicyBundle(join(dir, "absent.json")));
    // Assess
    expect(message).toMatch(new RegExp(`^cannot read the policy bundle ${dir}/absent.json: ENOENT`));
  });

  it("names the file when it is not JSON", () => {
    // Prepare
    const file = join(dir, "policy-bundle.json");
    writeFileSync(file, "{ catalog: ");
    // Act
    const message = messageOf(() => loadPolicyBundle(file));
    // Assess
    expect(message).toMatch(new RegExp(`^policy bundle ${file} is not JSON`));
  });
});
