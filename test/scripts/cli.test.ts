import { execFile } from "child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { iamPolicySize, PolicyDocument } from "../../authorizer/core/compile";
import { main } from "../../scripts/cli";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

describe("help", () => {
  test.each([["--help"], ["-h"], ["help"]])("%s prints the usage of every command and exits 0", async (flag) => {
    // Act
    const r = await run(flag);
    // Assess
    expect(r.code).toBe(0);
    for (const command of ["policy check", "policy render", "policy lint", "routes diff", "api render"])
      expect(r.stdout).toContain(command);
    expect(r.stderr).toBe("");
  });
});

describe("usage errors", () => {
  test.each([
    [[], "missing command"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["policy"], "missing policy command (check, render, lint)"],
    [["policy", "approve"], 'unknown command "policy approve"'],
    [["--bogus", "policy", "lint"], "Unknown option '--bogus'"],
    [["policy", "lint", "--format", "iam"], 'option --format does not apply to "policy lint"'],
    [["policy", "lint", "extra"], 'unexpected argument "extra"'],
    [["policy", "check", "--group", "readers", "GET"], "policy check needs METHOD and PATH"],
    [["policy", "check", "GET", "/health"], "missing --group"],
    [["policy", "check", "--group"], "Option '--group <value>' argument missing"],
    [["policy", "check", "--group", "readers", "GET", "api/2.0/mlflow/runs/get"], 'PATH must start with "/"'],
    [["policy", "check", "--group", "readers", "GET", "/a%zz"], "malformed %-escape"],
    [
      ["policy", "check", "--group", "admins", "POST", "/api/2.0/mlflow/model-versions/transition-stage"],
      "TransitionModelVersionStage is decided by its body too: give --stage",
    ],
    [
      ["policy", "check", "--group", "admins", "DELETE", "/ajax-api/2.0/mlflow/registered-models/alias"],
      "DeleteRegisteredModelAlias is decided by its body too: give --alias",
    ],
    [
      [
        "policy",
        "check",
        "--group",
        "admins",
        "--alias",
        "a",
        "--creator",
        "c",
        "DELETE",
        "/api/2.0/mlflow/registered-models/alias",
      ],
      "--creator does not apply to DeleteRegisteredModelAlias (only to TransitionModelVersionStage and SetRegisteredModelAlias)",
    ],
    [
      ["policy", "check", "--group", "admins", "--stage", "Staging", "POST", "/api/2.0/mlflow/registered-models/alias"],
      "--stage does not apply to SetRegisteredModelAlias (only to TransitionModelVersionStage)",
    ],
    [["policy", "check", "--group", "admins", "--alias", "a", "GET", "/health"], "--alias does not apply to Health"],
    [
      ["policy", "check", "--group", "admins", "--stage", "Staging", "--from-stage", "Prod", "GET", "/health"],
      '--from-stage must be one of None, Staging, Production, Archived (in any letter case), not "Prod"',
    ],
    [["policy", "render", "--group", "readers", "--format", "xml"], "--format must be authorizer or iam"],
    [["policy", "render", "--group", "readers", "--format", "iam", "--group", "admins"], "give exactly one --group"],
    [
      ["policy", "render", "--group", "readers", "--format", "iam", "--account", "12"],
      '--account "12" is not a valid account',
    ],
    [
      ["policy", "render", "--group", "readers", "--stage", "prod"],
      "--region, --account and --stage apply to --format iam",
    ],
  ])("%j exits 2 with one line and the help hint", async (argv, message) => {
    // Act
    const r = await run(...argv);
    // Assess
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('run "mlflow-gate --help"');
    expect(r.stdout).toBe("");
  });

  test("an unknown group is a usage error that lists the known groups", async () => {
    // Act
    const r = await run("policy", "check", "--group", "readers", "--group", "nobody", "GET", "/health");
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'unknown group "nobody" (known groups: admins, model-approvers, readers, release-managers, writers)',
    );
  });
});

describe("policy check", () => {
  test("prints one line: the decision, the action, the groups and the reason with its surface", async () => {
    // Act
    const r = await run("policy", "check", "--group", "readers", "POST", "/api/2.0/mlflow/runs/delete");
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("DENY DeleteRun readers: no statement allows it (iam)\n");
  });

  test("upper-cases the method, strips the query string and shows the matching resource relative to the stage", async () => {
    // Act
    const r = await run(
      "policy",
      "check",
      "--group",
      "readers",
      "post",
      "/ajax-api/2.0/mlflow/runs/search?max_results=1",
    );
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("ALLOW SearchRuns readers: allowed by POST/ajax-api/2.0/mlflow/runs/search (cognito)\n");
  });

  test("names a route outside the catalog unknown-route and denies it to groups that do not opt in", async () => {
    // Act
    const r = await run(
      "policy",
      "check",
      "--group",
      "readers",
      "--group",
      "model-approvers",
      "GET",
      "/ajax-api/2.0/mlflow/not-a-route",
    );
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^DENY unknown-route readers,model-approvers: /);
  });

  test("decides with the union of the groups", async () => {
    // Act
    const r = await run(
      "policy",
      "check",
      "--group",
      "readers",
      "--group",
      "model-approvers",
      "--stage",
      "Staging",
      "POST",
      "/api/2.0/mlflow/model-versions/transition-stage",
    );
    // Assess
    expect(r.stdout).toMatch(/^ALLOW TransitionModelVersionStage readers,model-approvers: allowed by /);
  });

  test("public routes are allowed to everyone", async () => {
    // Act
    const r = await run("policy", "check", "--group", "readers", "GET", "/health");
    // Assess
    expect(r.stdout).toBe("ALLOW Health readers: public route (none)\n");
  });
});

describe("policy check: never an ALLOW the deployed system could not give", () => {
  test("a group with every write, which no longer hits a size wall (issue 17): ALLOW on both surfaces, and lint agrees", async () => {
    // Prepare: readers plus every write, the first group a new user writes
    const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-unfit-"));
    cpSync(GROUPS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, "data-scientists.yaml"), "description: d\nextends: readers\nallow: [class:write]\n");
    const check = (path: string) =>
      run("--groups-dir", dir, "policy", "check", "--group", "data-scientists", "POST", path);
    // Act
    const ui = await check("/ajax-api/2.0/mlflow/runs/log-metric");
    const sdk = await check("/api/2.0/mlflow/runs/log-metric");
    const lint = await run("--groups-dir", dir, "policy", "lint");
    // Assess
    expect(ui.stdout).toBe(
      "ALLOW LogMetric data-scientists: allowed by POST/ajax-api/2.0/mlflow/runs/log-metric (cognito)\n",
    );
    expect(sdk.stdout).toBe("ALLOW LogMetric data-scientists: allowed by POST/api/2.0/mlflow/runs/log-metric (iam)\n");
    expect(lint.code).toBe(0);
    expect(lint.stdout).toMatch(
      /^ {2}data-scientists +\d{4} \/ 8192 +POST \/ajax-api\/2\.0\/mlflow\/runs\/\{proxy\+\} +3 \/ 9: /m,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("policy check: promotion routes, decided as the guard decides their body", () => {
  // Prepare: group files with promotion blocks (the tier of the issue), in a directory of their own.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mlflow-gate-promotion-"));
    cpSync(GROUPS_DIR, dir, { recursive: true });
    writeFileSync(
      join(dir, "model-approvers.yaml"),
      "description: a\nextends: readers\nallow: [class:registry-promote]\npromotion:\n  stages: { to: [Staging, Archived] }\n  aliases: { allow: ['*'], deny: [champion, 'prod*'] }\n",
    );
    writeFileSync(
      join(dir, "release-managers.yaml"),
      "description: m\nextends: readers\nallow: [class:registry-promote]\npromotion:\n  stages: { to: [Production, Archived] }\n  aliases: { allow: [champion, 'prod*'] }\n  separateFromCreator: true\n",
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (...argv: string[]) => run("--groups-dir", dir, "policy", "check", ...argv);
  const TRANSITION = ["POST", "/api/2.0/mlflow/model-versions/transition-stage"];
  const ALIAS = ["POST", "/ajax-api/2.0/mlflow/registered-models/alias"];

  test("an approver moves a version to Staging: the route, then the rule that lets it through", async () => {
    // Act
    const r = await check("--group", "model-approvers", "--stage", "staging", ...TRANSITION);
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "ALLOW TransitionModelVersionStage model-approvers: allowed by POST/api/2.0/mlflow/model-versions/transition-stage (iam); the guard allows it by the promotion rules of policies/groups/model-approvers.yaml\n",
    );
  });

  test.each(["Production", "production", "PRODUCTION", "pRoDuCtIoN"])(
    "an approver may not move a version to %s: the guard's 403 message, naming the rule and the file",
    async (stage) => {
      // Act
      const r = await check("--group", "model-approvers", "--stage", stage, ...TRANSITION);
      // Assess
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        "DENY TransitionModelVersionStage model-approvers: allowed by POST/api/2.0/mlflow/model-versions/transition-stage (iam), but the guard refuses it (403 promotion-stage-not-allowed): policies/groups/model-approvers.yaml allows no promotion to Production\n",
      );
    },
  );

  test.each(["Prod", " Production", "PRODUCTİON", ""])(
    "a stage MLflow would not read (%j) is a DENY with the guard's 400 and why",
    async (stage) => {
      // Act
      const r = await check("--group", "admins", `--stage=${stage}`, ...TRANSITION);
      // Assess
      expect(r.code).toBe(0);
      expect(lines(r.stdout)).toHaveLength(1);
      expect(r.stdout).toMatch(
        /^DENY TransitionModelVersionStage admins: .*, but the guard refuses it \(400 promotion-request-unreadable\): stage must be /,
      );
    },
  );

  test("the two-person rule: someone else's version passes, the caller's own and one of unknown creator do not", async () => {
    // Act
    const other = await check(
      "--group",
      "release-managers",
      "--stage",
      "Production",
      "--creator",
      "bob",
      ...TRANSITION,
    );
    const own = await check(
      "--group",
      "release-managers",
      "--stage",
      "Production",
      "--creator",
      "bob",
      "--caller",
      "bob",
      ...TRANSITION,
    );
    const unknown = await check(
      "--group",
      "release-managers",
      "--stage",
      "Production",
      "--caller",
      "bob",
      ...TRANSITION,
    );
    // Assess
    expect(other.stdout).toMatch(/^ALLOW /);
    expect(own.stdout).toMatch(
      /^DENY .*\(403 promotion-same-person\): policies\/groups\/release-managers\.yaml allows no promotion of a version you created \(bob\): the two-person rule\n$/,
    );
    expect(unknown.stdout).toMatch(/^DENY .*\(403 promotion-same-person\): .*creator is unknown/);
  });

  test("--from-stage and --archive-existing: the version's current stage and the flag that archives the others", async () => {
    // Prepare: a group that may only move versions out of Staging, and not archive
    writeFileSync(
      join(dir, "stagers.yaml"),
      "description: s\nallow: [TransitionModelVersionStage]\npromotion:\n  stages: { to: [Production], from: [Staging] }\n",
    );
    // Act
    const fromNone = await check("--group", "stagers", "--stage", "Production", ...TRANSITION);
    const fromStaging = await check(
      "--group",
      "stagers",
      "--stage",
      "Production",
      "--from-stage",
      "STAGING",
      ...TRANSITION,
    );
    const archiving = await check(
      "--group",
      "stagers",
      "--stage",
      "Production",
      "--from-stage",
      "Staging",
      "--archive-existing",
      ...TRANSITION,
    );
    // Assess
    expect(fromNone.stdout).toMatch(/^DENY .*allows no move out of None\n$/);
    expect(fromStaging.stdout).toMatch(/^ALLOW /);
    expect(archiving.stdout).toMatch(/^DENY .*allows no archiving/);
    rmSync(join(dir, "stagers.yaml"));
  });

  test("aliases: an approver sets challenger-2, not champion in any case, nor a look-alike", async () => {
    // Act
    const challenger = await check("--group", "model-approvers", "--alias", "challenger-2", ...ALIAS);
    const champion = await check("--group", "model-approvers", "--alias", "Champion", ...ALIAS);
    const lookAlike = await check("--group", "model-approvers", "--alias", "champіon", ...ALIAS);
    // Assess
    expect(challenger.stdout).toMatch(
      /^ALLOW SetRegisteredModelAlias model-approvers: .*\(cognito\); the guard allows it/,
    );
    expect(champion.stdout).toMatch(
      /^DENY .*\(403 promotion-alias-not-allowed\): policies\/groups\/model-approvers\.yaml allows no setting alias Champion\n$/,
    );
    expect(lookAlike.stdout).toMatch(/^DENY .*\(403 promotion-alias-undecidable\)/);
  });

  test("a group without a promotion block may do what the route allows, and the line says so", async () => {
    // Act
    const r = await check("--group", "admins", "--stage", "Production", ...TRANSITION);
    // Assess
    expect(r.stdout).toMatch(/the guard allows it as policies\/groups\/admins\.yaml has no promotion rules/);
  });

  test("a group without the route right: the gateway's DENY, the body never read", async () => {
    // Act
    const r = await check("--group", "readers", "--stage", "Production", ...TRANSITION);
    // Assess
    expect(r.stdout).toBe("DENY TransitionModelVersionStage readers: no statement allows it (iam)\n");
  });
});

describe("policy render", () => {
  const stagePrefix = /^arn:aws:execute-api:\*:\*:\$\{ApiId\}\/\*\//;

  test("authorizer (default): the policy document of the group, any region, account and stage, placeholder API id", async () => {
    // Act
    const r = await run("policy", "render", "--group", "readers");
    // Assess
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as PolicyDocument;
    expect(doc.Version).toBe("2012-10-17");
    const allow = doc.Statement.find((s) => s.Effect === "Allow");
    const resources = [allow?.Resource ?? []].flat();
    expect(resources.length).toBeGreaterThan(0);
    for (const res of resources) expect(res).toMatch(stagePrefix);
    expect(resources).toContainEqual(expect.stringMatching(/\/POST\/graphql$/));
    expect(resources).not.toContainEqual(expect.stringMatching(/\/POST\/ajax-api\/2\.0\/mlflow\/runs\/delete$/));
  });

  test("authorizer: --api-id replaces the placeholder", async () => {
    // Act
    const r = await run("policy", "render", "--group", "readers", "--format", "authorizer", "--api-id", "abc123defg");
    // Assess
    const doc = JSON.parse(r.stdout) as PolicyDocument;
    for (const res of doc.Statement.flatMap((s) => [s.Resource].flat()))
      expect(res).toMatch(/^arn:aws:execute-api:\*:\*:abc123defg\/\*\//);
  });

  test("iam: the managed policies of the role, with CloudFormation placeholders by default, each within IAM's size limit", async () => {
    // Act
    const r = await run("policy", "render", "--group", "model-approvers", "--format", "iam");
    // Assess
    expect(r.code).toBe(0);
    const docs = JSON.parse(r.stdout) as PolicyDocument[];
    expect(Array.isArray(docs)).toBe(true);
    expect(docs.length).toBeGreaterThan(0);
    const resources = docs.flatMap((d) =>
      d.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Resource].flat()),
    );
    for (const res of resources)
      expect(res).toMatch(
        /^arn:aws:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{ApiId\}\/\$\{Stage\}\/[A-Z]+\/(api|v1|gateway)\//,
      );
    expect(resources).toContain(
      "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/${Stage}/POST/api/2.0/mlflow/model-versions/transition-stage",
    );
    for (const d of docs) expect(iamPolicySize(d)).toBeLessThanOrEqual(6144);
  });
});

describe("policy lint", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "mlflow-gate-groups-"));
    cpSync(GROUPS_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("reports every problem of every broken file as file:line and exits 1", async () => {
    // Prepare
    writeFileSync(join(dir, "unknown-action.yaml"), "description: x\nallow:\n  - class:read\n  - DoesNotExist\n");
    writeFileSync(join(dir, "cycle-a.yaml"), "description: a\nextends: cycle-b\nallow: [GetRun]\n");
    writeFileSync(join(dir, "cycle-b.yaml"), "description: b\nextends: cycle-a\nallow: [GetRun]\n");
    writeFileSync(join(dir, "bad-yaml.yaml"), "description: x\nallow: [GetRun\n");
    writeFileSync(join(dir, "unknown-key.yaml"), "description: x\nallow: [GetRun]\npermissions: [GetRun]\n");
    writeFileSync(join(dir, "orphan.yaml"), "description: x\nextends: nobody\nallow: [GetRun]\n");
    writeFileSync(join(dir, "extends-broken.yaml"), "description: x\nextends: bad-yaml\nallow: [GetRun]\n");
    // Act
    const r = await run("--groups-dir", dir, "policy", "lint");
    // Assess
    expect(r.code).toBe(1);
    const out = lines(r.stdout);
    const at = (file: string, line: number) => `${join(dir, file)}:${line}: `;
    expect(out).toContainEqual(`${at("unknown-action.yaml", 4)}"DoesNotExist" matches no action of MLflow 3.17.2`);
    expect(out).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${escape(at("cycle-a.yaml", 1))}extends cycle: cycle-a -> cycle-b -> cycle-a$`),
      ),
    );
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`^${escape(at("bad-yaml.yaml", 3))}`)));
    expect(out).toContainEqual(`${at("unknown-key.yaml", 1)}must NOT have additional properties (permissions)`);
    expect(out).toContainEqual(`${at("orphan.yaml", 1)}extends unknown group "nobody"`);
    // A broken base reports its own problem only, not an unknown group in each file that extends it.
    expect(out.filter((l) => l.includes("extends-broken.yaml"))).toEqual([]);
    expect(out[out.length - 1]).toBe("policy lint: 5 problems");
    expect(r.stderr).toBe("");
  });

  test("the committed group files lint clean: no problem lines, exit 0", async () => {
    // Act
    const r = await run("policy", "lint");
    // Assess
    const problems = lines(r.stdout).filter((l) => /^\S+:\d+: /.test(l));
    expect(problems).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policy lint: 5 groups, \d+ routes: no problems\n$/);
  });

  test("prints the worst-case sizes of each group", async () => {
    // Act
    const r = await run("policy", "lint");
    // Assess
    for (const group of ["admins", "model-approvers", "readers", "release-managers"]) {
      expect(r.stdout).toMatch(
        new RegExp(`^  ${group} +\\d+ / 8192 +[A-Z]+ /\\S* +\\d+ / 9: [\\d, ]+ +\\d+ / \\d+ +\\d+ / \\d+$`, "m"),
      );
    }
  });

  test("a group file that fails to parse is reported on stderr by the other commands, exit 1, without a stack trace", async () => {
    // Prepare
    writeFileSync(join(dir, "bad-yaml.yaml"), "description: x\nallow: [GetRun\n");
    // Act
    const r = await run("--groups-dir", dir, "policy", "check", "--group", "readers", "GET", "/health");
    // Assess
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^${escape(join(dir, "bad-yaml.yaml"))}:3: `))]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("an unreadable catalog is one line naming the file, exit 1", async () => {
    // Prepare
    const catalog = join(dir, "catalog.json");
    writeFileSync(catalog, "{");
    // Act
    const r = await run("--catalog", catalog, "policy", "lint");
    // Assess
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^${escape(catalog)}: invalid JSON: `))]);
  });
});

describe("api render", () => {
  test("prints the API definition, the committed policies/api-definition.json", async () => {
    // Act
    const r = await run("api", "render");
    // Assess
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(readFileSync(join("policies", "api-definition.json"), "utf8"));
    expect(JSON.parse(r.stdout)).toMatchObject({ openapi: "3.0.1", "x-amazon-apigateway-binary-media-types": ["*/*"] });
  });

  test("--deployed is the default", async () => {
    expect((await run("api", "render", "--deployed")).stdout).toBe((await run("api", "render")).stdout);
  });

  describe("--local", () => {
    const saved = process.env.MLFLOW_GATE_DATA;
    let data: string;
    beforeEach(() => {
      data = mkdtempSync(join(tmpdir(), "mlflow-gate-api-"));
      process.env.MLFLOW_GATE_DATA = data;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.MLFLOW_GATE_DATA;
      else process.env.MLFLOW_GATE_DATA = saved;
      rmSync(data, { recursive: true, force: true });
    });

    test("prints the definition the local stack's gateway runs, as the stack wrote it", async () => {
      // Prepare
      writeFileSync(join(data, "api-definition.json"), '{"openapi":"3.0.1"}\n');
      // Act
      const r = await run("api", "render", "--local");
      // Assess
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '{"openapi":"3.0.1"}\n', ""]);
    });

    test("without a local stack in MLFLOW_GATE_DATA: exit 1, saying how to get one", async () => {
      const r = await run("api", "render", "--local");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /api-definition\.json: start the local stack \("npm start"\) with the same MLFLOW_GATE_DATA/,
      );
    });
  });

  test("takes no argument, and one of --local and --deployed", async () => {
    expect((await run("api", "render", "x")).code).toBe(2);
    const both = await run("api", "render", "--local", "--deployed");
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("--local and --deployed exclude each other")]);
  });
});

describe("routes diff", () => {
  test("the committed catalog equals the MLflow installed in .venv: exit 0", async () => {
    // Act
    const r = await run("routes", "diff");
    // Assess
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^policies\/mlflow-routes\.json matches MLflow 3\.17\.2 in \.venv \(\d+ routes\)\n$/);
    expect(r.code).toBe(0);
  });

  test("lists missing, extra and changed routes and exits 1 when they differ", async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-catalog-"));
    const catalog = JSON.parse(readFileSync(CATALOG_FILE, "utf8")) as {
      routes: { method: string; path: string; class: string; action: string }[];
    };
    const dropped = catalog.routes.findIndex((r) => r.method === "POST" && r.path === "/api/2.0/mlflow/runs/delete");
    catalog.routes.splice(dropped, 1);
    const changed = catalog.routes.find((r) => r.method === "POST" && r.path === "/api/2.0/mlflow/runs/search");
    if (changed) changed.action = "SearchRunsRenamed";
    catalog.routes.push({
      method: "GET",
      path: "/api/9.9/mlflow/nothing",
      action: "Nothing",
      class: "read",
      ...{ auth: "iam", source: "flask" },
    });
    const file = join(dir, "catalog.json");
    writeFileSync(file, JSON.stringify(catalog));
    try {
      // Act
      const r = await run("--catalog", file, "routes", "diff");
      // Assess
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /missing: served by MLflow 3\.17\.2, not in .*\(1\):\n {2}POST \/api\/2\.0\/mlflow\/runs\/delete\n/,
      );
      expect(r.stdout).toMatch(
        /extra: in .*, not served by MLflow 3\.17\.2 \(1\):\n {2}GET \/api\/9\.9\/mlflow\/nothing\n/,
      );
      expect(r.stdout).toContain(
        "  POST /api/2.0/mlflow/runs/search: committed SearchRunsRenamed/read/iam/flask, installed SearchRuns/read/iam/flask",
      );
      expect(r.stdout).toContain('run "npm run routes:generate"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("bin/mlflow-gate.js policy check (acceptance)", () => {
  const exec = promisify(execFile);
  test.each([
    ["readers", "POST", "/api/2.0/mlflow/runs/delete", "DENY"],
    ["readers", "POST", "/ajax-api/2.0/mlflow/runs/search", "ALLOW"],
    ["readers", "POST", "/graphql", "ALLOW"],
    ["readers", "GET", "/ajax-api/2.0/mlflow/gateway-proxy", "DENY"],
    ["model-approvers", "POST", "/api/2.0/mlflow/model-versions/transition-stage --stage Staging", "ALLOW"],
    ["model-approvers", "POST", "/api/2.0/mlflow/runs/create", "DENY"],
    ["admins", "POST", "/api/2.0/mlflow/runs/create", "ALLOW"],
    ["admins", "POST", "/api/2.0/mlflow/model-versions/transition-stage --stage production", "ALLOW"],
    ["admins", "POST", "/api/2.0/mlflow/model-versions/transition-stage --stage Prod", "DENY"],
  ])("%s %s %s: %s", async (group, method, pathAndFlags, decision) => {
    // Act
    const { stdout } = await exec(
      process.execPath,
      ["bin/mlflow-gate.js", "policy", "check", "--group", group, method, ...pathAndFlags.split(" ")],
      { cwd: REPO_ROOT },
    );
    // Assess (execFile rejects on a non-zero exit)
    expect(lines(stdout)).toHaveLength(1);
    expect(stdout.split(" ")[0]).toBe(decision);
  });
});

describe("with teams (--teams-dir policies/examples/teams)", () => {
  const TEAMS = ["--teams-dir", "policies/examples/teams"];
  const CREATE = "/api/2.0/mlflow/experiments/create";
  const TRANSITION = "/api/2.0/mlflow/model-versions/transition-stage";
  const check = (...argv: string[]) => run(...TEAMS, "policy", "check", ...argv);

  test("the usage names --teams-dir, --team and the teams commands", async () => {
    // Act
    const r = await run("--help");
    // Assess
    for (const text of ["[--teams-dir DIR]", "[--team T]", "teams list", "teams show TEAM | teams show --group G"])
      expect(r.stdout).toContain(text);
  });

  test.each([
    [
      ["--group", "team-a-writers", "--team", "team-c", "POST", CREATE],
      'unknown team "team-c" (teams: default, team-a, team-b)',
    ],
    [
      ["--group", "readers", "POST", CREATE],
      'unknown group "readers" (known groups: admins, team-a-model-approvers, team-a-readers, team-a-release-managers, team-a-writers, team-b-model-approvers, team-b-readers, team-b-release-managers, team-b-writers)',
    ],
    [
      ["--group", "team-a-writers", "--team", "team-a", "POST", `/ws/team-b${CREATE}`],
      "PATH is in workspace team-b, --team says team-a",
    ],
  ])("policy check %j is a usage error (exit 2)", async (argv, message) => {
    // Act
    const r = await check(...argv);
    // Assess
    expect(r.stderr).toBe(`mlflow-gate: ${message}; run "mlflow-gate --help"\n`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });

  test("--team without team files is a usage error that names the directory", async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), "mlflow-gate-teams-"));
    try {
      // Act
      const r = await run(
        "--teams-dir",
        empty,
        "policy",
        "check",
        "--group",
        "writers",
        "--team",
        "team-a",
        "POST",
        CREATE,
      );
      // Assess
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `mlflow-gate: --team needs team files, and ${empty} has none (docs/teams.md); run "mlflow-gate --help"\n`,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a team-a reader may not create an experiment in team-a; a team-a writer may, in team-a only", async () => {
    // Act
    const reader = await check("--group", "team-a-readers", "--team", "team-a", "POST", CREATE);
    const writer = await check("--group", "team-a-writers", "--team", "team-a", "POST", CREATE);
    const elsewhere = await check("--group", "team-a-writers", "--team", "team-b", "POST", CREATE);
    const prefixedElsewhere = await check("--group", "team-a-writers", "POST", `/ws/team-b${CREATE}`);
    const prefixedHome = await check("--group", "team-a-writers", "POST", `/ws/team-a${CREATE}`);
    const inDefault = await check("--group", "team-a-writers", "--team", "default", "POST", CREATE);
    // Assess
    expect(reader.stdout).toBe("DENY CreateExperiment team-a-readers in team-a: no statement allows it (iam)\n");
    expect(writer.stdout).toBe(
      "ALLOW CreateExperiment team-a-writers in team-a: allowed by POST/ws/team-a/api/2.0/mlflow/experiments/create (iam)\n",
    );
    expect(elsewhere.stdout).toBe("DENY CreateExperiment team-a-writers in team-b: no statement allows it (iam)\n");
    expect(prefixedElsewhere.stdout).toBe(elsewhere.stdout);
    expect(prefixedHome.stdout).toBe(writer.stdout);
    expect(inDefault.stdout).toBe("DENY CreateExperiment team-a-writers in default: no statement allows it (iam)\n");
    for (const r of [reader, writer, elsewhere, prefixedElsewhere, prefixedHome, inDefault]) expect(r.code).toBe(0);
  });

  test("an MLflow route outside any workspace is no method of the API with teams: DENY, saying where it is", async () => {
    // Act
    const r = await check("--group", "team-a-writers", "POST", CREATE);
    const publicRoute = await check("--group", "team-a-writers", "GET", "/health");
    // Assess
    expect(r.stdout).toBe(
      "DENY unknown-route team-a-writers: the API has no such method (Missing Authentication Token) (iam); with teams, MLflow's routes are under /ws/<team>/: give --team T or PATH /ws/T/api/2.0/mlflow/experiments/create\n",
    );
    expect(publicRoute.stdout).toBe("ALLOW Health team-a-writers: public route (none)\n");
  });

  test("admins reach default and every team", async () => {
    // Act
    const inDefault = await check("--group", "admins", "--team", "default", "POST", CREATE);
    const inTeam = await check("--group", "admins", "--team", "team-b", "POST", CREATE);
    // Assess
    expect(inDefault.stdout).toMatch(/^ALLOW CreateExperiment admins in default: allowed by /);
    expect(inTeam.stdout).toMatch(/^ALLOW CreateExperiment admins in team-b: allowed by /);
  });

  test("a team-a release manager promotes to Production in team-a (two-person rule), and not in team-b", async () => {
    // Act
    const promote = (team: string, creator: string) =>
      check(
        "--group",
        "team-a-release-managers",
        "--team",
        team,
        "--stage",
        "Production",
        "--creator",
        creator,
        "--caller",
        "alice",
        "POST",
        TRANSITION,
      );
    const other = await promote("team-a", "bob");
    const own = await promote("team-a", "alice");
    const elsewhere = await promote("team-b", "bob");
    // Assess
    expect(other.stdout).toBe(
      "ALLOW TransitionModelVersionStage team-a-release-managers in team-a: allowed by POST/ws/team-a/api/2.0/mlflow/model-versions/transition-stage (iam); the guard allows it by the promotion rules of policies/groups/release-managers.yaml\n",
    );
    expect(own.stdout).toMatch(
      /^DENY TransitionModelVersionStage team-a-release-managers in team-a: .*\(403 promotion-same-person\)/,
    );
    expect(elsewhere.stdout).toBe(
      "DENY TransitionModelVersionStage team-a-release-managers in team-b: no statement allows it (iam)\n",
    );
  });

  test("the guard's promotion rules are those of the tiers held in the request's workspace", async () => {
    // Prepare: one group, release manager in team-a and model approver (no Production) in team-b.
    const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-teams-"));
    writeFileSync(join(dir, "team-a.yaml"), "description: A.\ntiers:\n  release-managers: [mixed]\n");
    writeFileSync(join(dir, "team-b.yaml"), "description: B.\ntiers:\n  model-approvers: [mixed]\n");
    try {
      // Act
      const promote = (team: string) =>
        run(
          "--teams-dir",
          dir,
          "policy",
          "check",
          "--group",
          "mixed",
          "--team",
          team,
          "--stage",
          "Production",
          "--creator",
          "bob",
          "POST",
          TRANSITION,
        );
      const inA = await promote("team-a");
      const inB = await promote("team-b");
      // Assess
      expect(inA.stdout).toMatch(
        /^ALLOW TransitionModelVersionStage mixed in team-a: .*promotion rules of policies\/groups\/release-managers\.yaml\n$/,
      );
      expect(inB.stdout).toMatch(
        /^DENY TransitionModelVersionStage mixed in team-b: allowed by .*, but the guard refuses it \(403 promotion-stage-not-allowed\): policies\/groups\/model-approvers\.yaml allows no promotion to Production\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("policy render places a team group's resources under its workspace only", async () => {
    // Act
    const authorizer = await run(...TEAMS, "policy", "render", "--group", "team-a-readers");
    const iam = await run(...TEAMS, "policy", "render", "--group", "team-b-writers", "--format", "iam");
    // Assess
    expect(authorizer.code).toBe(0);
    expect(iam.code).toBe(0);
    const resources = (text: string): string[] => {
      const parsed = JSON.parse(text) as PolicyDocument | PolicyDocument[];
      return [parsed].flat().flatMap((d) => d.Statement.flatMap((s) => [s.Resource].flat()));
    };
    const a = resources(authorizer.stdout);
    const b = resources(iam.stdout);
    expect(a.length).toBeGreaterThan(0);
    for (const res of a) expect(res).toMatch(/^arn:aws:execute-api:\*:\*:\$\{ApiId\}\/\*\/[A-Z]+\/ws\/team-a\//);
    expect(a).toContain("arn:aws:execute-api:*:*:${ApiId}/*/GET/ws/team-a/ajax-api/2.0/mlflow/experiments/get");
    expect(b.length).toBeGreaterThan(0);
    for (const res of b) expect(res).toMatch(/\/\$\{Stage\}\/[A-Z]+\/ws\/team-b\//);
    expect(b).toContain(
      "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/${Stage}/POST/ws/team-b/api/2.0/mlflow/experiments/create",
    );
  });

  describe("policy lint of the example teams", () => {
    let r: Awaited<ReturnType<typeof run>>;
    beforeAll(async () => {
      r = await run(...TEAMS, "policy", "lint");
    }, 180_000);

    test("is clean: exit 0, no problem lines, the teams counted in the last line", () => {
      expect(lines(r.stdout).filter((l) => /^\S+:\d+: /.test(l))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\npolicy lint: 5 groups, 2 teams \(8 team groups\), \d+ routes: no problems\n$/);
    });

    test("prints the Teams table after the tiers' sizes: each team group, where it holds which tier, its sizes", () => {
      const out = r.stdout;
      expect(out.indexOf("Teams (")).toBeGreaterThan(out.indexOf("Sizes, worst case"));
      for (const team of ["team-a", "team-b"])
        for (const tier of ["readers", "writers", "model-approvers", "release-managers"])
          expect(out).toMatch(
            new RegExp(
              `^  ${team}-${tier} +${team}: ${tier} +\\d+ / 8192 +[A-Z]+ /ws/\\{workspace\\}/\\S+ +\\d+ / 9: [\\d, ]+$`,
              "m",
            ),
          );
      // admins is a tier (the first table), not a team group.
      expect(out.slice(out.indexOf("Teams ("))).not.toMatch(/^ {2}admins /m);
    });

    test("prints the unions of users in several teams, with their labels", () => {
      expect(r.stdout).toMatch(
        /^ {2}every group of team-a \(team-a-model-approvers \+ team-a-readers \+ team-a-release-managers \+ team-a-writers\): \d+ \/ 8192 for /m,
      );
      expect(r.stdout).toMatch(
        /^ {2}one group of each of 2 teams \(team-a-writers \+ team-b-writers\): \d+ \/ 8192 for /m,
      );
    });
  });

  describe("broken team files", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "mlflow-gate-teams-"));
      cpSync(EXAMPLE_TEAMS_DIR, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test("policy lint lists each problem once as file:line and exits 1", async () => {
      // Prepare
      writeFileSync(
        join(dir, "team-c.yaml"),
        "description: C.\ntiers:\n  readers: [readers]\n  approvers: [team-c-approvers]\n  writers: [admins]\n",
      );
      writeFileSync(join(dir, "Team_D.yaml"), "description: D.\ntiers:\n  readers: [team-d-readers]\n");
      // Act
      const r = await run("--teams-dir", dir, "policy", "lint");
      // Assess
      const at = (file: string, line: number) => `${join(dir, file)}:${line}: `;
      const out = lines(r.stdout);
      expect(r.code).toBe(1);
      expect(out).toContainEqual(
        `${at("team-c.yaml", 3)}"readers" is a group file's name: a tier's holders need names of their own (e.g. team-c-readers)`,
      );
      expect(out).toContainEqual(
        expect.stringMatching(
          new RegExp(`^${escape(at("team-c.yaml", 4))}unknown tier "approvers": a tier is a group file \\(admins, `),
        ),
      );
      expect(out).toContainEqual(
        `${at("team-c.yaml", 5)}"admins" reaches every workspace already (workspaces: all in its group file)`,
      );
      expect(out.filter((l) => l.startsWith(at("Team_D.yaml", 1)))).toEqual([
        expect.stringMatching(/team name "Team_D" must be /),
      ]);
      expect(out[out.length - 1]).toBe("policy lint: 4 problems");
      expect(r.stdout).not.toContain("Teams (");
    });

    test("the other commands stop on a team file that does not parse: file:line on stderr, exit 1", async () => {
      // Prepare
      writeFileSync(join(dir, "team-c.yaml"), "description: [\n");
      // Act
      const r = await run("--teams-dir", dir, "policy", "check", "--group", "team-a-readers", "GET", "/health");
      // Assess
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(new RegExp(`^${escape(join(dir, "team-c.yaml"))}:\\d+: `)),
      ]);
      expect(r.stdout).toBe("");
    });

    test("the other commands stop on a team file naming an unknown tier, exit 1", async () => {
      // Prepare
      writeFileSync(join(dir, "team-c.yaml"), "description: C.\ntiers:\n  approvers: [team-c-approvers]\n");
      // Act
      const r = await run("--teams-dir", dir, "policy", "render", "--group", "team-a-readers");
      // Assess
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(new RegExp(`^${escape(join(dir, "team-c.yaml"))}:3: unknown tier "approvers"`)),
      ]);
      expect(r.stdout).toBe("");
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
