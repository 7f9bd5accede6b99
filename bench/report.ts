// Renders one bench run as bench/RESULTS.md: machine, method, targets, then a table per section.
import type { BenchRun } from "./index";
import { COMPARISONS, TARGETS, TargetName } from "./gateway";
import { CACHE_KEY_DESIGNS } from "./lib/authorizer-calls";
import { PROMOTION_CALLS } from "./promotion";
import { CALLERS, IamFigures, LATENCY_COMPARISONS, LATENCY_TARGETS, TeamSizes, TeamsResults } from "./teams";
import { DESIGN_NAMES, StreamFigures } from "./ui-session";

const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : String(v));
const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const signed = (v: number, digits = 2) => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${v.toFixed(digits)}` : String(v));
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join(
    "\n",
  );

function authorizerSection(run: BenchRun): string[] {
  const a = run.authorizer;
  if (!a) return [];
  const v = a.variants;
  const row = (name: string, s: typeof v.lambda) => [
    name,
    n0(s.perSecond),
    `${n0(s.perSecondMin)}–${n0(s.perSecondMax)}`,
    f(s.p50, 1),
    f(s.p99, 1),
  ];
  const scaling = (points: typeof a.byGroups) =>
    table(
      [
        "groups",
        "allowed actions",
        "policy resources",
        "policy bytes",
        "Lambda call /s",
        "p50 µs",
        "cached decision (deny) /s",
        "p50 µs",
      ],
      points.map((p) => [
        String(p.groups),
        String(p.allowedActions),
        String(p.policyResources),
        n0(p.policyBytes),
        n0(p.lambda.perSecond),
        f(p.lambda.p50, 1),
        n0(p.cachedDeny.perSecond),
        f(p.cachedDeny.p50, 2),
      ]),
    );
  return [
    "## 1. Authorizer (warm, in-process, one core)",
    "",
    `A Cognito access token of the \`${a.token.group}\` group (${a.token.bytes} bytes, ${a.token.alg}, RSA ${a.token.modulusBits}); medians of ${v.lambda.runs} runs, the variants taking turns within each run.`,
    "",
    table(
      ["variant", "ops/s (median)", "min–max of runs", "p50 µs", "p99 µs"],
      [
        row("Lambda call: verify token, the answer for the request's verb and resource, log line", v.lambda),
        ...(v.lambdaRouteSet
          ? [row("the same call answering with the whole route set (the design before issue 17)", v.lambdaRouteSet)]
          : []),
        row(
          "gateway decision without the result cache: Lambda call + parse + evaluate the methodArn",
          v.decisionUncached,
        ),
        row("gateway decision with the result cache (hit): lookup + evaluate", v.decisionCached),
        row("aws-jwt-verify verify only", v.verifierOnly),
        row("raw RS256 verify (node:crypto), the floor", v.rawRs256),
      ],
    ),
    "",
    `Lambda call / raw RS256: **${f(a.ratioLambdaToRaw)}**${a.ratioRouteSetToRaw !== undefined ? ` (whole route-set answers: ${f(a.ratioRouteSetToRaw)})` : ""}; decision without cache / raw: ${f(a.ratioUncachedToRaw)}; with cache / without: ${f(a.ratioCachedToUncached)}× (ratios run by run, median).`,
    ...(a.answerBytes
      ? [
          "",
          `The largest answer for the bench's requests: ${n0(a.answerBytes.resource)} bytes for one verb and resource, ${n0(a.answerBytes.routeSet)} bytes as the whole route set. The gateway's cache keys on the token, the verb and the resource, so a decision with the cache asks the authorizer once per (verb, resource) pair per TTL (section 7 counts them for a UI session).`,
        ]
      : []),
    "",
    "### Cost against groups per user (each group allows 8 actions of its own; whole route-set answers)",
    "",
    scaling(a.byGroups),
    "",
    "### Cost against resources per policy (one group; whole route-set answers)",
    "",
    scaling(a.byResources),
    "",
    "The Lambda call builds the union policy of the user's groups (compiled once per group set, then memoised) and",
    "serialises it; the cached decision evaluates that policy for a request it does not allow, so every resource",
    "is tried (the worst case of a cache hit).",
    "",
  ];
}

function coldStartSection(run: BenchRun): string[] {
  const c = run.coldStart;
  if (!c) return [];
  return [
    "## 2. Cold start",
    "",
    table(
      ["what", "value"],
      [
        [
          "bundle `index.js`, minified",
          `${n0(c.bundle.minifiedBytes)} bytes (${f(c.bundle.minifiedBytes / 1000, 1)} KB, ${f(c.bundle.minifiedBytes / 1024, 1)} KiB)`,
        ],
        ["bundle gzipped", `${n0(c.bundle.gzipBytes)} bytes`],
        ["`policy-bundle.json` beside it", `${n0(c.bundle.policyBundleBytes)} bytes`],
        ["bare Node, spawn to exit (`node -e 0`)", `${f(c.bareNodeMs, 1)} ms`],
        ["authorizer process, spawn to exit after its first decision", `${f(c.authorizerProcessMs, 1)} ms`],
        ["**cold start** (the difference, run by run)", `**${f(c.coldStartMs, 1)} ms**`],
        ["inside: loading the bundle (code, config, policy bundle)", `${f(c.loadMs, 1)} ms`],
        ["inside: first decision (JWKS fetch over loopback, verify, policy)", `${f(c.firstDecisionMs, 1)} ms`],
      ],
    ),
    "",
    `Medians of ${c.runs} pairs of processes, bare and authorizer alternating. The two inside figures are timed from`,
    "the probe's first line; the rest of the cold start is spent before it and after the decision, in a process",
    "that loads more than a bare one. Lambda's own start (the runtime, the function's download) is not in these",
    "figures; the JWKS comes from loopback, not from Cognito.",
    "",
  ];
}

function gatewaySection(run: BenchRun): string[] {
  const g = run.gateway;
  if (!g) return [];
  const cs = g.load.concurrencies;
  const names = Object.keys(g.targets) as TargetName[];
  const perConcurrency = cs.flatMap((c) => [
    `### Concurrency ${c}`,
    "",
    table(
      ["target", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx"],
      names.map((n) => {
        const cell = g.targets[n]!.byConcurrency[c]!;
        const failures = Object.values(cell.failures).reduce((a, b) => a + b, 0);
        return [
          n,
          n0(cell.perSecond),
          f(cell.p50),
          f(cell.p99),
          n0(cell.count),
          failures === 0 ? "0" : `**${failures}**`,
        ];
      }),
    ),
    "",
  ]);
  const comparisonRows = (names: string[]) =>
    names
      .filter((name) => cs.some((c) => g.comparisons[c]?.[name]))
      .map((name) => [
        name,
        ...cs.flatMap((c) => {
          const x = g.comparisons[c]?.[name];
          return x ? [f(x.throughputRatio), signed(x.addedP50Ms), signed(x.addedP99Ms)] : ["–", "–", "–"];
        }),
      ]);
  const head = [
    "comparison",
    ...cs.flatMap((c) => [`c=${c} throughput ×`, `c=${c} added p50 ms`, `c=${c} added p99 ms`]),
  ];
  const overhead = Object.keys(COMPARISONS).filter((k) => !k.includes("basic-auth"));
  const peer = Object.keys(COMPARISONS).filter((k) => k.includes("basic-auth"));
  return [
    "## 3. Overhead: the chain (gateway → guard), the guard, the gateway",
    "",
    "Targets:",
    "",
    ...names.map((n) => `- \`${n}\`: ${TARGETS[n].via}`),
    "",
    ...perConcurrency,
    "### Ratios (run by run, median)",
    "",
    '"chain" is gateway → guard → MLflow; "guard / direct" is the guard alone in front of MLflow; the trivial',
    "upstream rows are the gateway's and the guard's own cost without MLflow's.",
    "",
    table(head, comparisonRows(overhead)),
    "",
    `The guard in front of MLflow appended ${n0(g.auditLines.guard)} audit lines in this run (one per write of the`,
    `chain's and the guard's mix, warm-ups included); the one in front of the trivial upstream ${n0(g.auditLines.trivialGuard)}.`,
    "",
    "## 4. Peer: MLflow's basic-auth app",
    "",
    table(head, comparisonRows(peer)),
    "",
    "basic-auth checks the user's password hash (werkzeug) on every request unless its opt-in credential cache",
    "(`auth_cache_ttl_seconds`, off by default) is set; the gateway verifies a SigV4 signature (an HMAC chain) or",
    "serves a cached authorizer result, and the guard checks the identity it maps.",
    "",
    "## 5. Scaling with concurrency (req/s)",
    "",
    table(
      ["target", ...cs.map((c) => `c=${c}`)],
      names.map((n) => [n, ...cs.map((c) => n0(g.targets[n]!.byConcurrency[c]!.perSecond))]),
    ),
    "",
    ...(g.problems.length > 0
      ? [
          "**Problems in this run** (figures of these targets are not valid):",
          "",
          ...g.problems.map((p) => `- ${p}`),
          "",
        ]
      : []),
  ];
}

function promotionSection(run: BenchRun): string[] {
  const p = run.promotion;
  if (!p) return [];
  const cell = (name: string) => p.targets[name];
  const rows = PROMOTION_CALLS.flatMap((c) =>
    (["direct", "guard"] as const).map((via) => {
      const x = cell(`${via} ${c}`);
      if (!x) return [c, via, "–", "–", "–", "–", "–", "–"];
      const failures = Object.values(x.failures).reduce((a, b) => a + b, 0);
      return [
        c,
        via === "direct" ? "MLflow directly" : "through the guard",
        f(x.p50),
        f(x.p95),
        n0(x.perSecond),
        `${n0(x.perSecondMin)}–${n0(x.perSecondMax)}`,
        n0(x.count),
        failures === 0 ? "0" : `**${failures}**`,
      ];
    }),
  );
  const l = p.load;
  return [
    "## 6. Promotion calls through the guard",
    "",
    `Measured ${p.date}; load average ${p.loadAverage.before.join(" / ")} before and ${p.loadAverage.after.join(" / ")} after (1/5/15 min, after includes the section itself).`,
    "",
    `Concurrency 1, keep-alive, ${l.rounds} rounds of a ${l.sliceMs} ms slice per target (at most ${l.maxPerSlice} requests a slice)`,
    `after a ${l.warmupMs} ms warm-up each, the six targets taking turns. The caller is what API Gateway maps for the`,
    `Cognito user \`${p.caller.username}\` of \`${p.caller.groups}\`, whose file has a promotion block (\`${p.caller.rule}\`);`,
    "the requests, on the UI's mount:",
    "",
    ...PROMOTION_CALLS.map((c) => `- ${c}: \`${p.requests[c]}\``),
    "",
    table(["call", "to", "p50 ms", "p95 ms", "req/s", "min–max of rounds", "requests", "non-2xx"], rows),
    "",
    "p50 and p95 are medians over the rounds; a wide min–max says other work took the cores during some rounds.",
    "",
    "What the guard adds (through the guard minus directly, run by run, median):",
    "",
    table(
      ["call", "added p50 ms", "added p95 ms"],
      PROMOTION_CALLS.map((c) => [c, signed(p.guardAdds[c].p50Ms), signed(p.guardAdds[c].p95Ms)]),
    ),
    "",
    "What a promotion costs at the guard beyond an ordinary call (its added latency minus GetModelVersion's, run by",
    "run, median): reading the body, the guard's own `GET model-versions/get` on MLflow, the decision, the audit",
    "line with its `promotion` field.",
    "",
    table(
      ["call", "p50 ms", "p95 ms"],
      (["SetRegisteredModelAlias", "TransitionModelVersionStage"] as const).map((c) => [
        c,
        signed(p.promotionOverOrdinary[c].p50Ms),
        signed(p.promotionOverOrdinary[c].p95Ms),
      ]),
    ),
    "",
    `The guard wrote ${n0(p.auditLines.promotions)} audit lines of promotions (warm-ups included), ${n0(p.auditLines.withPromotionField)} with their \`promotion\` field.`,
    "",
    ...(p.problems.length > 0
      ? ["**Problems in this section** (its figures are not valid):", "", ...p.problems.map((x) => `- ${x}`), ""]
      : []),
  ];
}

function uiSessionSection(run: BenchRun): string[] {
  const u = run.uiSession;
  if (!u) return [];
  const pct = (v: number) => `${f(v * 100, 1)} %`;
  const replayRows = (x: StreamFigures) =>
    CACHE_KEY_DESIGNS.map((d) => [DESIGN_NAMES[d], n0(x.simulated[d].authorizerCalls), pct(x.simulated[d].hitRate)]);
  const s = u.session;
  const g = u.gatewayMix;
  return [
    "## 7. Authorizer calls of a UI session",
    "",
    `Measured ${u.date} in ${u.durationSeconds} s; load average ${u.loadAverage.before.join(" / ")} before and ${u.loadAverage.after.join(" / ")} after.`,
    "",
    `The local stack as the browser tests start it (real MLflow, cognito-local, the gateway with the authorizer's`,
    `result cache, TTL ${u.cacheTtlSeconds} s), seeded with an experiment, a run (metrics, a parameter, an image artifact) and a`,
    `registered model with a version. \`${u.user.username}\` (${u.user.groups.join(", ")}) then goes through the UI in Chromium, each`,
    `step ending when its content shows and no request has been in flight for ${u.options.quietMs} ms:`,
    "",
    table(
      ["step", "Cognito requests", "ms"],
      u.steps.map((x) => [x.step, n0(x.requests), n0(x.ms)]),
    ),
    "",
    `${n0(s.requests)} Cognito requests with ${n0(s.tokens)} token(s), over ${n0(s.routeKeys.length)} distinct (verb, resource) pairs (and ${n0(u.refusedBeforeAuthorizer)} without a token,`,
    "answered 401 before the authorizer and left out: MLflow's telemetry before the login). The gateway's",
    `access log says of each whether the authorizer was invoked: **${n0(s.measuredCalls)} calls** with the cache on (hit rate`,
    `${pct(s.measuredHitRate)}), which is what the replay gives for ${s.stackRan === "either" ? "either design" : `the design \`${s.stackRan}\``}: the one the stack ran. The`,
    "recorded requests replayed through the cache, keyed as each design keys it:",
    "",
    table(["cache key", "authorizer calls", "hit rate"], replayRows(s)),
    "",
    "The (verb, resource) pairs of the session:",
    "",
    ...s.routeKeys.map((k) => `- \`${k}\``),
    "",
    `The gateway bench's mix (section 3's \`bearer\` target: ${g.routeKeys.map((k) => `\`${k}\``).join(", ")}), ${n0(g.cycles)} cycles`,
    `(${n0(g.requests)} requests) by one token within one TTL, replayed the same way:`,
    "",
    table(["cache key", "authorizer calls", "hit rate"], replayRows(g)),
    "",
  ];
}

/** Bytes against the authorizer's design limit: "1,618 (20 %)", over it in bold. */
function bytesCell(bytes: number, limit: number): string {
  const text = `${n0(bytes)} (${Math.round((bytes / limit) * 100)} %)`;
  return bytes > limit ? `**${text}**` : text;
}

function iamCell(x: IamFigures, maxPolicies: number): string {
  return x.fits
    ? `${x.policies} of ${maxPolicies}, largest ${n0(x.largestChars)} chars`
    : `**does not fit**: ${x.message}`;
}

/** The sizes table of the teams section: one row per team count. */
export function teamSizesTable(t: Pick<TeamsResults, "limits">, sizes: readonly TeamSizes[]): string {
  const l = t.limits;
  const key = (s: TeamSizes, c: keyof typeof CALLERS) => {
    const k = s.answers[c].key;
    return k ? `${k.method} ${k.resource}` : "–";
  };
  const keys = [
    ...new Set(sizes.flatMap((s) => (Object.keys(CALLERS) as (keyof typeof CALLERS)[]).map((c) => key(s, c)))),
  ];
  return [
    table(
      [
        "teams",
        `(a) largest answer, bytes (limit ${n0(l.authorizerBytes)})`,
        `(b) largest answer, bytes (limit ${n0(l.authorizerBytes)})`,
        `(c) largest answer, bytes (limit ${n0(l.authorizerBytes)})`,
        `(a) IAM policies of a role (limit ${l.iamPolicies} of ${n0(l.iamPolicyChars)} chars)`,
        `(c) IAM policies of a role (limit ${l.iamPolicies} of ${n0(l.iamPolicyChars)} chars)`,
        `API resources / methods without teams (limit ${l.apiResources} resources)`,
        "with teams",
      ],
      sizes.map((s) => [
        String(s.teams),
        bytesCell(s.answers.oneTeamGroup.bytes, l.authorizerBytes),
        `${bytesCell(s.answers.everyTeamsWriters.bytes, l.authorizerBytes)}, ${s.answers.everyTeamsWriters.groups} group(s)`,
        bytesCell(s.answers.platformGroup.bytes, l.authorizerBytes),
        iamCell(s.iam.oneTeamGroup, l.iamPolicies),
        iamCell(s.iam.platformGroup, l.iamPolicies),
        `${s.api.withoutTeams.resources} / ${s.api.withoutTeams.methods}`,
        `${s.api.withTeams.resources} / ${s.api.withTeams.methods}`,
      ]),
    ),
    "",
    keys.length === 1
      ? `Every largest answer is the one for \`${keys[0]}\`.`
      : `The largest answers are for: ${keys.map((k) => `\`${k}\``).join(", ")}.`,
  ].join("\n");
}

function teamsSection(run: BenchRun): string[] {
  const t = run.teams;
  if (!t) return [];
  const x = t.latency;
  const cs = x.load.concurrencies;
  const names = Object.keys(LATENCY_TARGETS) as (keyof typeof LATENCY_TARGETS)[];
  const fits = (s: TeamSizes) =>
    Math.max(s.answers.everyTeamsWriters.bytes, s.answers.platformGroup.bytes) <= t.limits.authorizerBytes;
  const most = t.sizes.filter(fits).at(-1);
  const platformIam = t.sizes.filter((s) => s.iam.platformGroup.fits).at(-1);
  return [
    "## 8. Teams: sizes and the cost of workspaces",
    "",
    "### Sizes",
    "",
    `Synthetic team files of 1, 5 and 20 teams, each giving the four tiers (${["readers", "writers", "model-approvers", "release-managers"].map((r) => `\`${r}\``).join(", ")}) to`,
    "`<team>-<tier>`, with the repository's group files; measured as `mlflow-gate policy lint` measures them (the",
    "longest principal, username, API id and stage). The callers:",
    "",
    ...Object.entries(t.callers).map(
      ([k, v]) => `- (${{ oneTeamGroup: "a", everyTeamsWriters: "b", platformGroup: "c" }[k]}) ${v}`,
    ),
    "",
    `The design limits: the authorizer's answer at most ${n0(t.limits.authorizerBytes)} bytes; a role's execute-api policies at most`,
    `${t.limits.iamPolicies} managed policies of ${n0(t.limits.iamPolicyChars)} characters (IAM's 10, one left for a Studio execution role's own); the API at most ${t.limits.apiResources} resources.`,
    "",
    teamSizesTable(t, t.sizes),
    "",
    "### Latency: MLflow with workspaces against without, through gateway → guard → MLflow",
    "",
    `Measured ${x.date}; load average ${x.loadAverage.before.join(" / ")} before and ${x.loadAverage.after.join(" / ")} after (1/5/15 min).`,
    `Two local stacks as \`npm start\` runs them, one without team files and one with the demo teams (MLflow`,
    "`--enable-workspaces`), the same data seeded in each (in `team-a`'s workspace on the second), the mix of section 3's",
    `\`bearer\` target (${x.mix.join(", ")}) with a Cognito access token, keep-alive; ${x.load.rounds} rounds of a ${x.load.sliceMs} ms slice per`,
    `target (at most ${x.load.writesPerTarget} cycles of the mix) after a ${x.load.warmupMs} ms warm-up, the targets taking turns in an order rotated per round:`,
    "",
    ...names.map((n) => `- \`${n}\`: ${x.targets[n].via}`),
    "",
    table(
      ["target", ...cs.flatMap((c) => [`c=${c} req/s`, `c=${c} p50 ms`, `c=${c} p95 ms`]), "non-2xx"],
      names.map((n) => {
        const failures = cs.reduce(
          (sum, c) => sum + Object.values(x.targets[n].byConcurrency[c]?.failures ?? {}).reduce((a, b) => a + b, 0),
          0,
        );
        return [
          n,
          ...cs.flatMap((c) => {
            const cell = x.targets[n].byConcurrency[c];
            return cell ? [n0(cell.perSecond), f(cell.p50), f(cell.p95)] : ["–", "–", "–"];
          }),
          failures === 0 ? "0" : `**${failures}**`,
        ];
      }),
    ),
    "",
    "What workspaces add (run by run, median):",
    "",
    table(
      ["comparison", ...cs.flatMap((c) => [`c=${c} added p50 ms`, `c=${c} added p95 ms`, `c=${c} throughput ×`])],
      (Object.keys(LATENCY_COMPARISONS) as (keyof typeof LATENCY_COMPARISONS)[]).map((name) => [
        name,
        ...cs.flatMap((c) => {
          const v = x.comparisons[c]?.[name];
          return v ? [signed(v.addedP50Ms), signed(v.addedP95Ms), f(v.throughputRatio)] : ["–", "–", "–"];
        }),
      ]),
    ),
    "",
    "What it means. A caller in one team group has the same largest answer and IAM policies whatever the number of",
    "teams: its resources are its tiers' routes placed under its one workspace. The authorizer's answer does not grow",
    "with the teams a caller reaches either, whether through many groups (b) or one group holding a tier in many (c):",
    "it is scoped to the request's team (the cache keys on the path, docs/teams.md), so only its `groups` string grows." +
      (t.sizes.every(fits)
        ? ` Every measured count stays within the ${n0(t.limits.authorizerBytes)} bytes designed to (up to ${most?.teams ?? 0} team(s)).`
        : ` Past ${most?.teams ?? 0} team(s) an answer is over the ${n0(t.limits.authorizerBytes)} bytes designed to.`) +
      " A role's IAM policies do grow with the teams its one group reaches, since each workspace's routes are named" +
      (platformIam
        ? ` literally: a role of such a group fits up to ${platformIam.teams} team(s).`
        : " literally: no role of such a group fits beyond one team.") +
      " `policy lint` reports both for the real team files. The API itself barely changes: the `/ws/{workspace}/`",
    "prefix adds its resources once, whatever the number of teams. Workspaces cost what the comparisons show: the",
    "gateway's longer path and mapped header, the guard's workspace check and MLflow's workspace lookup per request;",
    "the team writer's row adds its own authorizer answer (cached like admin's). Figures from a shared machine are noisy;",
    "the issue sets no target, so none is judged.",
    "",
    ...(x.problems.length > 0
      ? ["**Problems in this section** (its figures are not valid):", "", ...x.problems.map((p) => `- ${p}`), ""]
      : []),
  ];
}

function idleSection(run: BenchRun): string[] {
  const x = run.idle;
  if (!x) return [];
  const row = (label: string, f: NonNullable<BenchRun["idle"]>["stack"]) => [
    label,
    `${f1(f.cpuPercentOfOneCore)} %`,
    String(f.processes),
    f.top
      .filter((t) => t.percent > 0)
      .map((t) => `${t.name} ×${t.processes}: ${f1(t.percent)} %`)
      .join("; ") || "none measurable",
    `${f1(f.readyMs / 1000)} s`,
  ];
  return [
    "## 9. The local stack at rest",
    "",
    `\`npm start\` as a user runs it (\`node scripts/start.js\`, a fresh data directory, free ports), left alone once ready:`,
    `${x.settleSeconds} s to settle, then the CPU its whole process tree used over ${x.measureSeconds} s (user + system time from`,
    "`/proc`), in per cent of one core. Once as it runs by default, once with MLflow's job runner as it ran before.",
    "",
    table(
      ["stack", "CPU (one core)", "processes", "by process name", "ready in"],
      [row("`npm start`", x.stack), row("`MLFLOW_GATE_MLFLOW_JOBS=true`", x.withJobs)],
    ),
    "",
  ];
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toFixed(1);

/** What each package of the login shell is there for: the account the issue asks for above 500 KB. */
const SHELL_PACKAGES: Record<string, string> = {
  "@aws-amplify/auth":
    "Cognito sign-in: SRP (big-integer maths, SHA-256), the new-password and forgot-password calls, token storage and refresh",
  "@aws-amplify/ui":
    "the Authenticator's state machine and form logic, and Amplify UI's design tokens (its components read them as CSS variables, with or without a custom theme)",
  xstate: "the state-machine runtime the Authenticator's flows run on",
  "@aws-amplify/core": "Amplify's configuration, events and the Cognito service client",
  "@aws-amplify/ui-react": "the Authenticator's React components: forms, fields, tabs, icons",
  lodash: "helpers Amplify UI uses (deep merge and equality, among others)",
  preact: "React's API for the components (preact/compat: React DOM alone was about 200 KB)",
  qrcode: "the QR code of TOTP set-up: the pool offers TOTP as an optional second factor",
  "(shell)": "mlflow-gate's own shell: configuration, team placement, the token on MLflow's requests, refusals",
};

function shellSection(run: BenchRun): string[] {
  const x = run.shell;
  if (!x) return [];
  const kb = (n: number) => `${f1(n / 1000)} KB`;
  const rows = x.shell.packages.filter((p) => p.bytes >= 2000);
  const rest = x.shell.packages.filter((p) => p.bytes < 2000).reduce((sum, p) => sum + p.bytes, 0);
  return [
    "## 10. The login page",
    "",
    "The shell every UI user downloads first (`npm run build:ui`), against the same shell built as before issue 19",
    "(React DOM, and every language of Amplify UI). Each build is served from loopback by a static server; time to",
    "interactive runs from navigation start until the sign-in form's username field is on screen, in a fresh",
    `Chromium context each load (nothing cached), the builds alternating, median of ${x.loads} loads each.`,
    "",
    table(
      ["build", "minified", "gzip", "time to interactive"],
      [
        ["now", kb(x.shell.minifiedBytes), kb(x.shell.gzipBytes), `${f1(x.shell.timeToInteractiveMs)} ms`],
        [
          "before issue 19",
          kb(x.before.minifiedBytes),
          kb(x.before.gzipBytes),
          `${f1(x.before.timeToInteractiveMs)} ms`,
        ],
      ],
    ),
    "",
    "What the shell's bytes are for (esbuild's account of the minified output):",
    "",
    table(
      ["package", "minified", "for"],
      [
        ...rows.map((p) => [`\`${p.name}\``, kb(p.bytes), SHELL_PACKAGES[p.name] ?? "a dependency of the above"]),
        ["others", kb(rest), "small dependencies of the above"],
      ],
    ),
    "",
  ];
}

export function renderResults(run: BenchRun): string {
  const m = run.machine;
  const cores = m.cores;
  // Only the load at the start tells of other work: the run itself keeps the cores busy, so the load
  // after it (and a 5-minute average that still remembers earlier work) says nothing about sharing.
  const shared = (run.loadAverage.before[0] ?? 0) > cores / 2;
  const g = run.config.gateway;
  const lines = [
    "# Benchmark results",
    "",
    `Written by \`${run.command}\` (\`bench/index.ts\`) on ${run.date}, in ${run.durationSeconds} s. JSON: \`bench/results/\`.`,
    "",
    ...(shared
      ? [
          `> **The machine was shared during this run**: load average ${run.loadAverage.before.join(" / ")} before and`,
          `> ${run.loadAverage.after.join(" / ")} after (1/5/15 min) on ${cores} cores. Other work competed for the cores, so`,
          "> absolute figures are low and ratios noisy; rerun on a quiet machine before quoting them.",
          "",
        ]
      : []),
    "## Machine",
    "",
    table(
      ["", ""],
      [
        ["CPU", `${m.cpu}, ${cores} cores`],
        ["memory", `${m.memoryGiB} GiB`],
        ["OS", m.os],
        ["Node", m.node],
        ["Python / MLflow", `${m.python} / ${m.mlflow}`],
        [
          "speed: raw RS256 verifications per second (one core, section 1), to compare figures across machines",
          run.authorizer ? n0(run.authorizer.variants.rawRs256.perSecond) : "not measured in this run",
        ],
        [
          "load average before / after (1, 5, 15 min; after includes the run itself)",
          `${run.loadAverage.before.join(", ")} / ${run.loadAverage.after.join(", ")}`,
        ],
      ],
    ),
    "",
    "## Targets",
    "",
    table(
      ["target", "measured", "verdict"],
      run.targets.map((t) => [t.target, `${f(t.measured)} ${t.unit}`, t.met ? "met" : "**missed**"]),
    ),
    "",
    "## Method",
    "",
    "- Everything runs on this one machine, on loopback: the load generator, the gateway, the guard, MLflow, the",
    "  peer. The load generator shares the cores with what it measures, so absolute rates are lower than on separate",
    "  machines; ratios are taken between targets measured the same way, next to each other in time.",
    "- The chain is the one `npm start` runs and AWS runs: gateway → guard → MLflow. `sigv4` and `bearer` go through",
    "  all of it. The guard is its own Node process (`guard/main.ts`, started by `local/guard-process.ts` as the",
    "  stack starts it; on AWS, a sidecar container beside MLflow), so its cost includes a second loopback hop and",
    "  its own event loop. `guard` sends the mix straight to it with the headers API Gateway maps on a Cognito",
    "  route (`IDENTITY_MAPPINGS` via `mappedIdentityHeaders`: the user `admin` of `admins`, a fresh request id per",
    "  request, the authorized method and path, the loopback source address; `'-'` over Authorization and X-Amz-Security-Token), against",
    "  `direct` on the same UI routes: what the guard adds in front of MLflow, with targets of its own (at most",
    "  0.3 ms added p50 at concurrency 1, at least 0.95 of direct throughput at concurrency 8); the chain keeps",
    "  its targets (at most 1 ms, at least 0.9).",
    "- The guard audits writes as the stack does (reads not: `MLFLOW_GATE_AUDIT_READS` is off): each",
    "  `runs/log-metric` through it has its JSON body and MLflow's answer read, and one JSON line appended",
    "  (synchronously) to its audit file in the run's temporary directory. That is part of the guard's cost and",
    "  is in the `guard`, `sigv4` and `bearer` figures; the run checks that every measured write left a line.",
    "- Medians of at least 5 runs. A ratio is computed run by run (both sides from the same round) and its median",
    '  reported; "added p50/p99" is the run-by-run difference of the two targets\' percentiles, median.',
    `- Load: a closed loop per connection (keep-alive, one socket each) in a worker thread of the gateway's process`,
    "  (the bench's own; the guards, MLflow and the trivial upstream are other processes);",
    `  each concurrency (${g.concurrencies.join(", ")}) warms every target up for ${g.warmupMs} ms, then ${g.rounds} rounds in which each target`,
    `  gets a ${g.sliceMs} ms slice, in an order rotated per round; a slice ends when its last answer has arrived.`,
    "- The mix, in turn: `GET experiments/get`, `POST runs/search`, `POST runs/log-metric` (a new step each time:",
    "  MLflow treats a repeated metric differently), and a small artifact (`GET /get-artifact` on the UI's routes,",
    "  `GET /api/2.0/mlflow-artifacts/artifacts/...` on the SDK's, which is what each client calls), with",
    "  `direct` and `directSdk` the matching unauthenticated references.",
    "- MLflow " +
      m.mlflow +
      " as the local stack runs it: one worker, sqlite, `--serve-artifacts`. The peer is the same",
    "  MLflow started with `--app-name basic-auth` (its own sqlite; auth config from `MLFLOW_AUTH_CONFIG_PATH`, default",
    "  permission READ, admin password from `MLFLOW_AUTH_ADMIN_PASSWORD`), called by a regular user it created, who",
    "  owns the experiment.",
    "- SigV4 requests are signed as `mlflow-admin` before each concurrency's load and replayed (signing is not",
    "  measured); the bearer token is an access token of the local Cognito pool (cognito-local), served from the",
    "  gateway's authorizer cache after its first use. The gateway's access log is serialised as `npm start` does",
    "  and written to /dev/null.",
    "- The trivial upstream is a small Node HTTP server answering every request with a fixed JSON body: behind the",
    "  gateway alone (no guard) it shows the gateway's own cost per request; behind a second guard process (its",
    "  own audit file), the guard's.",
    "",
    ...authorizerSection(run),
    ...coldStartSection(run),
    ...gatewaySection(run),
    ...promotionSection(run),
    ...uiSessionSection(run),
    ...teamsSection(run),
    ...idleSection(run),
    ...shellSection(run),
    "## Commands",
    "",
    "```bash",
    "npm run bench                          # everything, about 15 minutes: this file and bench/results/*.json",
    "npm run bench -- --quick               # short runs (about 2 minutes) into $TMPDIR/mlflow-gate-bench-quick",
    "npm run bench -- --only authorizer,cold-start   # some sections, into $TMPDIR/mlflow-gate-bench-partial",
    "npm run bench:promotion                # the promotion section alone (--only promotion)",
    "npm run bench:ui-session               # the UI session's authorizer calls alone (--only ui-session)",
    "npm run bench:teams                    # teams' sizes and the cost of workspaces alone (--only teams)",
    "npm run bench:idle                     # the local stack at rest alone (--only idle)",
    "npm run bench:shell                    # the login page's size and time to interactive alone (--only shell)",
    "npm run bench -- --out DIR             # write somewhere else",
    "```",
    "",
  ];
  return lines.join("\n");
}
