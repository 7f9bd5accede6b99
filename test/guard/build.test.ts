// Builds the guard's bundle into a temp dir and starts it with `node` as the sidecar image does: only the
// bundle's folder, no repository, no tsx. Nothing leaves loopback (the upstream is a closed local port).
import { ChildProcess, spawn, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  buildGuard,
  GUARD_BUNDLE_FILES,
  GUARD_BUNDLE_TEAMS_DIR,
  guardBundleFiles,
  GuardBuild,
} from "../../guard/build";
import { GUARD_ENV } from "../../guard/config";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR } from "../../project/paths";

let dir: string;
let build: GuardBuild;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "build-guard-"));
  build = buildGuard(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON lines a stream carried. */
const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Runs the bundle with only `env` (and PATH), from a working directory that is not the bundle's. */
function startBundle(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [build.mainFile], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? "", ...env } });
}

/** Resolves with the bundle's first event line, once it is written. */
function firstEvent(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      if (seen.includes("\n")) resolve(JSON.parse(seen.split("\n")[0]!) as Record<string, unknown>);
    });
    child.once("exit", (code) => reject(new Error(`exited (${code}) before any event: ${seen}`)));
  });
}

describe("buildGuard", () => {
  it("writes the bundle and the route catalog in the repository's layout", () => {
    // Assess
    expect(build.mainFile).toBe(join(dir, "guard", "main.js"));
    expect(build.catalogFile).toBe(join(dir, "policies", "mlflow-routes.json"));
    expect(Object.values(GUARD_BUNDLE_FILES).sort()).toEqual(["guard/main.js", "policies/mlflow-routes.json"]);
    expect(readFileSync(build.catalogFile, "utf8")).toBe(readFileSync(CATALOG_FILE, "utf8"));
    expect(build.mainBytes).toBeGreaterThan(10_000);
    expect(build.mainBytes).toBeLessThan(2 * 1024 * 1024);
  });

  it("refuses a bad environment: exit 1 and one cannot-start event listing every problem, nothing on stdout", () => {
    // Act
    const run = spawnSync(process.execPath, [build.mainFile], {
      cwd: tmpdir(),
      encoding: "utf8",
      timeout: 30_000,
      env: {
        PATH: process.env.PATH ?? "",
        [GUARD_ENV.port]: "eighty",
        [GUARD_ENV.upstream]: "http://10.0.0.5:5000",
        [GUARD_ENV.stagePathPrefix]: "prod/",
        [GUARD_ENV.auditReads]: "yes",
      },
    });
    // Assess
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    const events = jsonLines(run.stderr);
    expect(events).toEqual([expect.objectContaining({ level: "error", component: "guard", event: "cannot-start" })]);
    const message = String(events[0]!.message);
    expect(message).toMatch(/^invalid guard configuration:/);
    for (const variable of [GUARD_ENV.port, GUARD_ENV.upstream, GUARD_ENV.stagePathPrefix, GUARD_ENV.auditReads])
      expect(message).toContain(variable);
  });

  it("finds its catalog beside it without a setting, and answers /health with a 502 while MLflow is away", async () => {
    // Prepare: no GUARD_ENV.catalogFile; the upstream is a loopback port nothing listens on. The bundle sits
    // in a temp dir with no node_modules above it: it starts only if it needs no package at run time.
    const child = startBundle({
      [GUARD_ENV.host]: "127.0.0.1",
      [GUARD_ENV.port]: "0",
      [GUARD_ENV.upstream]: "http://127.0.0.1:9",
      [GUARD_ENV.stagePathPrefix]: "/prod",
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      // Act
      const started = await firstEvent(child);
      const health = await fetch(`http://${String(started.listen)}/health`);
      // Assess
      expect(started).toEqual(
        expect.objectContaining({
          event: "started",
          upstream: "http://127.0.0.1:9",
          mlflowVersion: JSON.parse(readFileSync(CATALOG_FILE, "utf8")).mlflowVersion,
        }),
      );
      expect(health.status).toBe(502);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});

describe("buildGuard with team files", () => {
  it("ships the team files beside the group files, and a later build without teams leaves none behind", () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), "build-guard-teams-"));
    try {
      const dirs = { groupsDir: GROUPS_DIR, teamsDir: EXAMPLE_TEAMS_DIR };
      // Act
      buildGuard(out, dirs);
      const withTeams = readdirSync(join(out, GUARD_BUNDLE_TEAMS_DIR)).sort();
      const shipped = readFileSync(join(out, GUARD_BUNDLE_TEAMS_DIR, "team-a.yaml"), "utf8");
      buildGuard(out, { groupsDir: GROUPS_DIR, teamsDir: join(out, "no-teams-here") });
      const without = readdirSync(join(out, GUARD_BUNDLE_TEAMS_DIR));
      // Assess
      expect(withTeams).toEqual(["team-a.yaml", "team-b.yaml"]);
      expect(guardBundleFiles(dirs)).toEqual(
        expect.arrayContaining(["policies/teams/team-a.yaml", "policies/teams/team-b.yaml"]),
      );
      expect(shipped).toBe(readFileSync(join(EXAMPLE_TEAMS_DIR, "team-a.yaml"), "utf8"));
      expect(without).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("the bundle reads its team files without a setting: a bad one stops it at start, naming the file", () => {
    // Prepare: a team file giving a tier no group file defines
    const out = mkdtempSync(join(tmpdir(), "build-guard-bad-team-"));
    const teams = join(out, "teams");
    try {
      mkdirSync(teams);
      writeFileSync(join(teams, "team-x.yaml"), "description: x\ntiers:\n  no-such-tier: [team-x-people]\n");
      const bad = buildGuard(join(out, "bundle"), { groupsDir: GROUPS_DIR, teamsDir: teams });
      // Act
      const run = spawnSync(process.execPath, [bad.mainFile], {
        cwd: tmpdir(),
        encoding: "utf8",
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? "", [GUARD_ENV.upstream]: "http://127.0.0.1:9", [GUARD_ENV.port]: "0" },
      });
      // Assess
      expect(run.status).toBe(1);
      expect(jsonLines(run.stderr)).toEqual([expect.objectContaining({ event: "cannot-start" })]);
      expect(run.stderr).toContain("team-x.yaml");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
