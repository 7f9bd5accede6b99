// Teams (issue 18) in figures. Sizes: the authorizer's largest answer, a role's IAM policies and the API's
// resources for synthetic team sets of 1, 5 and 20 teams, each with the four tiers held by `<team>-<tier>`,
// built in memory with the repository's group files (pure, deterministic). Latency: MLflow with workspaces against
// MLflow without, each behind the stack's chain (gateway → guard → MLflow), the same read/write mix as a team
// writer under /ws/team-a/ and as admin unprefixed, in alternating slices.
import { mkdirSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { AnswerKey } from "../authorizer/core/answer-scope";
import { apiRouteTreeOf } from "../authorizer/core/api-definition";
import { DEFAULT_MAX_API_RESOURCES } from "../authorizer/core/api-routes";
import { RouteCatalog } from "../authorizer/core/catalog";
import {
  buildIamPolicies,
  EXECUTE_API_POLICIES_PER_ROLE,
  IAM_MANAGED_POLICY_MAX_CHARS,
  iamPolicySize,
} from "../authorizer/core/compile";
import { API_GATEWAY, WORKSPACE_PATH_PART } from "../authorizer/core/contract";
import { MlflowGateError } from "../authorizer/core/errors";
import { GroupFile } from "../authorizer/core/groups";
import { largestAnswer, WORST_IAM_SCOPE } from "../authorizer/core/lint-sizes";
import { PolicySet } from "../authorizer/core/policy-set";
import { TeamFile } from "../authorizer/core/teams";
import { loadGroupFiles, loadRouteCatalog } from "../authorizer/load-policies";
import { FREE_PORTS_ENV, parseStackConfig } from "../local/config";
import { RunningStack, startStack } from "../local/stack";
import { CATALOG_FILE, EXAMPLE_TEAMS_DIR, GROUPS_DIR } from "../project/paths";
import { buildSequence, MIX, plain, PlainRequest, seed, Seeded } from "./gateway";
import { LoadTarget, LoadWorker, TargetFigures } from "./lib/load";
import { loadAverage } from "./lib/machine";
import { pairedDifference, pairedRatio, RunFigures, summarize, Summary } from "./lib/stats";

/** The four tiers every synthetic team gives, each to `<team>-<tier>`. */
export const TEAM_TIERS = ["readers", "writers", "model-approvers", "release-managers"] as const;
/** The team counts the sizes are measured for. */
export const TEAM_COUNTS = [1, 5, 20] as const;
/** The group that holds writers in every synthetic team: a platform team's group. */
export const PLATFORM_GROUP = "platform-writers";

/** The design limits the figures are set against. */
export const SIZE_LIMITS = {
  authorizerBytes: API_GATEWAY.maxAuthorizerResponseBytes,
  iamPolicies: EXECUTE_API_POLICIES_PER_ROLE,
  iamPolicyChars: IAM_MANAGED_POLICY_MAX_CHARS,
  apiResources: DEFAULT_MAX_API_RESOURCES,
} as const;

/** Who is measured: (a) one team group, (b) every team's writers group, (c) the platform group. */
export const CALLERS = {
  oneTeamGroup: "a user in one team group (team-1-writers)",
  everyTeamsWriters: "a user in the writers group of every team (N groups)",
  platformGroup: `a user in one group holding writers in all N teams (${PLATFORM_GROUP})`,
} as const;
export type CallerName = keyof typeof CALLERS;

export interface AnswerFigures {
  readonly groups: number;
  readonly bytes: number;
  readonly key: AnswerKey | undefined;
}

/** A role's execute-api managed policies, or why the compiler refuses them. */
export type IamFigures =
  | { readonly fits: true; readonly policies: number; readonly largestChars: number }
  | { readonly fits: false; readonly message: string };

export interface TeamSizes {
  readonly teams: number;
  readonly answers: Record<CallerName, AnswerFigures>;
  readonly iam: { readonly oneTeamGroup: IamFigures; readonly platformGroup: IamFigures };
  readonly api: {
    readonly withoutTeams: { readonly resources: number; readonly methods: number };
    readonly withTeams: { readonly resources: number; readonly methods: number };
  };
}

export const teamName = (i: number): string => `team-${i}`;

/** `count` team files, each giving the four tiers to its own groups, writers also to the platform group. */
export function syntheticTeamFiles(count: number): TeamFile[] {
  return Array.from({ length: count }, (_, i) => {
    const name = teamName(i + 1);
    return {
      name,
      file: `policies/teams/${name}.yaml`,
      description: `Synthetic team ${i + 1} of ${count}.`,
      tiers: TEAM_TIERS.map((tier, t) => ({
        tier,
        line: 3 + t,
        groups: tier === "writers" ? [`${name}-${tier}`, PLATFORM_GROUP] : [`${name}-${tier}`],
      })),
    };
  });
}

function iamFigures(set: PolicySet, group: string): IamFigures {
  try {
    const docs = buildIamPolicies(set.resourcesFor([group], "iam"), WORST_IAM_SCOPE);
    return { fits: true, policies: docs.length, largestChars: Math.max(...docs.map(iamPolicySize)) };
  } catch (e) {
    if (!(e instanceof MlflowGateError)) throw e;
    return { fits: false, message: e.message };
  }
}

/** The sizes of one team set, measured as `mlflow-gate policy lint` measures them (worst-case scopes). */
export function measureTeamSizes(catalog: RouteCatalog, groupFiles: readonly GroupFile[], count: number): TeamSizes {
  const set = PolicySet.fromFiles(catalog, groupFiles, undefined, syntheticTeamFiles(count));
  const answer = (groups: string[]): AnswerFigures => {
    const l = largestAnswer(set, groups);
    return { groups: groups.length, bytes: l.authorizerBytes, key: l.key };
  };
  const writersOfEvery = Array.from({ length: count }, (_, i) => `${teamName(i + 1)}-writers`);
  const tree = (workspaces: boolean) => {
    const t = apiRouteTreeOf(catalog.routes, DEFAULT_MAX_API_RESOURCES, workspaces);
    // The login shell's config (`GET /mlflow-gate-ui.json`, a MOCK) is one more resource and method.
    return { resources: t.resourceCount + 1, methods: t.methodCount + 1 };
  };
  return {
    teams: count,
    answers: {
      oneTeamGroup: answer([`${teamName(1)}-writers`]),
      everyTeamsWriters: answer(writersOfEvery),
      platformGroup: answer([PLATFORM_GROUP]),
    },
    iam: { oneTeamGroup: iamFigures(set, `${teamName(1)}-writers`), platformGroup: iamFigures(set, PLATFORM_GROUP) },
    api: { withoutTeams: tree(false), withTeams: tree(true) },
  };
}

export function benchTeamSizes(
  catalog: RouteCatalog,
  groupFiles: readonly GroupFile[],
  counts: readonly number[] = TEAM_COUNTS,
): TeamSizes[] {
  return counts.map((n) => measureTeamSizes(catalog, groupFiles, n));
}

export interface TeamsOptions {
  readonly concurrencies: readonly number[];
  readonly warmupMs: number;
  readonly rounds: number;
  readonly sliceMs: number;
  /** Distinct log-metric writes per target and step; a slice ends after this many cycles of the mix. */
  readonly writesPerTarget: number;
}

/** The latency targets: the same mix and chain, on a stack without teams and on one with the demo teams. */
export const LATENCY_TARGETS = {
  off: { via: "workspaces off: a stack without teams, admin (admins), /ajax-api/…" },
  onAdmin: { via: "workspaces on: the demo teams' stack, admin (admins), /ws/team-a/ajax-api/…" },
  onWriter: { via: "workspaces on: the demo teams' stack, team-a-writer (team-a-writers), /ws/team-a/ajax-api/…" },
} as const;
export type LatencyTargetName = keyof typeof LATENCY_TARGETS;

/** What each comparison sets against what: workspaces on over workspaces off. */
export const LATENCY_COMPARISONS = {
  "on admin / off": ["onAdmin", "off"],
  "on team writer / off": ["onWriter", "off"],
} as const satisfies Record<string, readonly [LatencyTargetName, LatencyTargetName]>;
export type LatencyComparisonName = keyof typeof LATENCY_COMPARISONS;

export interface LatencyCell extends Summary {
  readonly failures: Record<string, number>;
  readonly firstFailure?: string;
}

export interface LatencyComparison {
  /** a's throughput over b's, round by round, median. */
  readonly throughputRatio: number;
  /** a's p50 (p95) minus b's, round by round, median (ms). */
  readonly addedP50Ms: number;
  readonly addedP95Ms: number;
}

export interface TeamsLatency {
  readonly date: string;
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly load: TeamsOptions & { readonly keepAlive: true; readonly clientInWorkerThread: true };
  readonly mix: readonly string[];
  readonly startupMs: number;
  /** Target → concurrency → figures. */
  readonly targets: Record<
    LatencyTargetName,
    { readonly via: string; readonly byConcurrency: Record<string, LatencyCell> }
  >;
  /** Concurrency → comparison → figures. */
  readonly comparisons: Record<string, Record<LatencyComparisonName, LatencyComparison>>;
  readonly problems: readonly string[];
}

export interface TeamsResults {
  readonly limits: typeof SIZE_LIMITS;
  readonly callers: typeof CALLERS;
  readonly sizes: readonly TeamSizes[];
  readonly latency: TeamsLatency;
}

const TEAM = "team-a";
const WRITER = "team-a-writer";

async function startQuietStack(dataDir: string, teamsDir: string, uiDirectory: string): Promise<RunningStack> {
  return startStack(
    parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      MLFLOW_GATE_TEAMS_DIR: teamsDir,
      ...FREE_PORTS_ENV,
    }),
    { uiDirectory, progress: () => undefined, log: () => undefined },
  );
}

async function bearerOf(stack: RunningStack, username: string): Promise<Record<string, string>> {
  const user = stack.userPool.users.find((u) => u.username === username);
  if (!user) throw new Error(`the stack has no demo user ${username}`);
  const { accessToken } = await stack.userPool.login(username, user.password);
  return { authorization: `Bearer ${accessToken}` };
}

/** MLflow with workspaces on against off, each behind gateway → guard, in alternating slices. */
export async function benchTeamsLatency(o: TeamsOptions, progress: (line: string) => void): Promise<TeamsLatency> {
  const loadBefore = loadAverage();
  const root = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-teams-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    const t = Date.now();
    const noTeams = join(root, "no-teams");
    const uiDirectory = join(root, "no-ui");
    mkdirSync(noTeams);
    mkdirSync(uiDirectory);
    // Both settle before either failure is thrown, so a stack that did start is stopped below.
    const started = await Promise.allSettled([
      startQuietStack(join(root, "off"), noTeams, uiDirectory),
      startQuietStack(join(root, "on"), EXAMPLE_TEAMS_DIR, uiDirectory),
    ]);
    for (const r of started) if (r.status === "fulfilled") stops.push(() => r.value.stop());
    const [off, on] = started.map((r) => {
      if (r.status === "rejected") throw r.reason;
      return r.value;
    }) as [RunningStack, RunningStack];
    if (off.summary.teams !== undefined || !on.summary.teams?.includes(TEAM))
      throw new Error(`expected a stack without teams and one with ${TEAM}`);
    const startupMs = Date.now() - t;
    progress(`teams         two stacks up in ${startupMs} ms (without teams; with ${on.summary.teams.join(", ")})`);

    // The same data in each, written straight to MLflow (in team-a's workspace on the teams stack).
    const [seededOff, seededOn] = await Promise.all([
      seed(off.summary.mlflowPrivateUrl.replace(/\/$/, "")),
      seed(on.summary.mlflowPrivateUrl.replace(/\/$/, ""), { "X-MLFLOW-WORKSPACE": TEAM }),
    ]);
    const [adminOff, adminOn, writerOn] = await Promise.all([
      bearerOf(off, "admin"),
      bearerOf(on, "admin"),
      bearerOf(on, WRITER),
    ]);
    const gatewayOff = new URL(off.summary.gatewayUrl).origin;
    const gatewayOn = new URL(on.summary.gatewayUrl).origin;
    const inTeam = (requests: PlainRequest[]) =>
      requests.map((r) => ({ ...r, path: `/${WORKSPACE_PATH_PART}/${TEAM}${r.path}` }));

    const prepare = (c: number, step: string): (LoadTarget & { name: LatencyTargetName })[] => {
      const seq = (name: LatencyTargetName, d: Seeded) =>
        buildSequence(d, "ui", `bench_teams_${name}_c${c}_${step}`, o.writesPerTarget);
      return [
        { name: "off", origin: gatewayOff, sequence: plain(seq("off", seededOff), adminOff), mustNotWrap: true },
        {
          name: "onAdmin",
          origin: gatewayOn,
          sequence: plain(inTeam(seq("onAdmin", seededOn)), adminOn),
          mustNotWrap: true,
        },
        {
          name: "onWriter",
          origin: gatewayOn,
          sequence: plain(inTeam(seq("onWriter", seededOn)), writerOn),
          mustNotWrap: true,
        },
      ];
    };

    const names = Object.keys(LATENCY_TARGETS) as LatencyTargetName[];
    const rounds: Record<string, Record<string, TargetFigures>> = {};
    const problems: string[] = [];
    const worker = new LoadWorker();
    try {
      for (const c of o.concurrencies) {
        const merged = new Map<
          LatencyTargetName,
          { rounds: RunFigures[]; failures: Record<string, number>; firstFailure?: string; wrapped: boolean }
        >();
        // One plan per step, so that every step's writes are new ones (MLflow treats a repeated metric differently).
        for (let round = -1; round < o.rounds; round++) {
          const warmup = round < 0;
          const targets = prepare(c, warmup ? "warmup" : `r${round}`);
          const figures = await worker.run({
            targets,
            concurrency: c,
            warmupMs: warmup ? o.warmupMs : 0,
            rounds: warmup ? 0 : 1,
            firstRound: Math.max(round, 0),
            sliceMs: o.sliceMs,
            maxPerSlice: o.writesPerTarget * MIX.length,
          });
          targets.forEach((target, i) => {
            const f = figures[i] as TargetFigures;
            const m = merged.get(target.name) ?? { rounds: [], failures: {}, wrapped: false };
            m.rounds.push(...f.rounds);
            for (const [status, count] of Object.entries(f.failures))
              m.failures[status] = (m.failures[status] ?? 0) + count;
            m.firstFailure ??= f.firstFailure;
            m.wrapped ||= f.wrapped;
            merged.set(target.name, m);
          });
        }
        for (const [name, m] of merged) {
          (rounds[name] ??= {})[c] = {
            rounds: m.rounds,
            failures: m.failures,
            wrapped: m.wrapped,
            ...(m.firstFailure ? { firstFailure: m.firstFailure } : {}),
          };
          if (Object.keys(m.failures).length > 0)
            problems.push(`${name} at c=${c}: non-2xx ${JSON.stringify(m.failures)}; first: ${m.firstFailure}`);
        }
        const rate = (n: LatencyTargetName) => Math.round(summarize(rounds[n]?.[c]?.rounds ?? []).perSecond);
        progress(
          `teams         c=${c}: off ${rate("off")}/s, on (admin) ${rate("onAdmin")}/s, on (team writer) ${rate("onWriter")}/s`,
        );
      }
    } finally {
      await worker.close();
    }

    const targets = Object.fromEntries(
      names.map((n) => [
        n,
        {
          via: LATENCY_TARGETS[n].via,
          byConcurrency: Object.fromEntries(
            o.concurrencies.map((c) => {
              const f = rounds[n]![c]!;
              return [
                c,
                {
                  ...summarize(f.rounds),
                  failures: f.failures,
                  ...(f.firstFailure ? { firstFailure: f.firstFailure } : {}),
                },
              ];
            }),
          ),
        },
      ]),
    ) as TeamsLatency["targets"];
    const comparisons = Object.fromEntries(
      o.concurrencies.map((c) => [
        c,
        Object.fromEntries(
          Object.entries(LATENCY_COMPARISONS).map(([name, [a, b]]) => {
            const ra = rounds[a]![c]!.rounds;
            const rb = rounds[b]![c]!.rounds;
            return [
              name,
              {
                throughputRatio: pairedRatio(ra, rb),
                addedP50Ms: pairedDifference(ra, rb, (r) => r.p50),
                addedP95Ms: pairedDifference(ra, rb, (r) => r.p95),
              },
            ];
          }),
        ),
      ]),
    ) as TeamsLatency["comparisons"];
    return {
      date: new Date().toISOString(),
      loadAverage: { before: loadBefore, after: loadAverage() },
      load: { ...o, keepAlive: true, clientInWorkerThread: true },
      mix: MIX,
      startupMs,
      targets,
      comparisons,
      problems,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

/** The section: sizes (pure) first, then the latency of the two stacks. */
export async function benchTeams(o: TeamsOptions, progress: (line: string) => void): Promise<TeamsResults> {
  const sizes = benchTeamSizes(loadRouteCatalog(CATALOG_FILE), loadGroupFiles(GROUPS_DIR));
  for (const s of sizes)
    progress(
      `teams         ${s.teams} team(s): largest answer ${s.answers.oneTeamGroup.bytes} / ${s.answers.everyTeamsWriters.bytes} / ${s.answers.platformGroup.bytes} bytes (one group / every team's writers / platform group)`,
    );
  const latency = await benchTeamsLatency(o, progress);
  for (const c of o.concurrencies) {
    const x = latency.comparisons[c]!["on team writer / off"];
    progress(
      `teams         c=${c}: workspaces add p50 ${x.addedP50Ms.toFixed(2)} ms, p95 ${x.addedP95Ms.toFixed(2)} ms, throughput ×${x.throughputRatio.toFixed(2)} (team writer)`,
    );
  }
  return { limits: SIZE_LIMITS, callers: CALLERS, sizes, latency };
}
