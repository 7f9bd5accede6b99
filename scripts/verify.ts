// The `verify` command of `mlflow-gate`: a conformance run against a deployment, local or on AWS, with the
// caller's own credentials; one line per check and `N passed, N failed` last. Thin I/O around scripts/lib/verify/.
import { existsSync, readFileSync } from "fs";
import { resolve } from "path";
import { randomBytes } from "crypto";
import { isLoopbackHost } from "../authorizer/core/contract";
import { loadPolicySet } from "../authorizer/load-policies";
import type { Command, Context } from "./lib/command";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { localStackFile, readStackFile } from "./lib/user-admin";
import { TEAMS_DIR } from "../project/paths";
import { anonymousCaller, Caller, callerFor, CallerOptions } from "./lib/verify/callers";
import { checkIsolation, cleanUpIsolation, IsolationCreated } from "./lib/verify/isolation";
import { checkStackTeams, planIsolation, reaches, selectTeams, teamUrl } from "./lib/verify/teams";
import {
  checkArtifacts,
  checkAudit,
  checkForgedIdentity,
  checkPromotionRules,
  promotionProbes,
  checkPathTricks,
  checkRoutes,
  checkStamping,
  checkUiConfig,
  cleanUp,
  createExperiment,
  Created,
  VerifyContext,
  WRITER_ACTIONS,
  writerOf,
} from "./lib/verify/checks";
import { checkGroupsKnown, parseApiUrl, targetFromConfig, targetFromStack, VerifyTarget } from "./lib/verify/config";
import {
  expectations,
  formatLine,
  isSkipped,
  runName,
  summaryLines,
  VerifyLine,
  VerifyPrincipal,
} from "./lib/verify/plan";

const DEFAULT_ARTIFACT_MB = 50;

function readJson(file: string): unknown {
  if (!existsSync(file)) throw new CliFailure([`mlflow-gate: no file ${file}`]);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new CliFailure([`mlflow-gate: ${file}: not JSON (${(e as Error).message})`]);
  }
}

function resolveTarget(ctx: Context): VerifyTarget {
  const [raw, extra] = ctx.args;
  if (extra !== undefined) throw new CliUsageError(`unexpected argument "${extra}"`);
  const apiUrl = parseApiUrl(raw);
  const env = ctx.io.env ?? process.env;
  const auditFile = ctx.values["audit-file"] !== undefined ? resolve(ctx.values["audit-file"]) : undefined;
  if (ctx.values.config !== undefined) {
    const file = resolve(ctx.values.config);
    return targetFromConfig(apiUrl, readJson(file), file, env, auditFile);
  }
  if (!isLoopbackHost(apiUrl.hostname))
    throw new CliUsageError(
      "a deployment needs --config FILE naming the profiles and users to verify as (docs/deploying.md)",
    );
  const stackFile = localStackFile(env, process.cwd());
  const stack = readStackFile(stackFile);
  if (stack === undefined)
    throw new CliFailure([
      `mlflow-gate: no local stack summary at ${stackFile}: start the stack ("npm start"), set MLFLOW_GATE_DATA as the running stack has it, or give --config`,
    ]);
  return targetFromStack(apiUrl, stack, stackFile, auditFile);
}

function artifactBytes(ctx: Context): number {
  const raw = ctx.values["artifact-mb"];
  if (raw === undefined) return DEFAULT_ARTIFACT_MB * 1024 * 1024;
  const mb = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(mb >= 11 && mb <= 1024))
    throw new CliUsageError(`--artifact-mb must be from 11 (past API Gateway's 10 MB) to 1024, not "${raw}"`);
  return mb * 1024 * 1024;
}

/**
 * The team files verify reads: a deployment's config names them (`teamsDir`); for the local stack, those `npm start`
 * reads (MLFLOW_GATE_TEAMS_DIR, else policies/teams).
 */
function teamsDirOf(ctx: Context, target: VerifyTarget): string {
  if (target.teamsDir !== undefined) return target.teamsDir;
  if (target.stackTeams === undefined) return "";
  const env = ctx.io.env ?? process.env;
  // The stack's own variable first (what `npm start` read), then --teams-dir (policies/teams by default).
  return resolve(env.MLFLOW_GATE_TEAMS_DIR?.trim() || ctx.teamsDir || TEAMS_DIR);
}

/** `--teams A,B`: the two teams of the isolation check. */
function teamsOption(ctx: Context): string | undefined {
  return ctx.values.teams;
}

/** What verify runs in: the team of its checks (none without teams), every selected team, and the isolation plan. */
interface TeamScope {
  readonly teams: readonly string[];
  readonly isolation: ReturnType<typeof planIsolation> | undefined;
  /** The callers of the principals that reach a team, under `/ws/<team>/` (all at the API's root without teams). */
  callersIn(team: string | undefined): Caller[];
  as(principal: VerifyPrincipal, team: string): Caller;
}

/** --dry-run: who verify would call as, which routes it samples with what it expects, what it would create. */
function describePlan(ctx: VerifyContext, target: VerifyTarget, scope: TeamScope, out: (line: string) => void): void {
  out(
    `verify ${target.apiUrl.href} (region ${target.region}) as ${target.principals.length} principals; nothing is sent`,
  );
  if (scope.teams.length > 0)
    out(
      `teams: ${scope.teams.join(", ")}; the checks run in ${ctx.workspace} (${teamUrl(target.apiUrl, ctx.workspace ?? "").href}) as its callers, the routes in each team as that team's callers`,
    );
  const writer = writerOf(ctx);
  out(
    writer
      ? `writer: ${writer.principal.name} (${writer.principal.group}) creates experiment and registered model ${ctx.name}${ctx.workspace !== undefined ? ` in ${ctx.workspace}` : ""}, its runs and a ${ctx.artifactBytes / 1024 / 1024} MB artifact, and deletes them at the end`
      : `writer: none (no principal's group may ${WRITER_ACTIONS.join(", ")}${ctx.workspace !== undefined ? ` in ${ctx.workspace}` : ""}): the write checks would fail`,
  );
  for (const team of scope.teams.length > 0 ? scope.teams : [undefined]) {
    for (const caller of scope.callersIn(team)) {
      out(
        `${caller.principal.kind === "sigv4" ? "profile" : "user"} ${caller.principal.name} (${caller.principal.group})${team !== undefined ? ` in ${team}` : ""}:`,
      );
      for (const e of expectations(ctx.policySet, caller.principal, team))
        out(
          `  ${e.allowed ? "allow" : "deny "} ${e.route.method} ${team !== undefined ? `/ws/${team}` : ""}${e.route.path} (${e.route.action}, ${e.route.class})`,
        );
    }
  }
  for (const probe of promotionProbes(ctx))
    out(
      `promotion: ${probe.caller.principal.name} (${probe.caller.principal.group}) asks to move verify's model version to ${probe.stage}, which its group file does not allow: expects the guard's 403`,
    );
  const iso = scope.isolation;
  if (iso !== undefined && typeof iso !== "string") {
    const w = (p: VerifyPrincipal) => `${p.name} (${p.group})`;
    out(
      `isolation ${iso.a}/${iso.b}: ${w(iso.writerA)} creates experiment ${ctx.name}-isolation and a run in ${iso.a}; ${w(iso.readerB)} must not see them in any search of ${iso.b}, gets MLflow's 404 for their ids through /ws/${iso.b}/ and API Gateway's 403 through /ws/${iso.a}/; ${w(iso.writerB)} must not write into them (403 through /ws/${iso.a}/, 404 through /ws/${iso.b}/); ${w(iso.writerA)} deletes them at the end`,
    );
  } else if (typeof iso === "string") out(`isolation: skipped (${iso})`);
  out(`audit trail: ${target.auditFile ?? "none (the audit check is skipped)"}`);
}

async function verify(ctx: Context): Promise<number> {
  const target = resolveTarget(ctx);
  const teamsDir = teamsDirOf(ctx, target);
  const policySet =
    teamsDir === ""
      ? loadPolicySet(ctx.catalogFile, ctx.groupsDir)
      : loadPolicySet(ctx.catalogFile, ctx.groupsDir, undefined, teamsDir);
  if (target.stackTeams !== undefined) checkStackTeams(target.stackTeams, policySet, teamsDir);
  checkGroupsKnown(
    target,
    new Set([...policySet.groups.keys(), ...policySet.callerGroups]),
    ctx.groupsDir,
    policySet.teams ? teamsDir : undefined,
  );
  const options: CallerOptions = {
    apiUrl: target.apiUrl,
    region: target.region,
    ...(target.awsFiles ? { awsFiles: target.awsFiles } : {}),
    ...(target.cognito ? { cognito: target.cognito } : {}),
  };
  const teams = selectTeams(policySet, teamsOption(ctx));
  // One caller per principal and base URL: each signs in once.
  const callers = new Map<string, Caller>();
  const as = (principal: VerifyPrincipal, team: string | undefined): Caller => {
    const key = `${principal.kind} ${principal.name} ${team ?? ""}`;
    let caller = callers.get(key);
    if (!caller) {
      caller = callerFor(
        principal,
        team === undefined ? options : { ...options, apiUrl: teamUrl(target.apiUrl, team) },
      );
      callers.set(key, caller);
    }
    return caller;
  };
  const scope: TeamScope = {
    teams,
    isolation: teams.length > 0 ? planIsolation(policySet, target.principals, teams) : undefined,
    callersIn: (team) =>
      target.principals.filter((p) => team === undefined || reaches(policySet, p, team)).map((p) => as(p, team)),
    as,
  };
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  const vctx: VerifyContext = {
    policySet,
    callers: scope.callersIn(teams[0]),
    ...(teams[0] !== undefined ? { workspace: teams[0] } : {}),
    anonymous: anonymousCaller(options),
    name: runName(new Date(), randomBytes(3).toString("hex")),
    artifactBytes: artifactBytes(ctx),
    ...(target.auditFile !== undefined ? { auditFile: target.auditFile } : {}),
    log: (line) => ctx.io.stderr.write(`${line}\n`),
  };
  if (ctx.values["dry-run"] === true) {
    describePlan(vctx, target, scope, out);
    return 0;
  }

  const lines: VerifyLine[] = [];
  const report = (...found: VerifyLine[]) => {
    for (const line of found) {
      lines.push(line);
      out(formatLine(line));
    }
  };
  report(await checkUiConfig(vctx));
  if (teams.length === 0) report(...(await checkRoutes(vctx)));
  for (const team of teams)
    report(...(await checkRoutes({ ...vctx, callers: scope.callersIn(team), workspace: team })));
  const reader = vctx.callers.find(
    (c) =>
      c.principal.kind === "sigv4" &&
      policySet.catalog.routes
        .filter((r) => r.action === "SearchExperiments" && r.auth === "iam" && r.method === "GET")
        .every((r) => policySet.intends([c.principal.group], r, vctx.workspace)),
  );
  if (reader) report(...(await checkPathTricks(reader)));
  else report({ id: "path tricks", skipped: "no SigV4 principal whose group may search experiments" });

  const writer = writerOf(vctx);
  if (!writer)
    report({
      id: "writer",
      ok: false,
      text: `no SigV4 principal whose group may ${WRITER_ACTIONS.join(", ")}${vctx.workspace !== undefined ? ` in ${vctx.workspace}` : ""}: the stamping, identity, artifact and audit checks need one`,
    });
  const isolation = typeof scope.isolation === "object" ? { plan: scope.isolation, as, name: vctx.name } : undefined;
  if (typeof scope.isolation === "string") report({ id: "isolation", skipped: scope.isolation });
  if (writer || isolation) {
    const created: Created = { runIds: [], artifactPaths: [], writes: [] };
    const isolated: IsolationCreated = { strayRuns: [] };
    // Ctrl-C while verify has objects in the deployment: finish the request in flight, then clean up.
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      ctx.io.stderr.write("mlflow-gate: interrupted: cleaning up what verify created (Ctrl-C again stops at once)\n");
    };
    const checkpoint = () => {
      if (interrupted) throw new Interrupted();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const experiment = writer ? await createExperiment(vctx, writer, created) : undefined;
      if (experiment) report(experiment);
      if (writer && experiment?.ok) {
        checkpoint();
        report(...(await checkStamping(vctx, writer, created)));
        checkpoint();
        report(...(await checkForgedIdentity(writer, created)));
        checkpoint();
        report(...(await checkPromotionRules(vctx, writer, created)));
        checkpoint();
        report(...(await checkArtifacts(vctx, writer, created)));
        // The guard appends audit lines as MLflow answers; give the last ones a moment to land.
        await new Promise((r) => setTimeout(r, 500));
        report(...checkAudit(vctx, created));
      }
      checkpoint();
      if (isolation) report(...(await checkIsolation(isolation, isolated)));
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
    } finally {
      if (writer) report(await cleanUp(writer, created));
      if (isolation) report(await cleanUpIsolation(isolation, isolated));
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    if (interrupted) {
      report({ id: "interrupted", ok: false, text: "stopped by a signal before every check ran" });
      for (const line of summaryLines(lines)) out(line);
      return INTERRUPTED_EXIT;
    }
  }
  for (const line of summaryLines(lines)) out(line);
  return lines.some((l) => !isSkipped(l) && !l.ok) ? 1 : 0;
}

/** The exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT = 130;

class Interrupted extends Error {}

export const verifyCommand: Command = {
  name: "verify",
  options: ["config", "dry-run", "audit-file", "artifact-mb", "teams"],
  run: verify,
};
