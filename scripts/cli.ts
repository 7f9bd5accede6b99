// The `mlflow-gate` command: decide, render and lint group policies, show teams, and check the route catalog against MLflow.
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";
import { parseArgs } from "util";
import { EXECUTE_API_POLICIES_PER_ROLE, IAM_MANAGED_POLICY_MAX_CHARS } from "../authorizer/core/compile";
import { decidePath, explainDecision } from "../authorizer/core/decide-request";
import { GroupPolicyError, MlflowGateError } from "../authorizer/core/errors";
import { API_GATEWAY, DEFAULT_WORKSPACE, splitWorkspacePath, WORKSPACE_PATH_PART } from "../authorizer/core/contract";
import { GroupSizes, LargestAnswer, lintGroupFiles, LintReport, undeployable } from "../authorizer/core/lint";
import { TeamGroupSizes } from "../authorizer/core/lint-teams";
import { MethodArnStage } from "../authorizer/core/method-arn";
import { authorizerScope, PolicySet } from "../authorizer/core/policy-set";
import { CATALOG_FILE, GROUPS_DIR, TEAMS_DIR } from "../project/paths";
import { installedMlflowVersion } from "../project/mlflow-venv";
import { diffRouteCatalogs, introspectRouteCatalog } from "./lib/route-catalog";
import { CliFailure, CliUsageError } from "./lib/cli-errors";
import { CliIo, Command, Context, OptionName, OPTIONS, Values } from "./lib/command";
import { display, loadCatalog, loadSet, readPolicyFiles } from "./lib/load-set";
import { usersCommands } from "./users";
import { teamsCommands } from "./teams";
import { signCommand } from "./sign";
import { auditCommand } from "./audit";
import { whyCommand } from "./why";
import { loginCommands } from "./login";
import { verifyCommand } from "./verify";
import { renderCommittedApiDefinition } from "./generate-api-definition";
import { LOCAL_API_DEFINITION_FILE } from "../gateway/local-api";
import { resolveDataDir } from "../local/config";
import { canonicalStage, Stage } from "../authorizer/core/promotion";
import { isPromotionAction } from "../guard/promotion-request";
import {
  decidePromotionFields,
  PROMOTION_FLAGS,
  PromotionFields,
  PromotionFlag,
  promotionFlagProblem,
} from "./lib/promotion-check";

const USAGE = `Usage: mlflow-gate [--catalog FILE] [--groups-dir DIR] [--teams-dir DIR] <command> [options]

Access control for an MLflow tracking server behind AWS API Gateway.

Commands:
  policy check --group G [--group G2 ...] [--team T] METHOD PATH
               [--stage S [--from-stage S] [--archive-existing] | --alias A] [--creator U] [--caller U]
      Decide one request as the deployed gateway would, and on the promotion routes as the
      guard then would from the body. Prints one line: ALLOW|DENY, the action (or
      unknown-route), the groups, the workspace (with teams) and why; with teams, a group is
      one the team files name (or admins), a request is decided in the workspace of its path
      (/ws/T/...), and --team T puts /ws/T before a PATH that names none (T: a team, or
      default); a promotion the gateway lets through goes on with
      the guard's answer (its 403 naming the rule and the group file, or its 400 for a body
      MLflow would not read). The promotion routes need their body's field:
        TransitionModelVersionStage (POST .../model-versions/transition-stage): --stage S, any
          spelling (read as MLflow and the guard read it: "production" is Production, "Prod"
          is refused); --from-stage S, the version's current stage (default None);
          --archive-existing, the body's archive_existing_versions
        SetRegisteredModelAlias (POST .../registered-models/alias): --alias A
        DeleteRegisteredModelAlias (DELETE .../registered-models/alias): --alias A
      --creator U is the version's creator as the guard stamped it (default: unknown, which
      the two-person rule refuses); --caller U the caller's name as the guard knows it
      (default: someone other than the creator). Without the field, or with a flag the route
      does not read, it is a usage error.
  policy render --group G [--format authorizer|iam] [--api-id ID]
                [--region R --account A --stage S]   (iam only)
      Print a compiled policy as JSON. authorizer (default): the whole policy of members
      of the group(s), naming only the API id (the Lambda authorizer answers each request
      with its part for the request's verb and API resource); iam: the managed policies of
      the group's role (exactly one group). With teams, a group is one the team files name
      (its resources are under /ws/<team>/ of each workspace it reaches) or admins.
  policy lint
      Validate every group file: YAML and schema, action names and patterns, extends,
      compilation, that compiled policies grant exactly what the group intends, and
      the size limits: the authorizer's largest answer (8192 bytes) and a role's
      execute-api policies (9 of 6144 characters). Prints the sizes per group. With team
      files, checks them too (tiers are group files, holders have names of their own, team
      names MLflow accepts) and every group they name, in every workspace, and prints a
      Teams table: where each group holds which tiers, its largest answer and its role's
      IAM policies, then users in several teams.
  teams list
      One line per team: its name, the first sentence of its description, its tiers and
      their holders. Without team files, says so (docs/teams.md).
  teams show TEAM | teams show --group G
      TEAM: who can do what in its workspace: per tier, its holders, the routes it may call
      by class and its promotion rights. --group G: every workspace G reaches and the
      tiers it holds there.
  routes diff
      Compare the route catalog with the MLflow installed in .venv.
  api render [--deployed | --local]
      Print the REST API's definition (OpenAPI 3.0 with API Gateway's extensions) built from the
      route catalog. --deployed (default): with the deployment's values as placeholders, as CDK
      deploys it; policies/api-definition.json is this output, committed (npm run api:generate).
      --local: the definition the running local stack's gateway runs, with its values
      ($MLFLOW_GATE_DATA/api-definition.json, written at each start).

  users add USER --group G [--group G2 ...] [--email E]
            [--password-stdin | --temporary-password --password-file FILE | --send-invitation]
      Create a Cognito user (if missing) and add them to the groups; an existing user keeps
      their password and other groups. A new user needs one way to sign in:
        --password-stdin       a permanent password read from stdin (a pipe, or typed
                               unechoed on a terminal)
        --temporary-password   a generated one-time password, written to --password-file
                               (created with mode 0600, never overwritten); the user must
                               change it at first sign-in
        --send-invitation      Cognito e-mails a temporary password to --email
      Invitation e-mails are never sent otherwise. Passwords are never printed.
  users list
      Every user: status, enabled, groups, e-mail.
  users groups USER
      The user's groups, one per line.
  users set-groups USER G [G2 ...]
      Make the user's groups exactly these (adds first, then removes).
  users remove USER
      Delete the user.
  groups sync [--dry-run]
      Create the pool groups that have a file in the groups directory; report pool groups
      without a file (they grant nothing; never deleted). --dry-run changes nothing. In a
      pool deployed by the CDK app, the groups are CloudFormation resources: deploy instead.
  The users and groups commands act on one pool: with --user-pool-id ID [--region R]
  [--profile P], a pool in AWS (the region is the id's prefix; credentials from the
  profile or the default chain); without it, the local stack's pool
  ($MLFLOW_GATE_DATA/stack.json, default .mlflow-gate/stack.json). Group names must have
  a group file. Tokens already issued keep their groups until they expire; the next
  sign-in or token refresh gets the new ones.

  sign [-X METHOD] [-H 'Name: value' ...] [-d BODY | -d @FILE | -d @-] [-i]
       [--profile P] [--region R] [--service S] URL
      Send one request signed with SigV4 (default service execute-api) with the credentials
      of the AWS profile (--profile, else AWS_PROFILE, else the default chain; the shared
      files honour AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE). The region comes from
      --region, an execute-api host name, AWS_REGION or the profile. GET by default, POST
      with -d; a body that starts with { or [ is sent as application/json, another as
      application/octet-stream, unless -H sets Content-Type. -d sends bytes as given
      (like curl --data-binary). Prints the body on stdout and the status on stderr (-i: the status
      line and response headers on stdout first). Never prints the signature. http:// only
      to a loopback address (the local gateway).
  audit [--model NAME [--lines]] [--run ID] [--user U] [--action A] [--since 7d|DATE]
        [--refused] [--json] [--file FILE]
      Print the guard's audit trail: every write MLflow answered and every refusal, with who
      (--user matches the stamped name, the username or the caller's ARN), what, on which
      resources, and the outcome; filters combine. Reads $MLFLOW_GATE_DATA/audit.jsonl (the
      local stack's) unless --file names another file of its lines. --json prints the lines
      as stored. On AWS the trail is a CloudWatch log group (docs/deploying.md).
      --model NAME prints the model's promotions version by version (who created each version,
      then every stage transition with the stage before and the stage asked for, every alias
      set or deleted, every deletion of the version), then the model's deletions and renames
      (to a new name, or into NAME from an old one): who asked, when, and the outcome: done,
      failed (MLflow's error status) or refused by the guard, with the reason and the rule's
      message; the other filters select among them. With --json, one JSON object per request,
      in time order (kind: transition, set-alias, delete-alias, delete-version, delete-model,
      rename); with --lines, every line about the model as without --model.
  login USER [--password-stdin] [--user-pool-id ID --client-id ID [--region R]]
      Sign in to the user pool as a person: the local stack's (USER_PASSWORD_AUTH), or a deployed one
      (SRP: the password never leaves this machine; the stack's outputs UserPoolId and UserPoolClientId).
      A first sign-in with a temporary password asks for a new one. The password comes from the
      terminal, not echoed, or with --password-stdin from stdin (a second line: the new password).
      The refresh token is kept in $XDG_CONFIG_HOME/mlflow-gate/logins.json (~/.config/...), mode
      0600, one per app client; nothing is printed.
  logout [--client-id ID]
      Revoke the saved refresh token of the app client (default: the local stack's) and forget it.
  why [REQUEST_ID] [--file FILE] [--audit-file FILE]
      Explain one request of the local stack's access log ($MLFLOW_GATE_DATA/access.jsonl, or
      --file): the caller and their groups, the route and its action, which enforcement point
      decided (API Gateway, the Lambda authorizer, the guard or MLflow) and why, and the rule
      today's policy files apply. REQUEST_ID is the answer's x-amzn-RequestId or x-amz-apigw-id
      (also in npm start's log lines); without it, the last request answered 400 or more.
  verify API_URL [--config FILE] [--audit-file FILE] [--artifact-mb N] [--teams A,B] [--dry-run]
      A conformance run against a deployment, local or on AWS, with your own credentials: the
      UI config loads; each principal's sampled routes of every class are allowed or refused
      as the group files say; path tricks are refused; a forged identity header never becomes
      the caller; a run and a registered model name their verified creator; an artifact of
      --artifact-mb MB (default 50) uploads in parts and downloads byte-identical, and is
      refused to groups that may not write; the audit trail names the caller of each write.
      Creates only its own uniquely named experiment, runs and registered model, and deletes
      them at the end. A loopback URL uses the local stack's profiles and demo users
      ($MLFLOW_GATE_DATA/stack.json); a deployment needs --config (docs/deploying.md). --dry-run prints
      the plan and sends nothing. With team files, each team's routes are checked under
      /ws/<team>/ and two teams (--teams A,B; default the first two) are checked to be apart.
      One line per check, then "N passed, N failed"; exit 1 if any check failed.
  help
      Show this text.

Options:
  --catalog FILE     route catalog (default: policies/mlflow-routes.json)
  --groups-dir DIR   group files (default: policies/groups)
  --teams-dir DIR    team files (default: policies/teams; none there: no teams, one workspace)
  -h, --help         show this text

Exit status: 0 success (a DENY is a success of "policy check"), 1 problems found,
unreadable files or a failed operation (a pool or URL that cannot be reached, an unknown
user, a failed verify check), 2 usage error, 3 "sign" got an HTTP status of 400 or more (the body is printed).
`;

const HINT = `run "mlflow-gate --help"`;

/** Wrong command line: exit 2 with one line and the help hint. */
class UsageError extends CliUsageError {}

/** Bad input files or a failed check: exit 1 with one line per problem. */
class Failure extends CliFailure {}

const GLOBAL_OPTIONS: readonly OptionName[] = ["catalog", "groups-dir", "teams-dir", "help"];

const COMMANDS: readonly Command[] = [
  {
    name: "policy check",
    options: ["group", "team", ...(Object.keys(PROMOTION_FLAGS) as PromotionFlag[])],
    run: policyCheck,
  },
  { name: "policy render", options: ["group", "format", "region", "account", "api-id", "stage"], run: policyRender },
  { name: "policy lint", options: [], run: policyLint },
  { name: "routes diff", options: [], run: routesDiff },
  { name: "api render", options: ["local", "deployed"], run: apiRender },
  ...teamsCommands,
  ...usersCommands,
  signCommand,
  auditCommand,
  whyCommand,
  ...loginCommands,
  verifyCommand,
];

export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    const { values, positionals } = parseCommandLine(argv);
    if (values.help || positionals[0] === "help") {
      io.stdout.write(USAGE);
      return 0;
    }
    const command = findCommand(positionals);
    const stray = (Object.keys(values) as OptionName[]).filter(
      (o) => !GLOBAL_OPTIONS.includes(o) && !command.options.includes(o),
    );
    if (stray.length > 0) throw new UsageError(`option --${stray[0]} does not apply to "${command.name}"`);
    return await command.run({
      io,
      catalogFile: values.catalog ?? CATALOG_FILE,
      groupsDir: values["groups-dir"] ?? GROUPS_DIR,
      teamsDir: values["teams-dir"] ?? TEAMS_DIR,
      values,
      args: positionals.slice(command.name.split(" ").length),
    });
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.stderr.write(`mlflow-gate: ${e.message}; ${HINT}\n`);
      return 2;
    }
    for (const line of problemLines(e)) io.stderr.write(`${line}\n`);
    return 1;
  }
}

function parseCommandLine(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    // Node's messages go on to explain `--`; the first sentence is what the user needs.
    throw new UsageError((e as Error).message.split(/\.\s/)[0]?.replace(/\.$/, "") ?? "invalid arguments");
  }
}

function findCommand(positionals: readonly string[]): Command {
  if (positionals.length === 0) throw new UsageError("missing command");
  const [topic, verb] = positionals;
  const topics = [...new Set(COMMANDS.map((c) => c.name.split(" ")[0]))];
  if (!topics.includes(topic as string)) throw new UsageError(`unknown command "${topic}"`);
  const single = COMMANDS.find((c) => c.name === topic);
  if (single) return single;
  const verbs = COMMANDS.filter((c) => c.name.startsWith(`${topic} `)).map((c) => c.name.split(" ")[1]);
  if (verb === undefined) throw new UsageError(`missing ${topic} command (${verbs.join(", ")})`);
  const command = COMMANDS.find((c) => c.name === `${topic} ${verb}`);
  if (!command) throw new UsageError(`unknown command "${topic} ${verb}" (${topic} commands: ${verbs.join(", ")})`);
  return command;
}

/** One line per problem, without stack traces: the messages of our error taxonomy and of file I/O. */
function problemLines(e: unknown): string[] {
  if (e instanceof CliFailure) return [...e.lines];
  if (e instanceof GroupPolicyError) return [...e.problems];
  if (e instanceof MlflowGateError)
    return e.message
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  const errno = e as NodeJS.ErrnoException;
  if (errno?.code && errno.path)
    return [`${display(errno.path)}: ${errno.message.replace(/^[A-Z]+: /, "").split(",")[0]}`];
  return [`mlflow-gate: ${e instanceof Error ? e.message : String(e)}`];
}

/** The `--group` values, checked before any file is read. */
function groupOptions(ctx: Context): string[] {
  const groups = ctx.values.group ?? [];
  if (groups.length === 0) throw new UsageError("missing --group");
  return [...new Set(groups)];
}

/** The groups must be the policy set's caller groups: with teams, the team files' groups and the global group files. */
function requireKnownGroups(set: PolicySet, groups: readonly string[]): void {
  const unknown = groups.find((g) => !set.callerGroups.has(g));
  if (unknown !== undefined) {
    throw new UsageError(`unknown group "${unknown}" (known groups: ${[...set.callerGroups].sort().join(", ")})`);
  }
}

// ---------------------------------------------------------------------------------------------------
// policy check

function parseRequestPath(raw: string): string {
  const path = raw.replace(/[?#].*$/s, "");
  if (!path.startsWith("/")) throw new UsageError(`PATH must start with "/": ${raw}`);
  try {
    // The gateway and MLflow decide on the decoded path.
    return decodeURIComponent(path);
  } catch {
    throw new UsageError(`PATH has a malformed %-escape: ${raw}`);
  }
}

function policyCheck(ctx: Context): number {
  const [rawMethod, rawPath, ...rest] = ctx.args;
  if (rawMethod === undefined || rawPath === undefined) throw new UsageError("policy check needs METHOD and PATH");
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const method = rawMethod.toUpperCase();
  if (!/^[A-Z]+$/.test(method))
    throw new UsageError(`METHOD must be an HTTP method like GET or POST, not "${rawMethod}"`);
  const requestPath = parseRequestPath(rawPath);
  const groups = groupOptions(ctx);
  const fields = promotionFieldsOf(ctx.values);
  const set = loadSet(ctx);
  requireKnownGroups(set, groups);
  const path = inWorkspace(set, ctx, requestPath);
  const workspace = set.locate(method, path).workspace;
  const d = decidePath(set, groups, method, path);
  const given = (Object.keys(PROMOTION_FLAGS) as PromotionFlag[]).filter((f) => ctx.values[f] !== undefined);
  const problem = promotionFlagProblem(d.route?.action, given);
  if (problem !== undefined) throw new UsageError(problem);
  const where = workspace === undefined ? "" : ` in ${workspace}`;
  const head = `${d.route?.action ?? "unknown-route"} ${groups.join(",")}${where}: ${explainDecision(d)} (${d.surface})`;
  // An allow the deployed system could not give (the groups' policy does not fit) is no allow.
  const unfit = d.decision === "allow" && d.surface !== "none" ? undeployable(set, groups, d.surface) : undefined;
  if (unfit !== undefined) {
    ctx.io.stdout.write(`DENY ${head}, but it cannot be deployed: ${unfit}\n`);
    return 0;
  }
  const route = d.route;
  // The gateway refuses before the guard reads anything; past it, the guard decides the body's fields.
  if (d.decision === "deny" || route === undefined || !isPromotionAction(route.action)) {
    ctx.io.stdout.write(`${d.decision.toUpperCase()} ${head}${teamHint(set, method, path, d.reason)}\n`);
    return 0;
  }
  const verdict = decidePromotionFields(set, groups, { ...route, action: route.action }, fields, workspace);
  ctx.io.stdout.write(
    verdict.ok
      ? `ALLOW ${head}; the guard allows it ${allowedBy(set, verdict.group)}\n`
      : `DENY ${head}, but the guard refuses it (${verdict.status} ${verdict.reason}): ${verdict.message}\n`,
  );
  return 0;
}

/**
 * The path decided: with `--team T`, in workspace T (`/ws/T` put before a path that names no workspace). A team
 * needs team files, and must be one of theirs or `default` (which only admins and a default.yaml team reach).
 */
function inWorkspace(set: PolicySet, ctx: Context, path: string): string {
  const team = ctx.values.team;
  if (team === undefined) return path;
  if (!set.teams)
    throw new UsageError(`--team needs team files, and ${display(ctx.teamsDir)} has none (docs/teams.md)`);
  if (team !== DEFAULT_WORKSPACE && !set.teams.byName.has(team))
    throw new UsageError(`unknown team "${team}" (teams: ${set.teams.allWorkspaces.join(", ")})`);
  const named = splitWorkspacePath(path)?.workspace;
  if (named !== undefined && named !== team) throw new UsageError(`PATH is in workspace ${named}, --team says ${team}`);
  return path.startsWith(`/${WORKSPACE_PATH_PART}/`) ? path : `/${WORKSPACE_PATH_PART}/${team}${path}`;
}

/** Why an MLflow route outside any workspace has no method with teams, and what to give instead. */
function teamHint(set: PolicySet, method: string, path: string, reason: string): string {
  if (!set.teams || reason !== "no-api-method" || splitWorkspacePath(path) !== undefined) return "";
  if (set.matcher.match(method, path) === undefined) return "";
  return `; with teams, MLflow's routes are under /${WORKSPACE_PATH_PART}/<team>/: give --team T or PATH /${WORKSPACE_PATH_PART}/T${path}`;
}

/** The promotion flags as the fields of a request; a version's stage is one MLflow holds, so a bad one is a usage error. */
function promotionFieldsOf(values: Values): PromotionFields {
  const raw = values["from-stage"];
  const fromStage: Stage | undefined = raw === undefined ? undefined : canonicalStage(raw);
  if (raw !== undefined && fromStage === undefined)
    throw new UsageError(
      `--from-stage must be one of None, Staging, Production, Archived (in any letter case), not "${raw}"`,
    );
  return {
    ...(values.stage !== undefined ? { stage: values.stage } : {}),
    ...(values["archive-existing"] !== undefined ? { archiveExisting: values["archive-existing"] } : {}),
    ...(values.alias !== undefined ? { alias: values.alias } : {}),
    ...(fromStage !== undefined ? { fromStage } : {}),
    ...(values.creator !== undefined ? { creator: values.creator } : {}),
    ...(values.caller !== undefined ? { caller: values.caller } : {}),
  };
}

/** Which group's file let the promotion through, in the words of the guard's messages. */
function allowedBy(set: PolicySet, group: string): string {
  return set.groups.get(group)?.promotion === undefined
    ? `as policies/groups/${group}.yaml has no promotion rules (the route right decides)`
    : `by the promotion rules of policies/groups/${group}.yaml`;
}

// ---------------------------------------------------------------------------------------------------
// policy render

const PLACEHOLDER_API = { apiId: "${ApiId}", stage: "${Stage}" };
const SCOPE_PATTERNS: Record<"region" | "account" | "api-id" | "stage", RegExp> = {
  region: /^(\*|[a-z]{2}(-[a-z]+)+-\d)$/,
  account: /^(\*|\d{12})$/,
  "api-id": /^(\*|[a-zA-Z0-9]{1,64})$/,
  stage: /^(\*|[A-Za-z0-9_-]{1,128})$/,
};

function scopeFrom(values: Values, defaults: Omit<MethodArnStage, "partition">): MethodArnStage {
  for (const key of Object.keys(SCOPE_PATTERNS) as (keyof typeof SCOPE_PATTERNS)[]) {
    const v = values[key];
    if (v !== undefined && !SCOPE_PATTERNS[key].test(v)) throw new UsageError(`--${key} "${v}" is not a valid ${key}`);
  }
  return {
    partition: "aws",
    region: values.region ?? defaults.region,
    account: values.account ?? defaults.account,
    apiId: values["api-id"] ?? defaults.apiId,
    stage: values.stage ?? defaults.stage,
  };
}

function policyRender(ctx: Context): number {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`);
  const format = ctx.values.format ?? "authorizer";
  if (format !== "authorizer" && format !== "iam")
    throw new UsageError(`--format must be authorizer or iam, not "${format}"`);
  const groups = groupOptions(ctx);
  if (format === "iam" && groups.length > 1)
    throw new UsageError("--format iam renders one group's role: give exactly one --group");
  if (format === "authorizer" && (ctx.values.region ?? ctx.values.account ?? ctx.values.stage) !== undefined) {
    throw new UsageError(
      "--region, --account and --stage apply to --format iam; the authorizer's policy names only the API id",
    );
  }
  // The authorizer's policy names only the API id: API Gateway applies it to its own API only.
  const scope =
    format === "authorizer"
      ? authorizerScope(scopeFrom(ctx.values, { region: "*", account: "*", ...PLACEHOLDER_API }))
      : scopeFrom(ctx.values, { region: "${AWS::Region}", account: "${AWS::AccountId}", ...PLACEHOLDER_API });
  const set = loadSet(ctx);
  requireKnownGroups(set, groups);
  const rendered =
    format === "authorizer" ? set.authorizerPolicy(groups, scope) : set.iamPolicies(groups[0] as string, scope);
  ctx.io.stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// policy lint

/** Every check of `policy lint` on the files, and how many team files there are. */
function lintPolicies(ctx: Context): { report: LintReport; teamCount: number; groupFiles: ReadonlySet<string> } {
  const catalog = loadCatalog(ctx.catalogFile);
  const read = readPolicyFiles(ctx);
  const report = lintGroupFiles(catalog, read.groups, read.groupProblems, {
    files: read.teams,
    problems: read.teamProblems,
  });
  return { report, teamCount: read.teams.length, groupFiles: new Set(read.groups.map((g) => g.name)) };
}

/** "for GET /path/{proxy+}" of an answer, or nothing. */
const answerKey = (s: LargestAnswer): string => (s.key ? `${s.key.method} ${s.key.resource}` : "");

/** A role's execute-api policies: "n / 9: chars, chars". */
const iamPolicies = (chars: readonly number[]): string =>
  chars.length === 0 ? "none" : `${chars.length} / ${EXECUTE_API_POLICIES_PER_ROLE}: ${chars.join(", ")}`;

/** Rows as columns padded to the widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd(),
  );
}

/** The Teams table: every group the team files name, where it holds which tiers, and its sizes. */
function formatTeamGroups(groups: readonly TeamGroupSizes[]): string[] {
  return table([
    ["group", "where (workspace: tiers)", "largest answer (bytes)", "for", "IAM policies (chars each)"],
    ...groups.map((g) => [
      g.group,
      g.grants.map((w) => `${w.workspace}: ${w.tiers.join(", ")}`).join("; "),
      `${g.authorizerBytes} / ${API_GATEWAY.maxAuthorizerResponseBytes}`,
      answerKey(g),
      iamPolicies(g.iamPolicyChars),
    ]),
  ]);
}

function formatSizes(sizes: readonly GroupSizes[]): string[] {
  return table([
    [
      "group",
      "largest answer (bytes)",
      "for",
      "IAM policies (chars each)",
      "iam globs allow/deny",
      "cognito globs allow/deny",
    ],
    ...sizes.map((s) => [
      s.group,
      `${s.authorizerBytes} / ${API_GATEWAY.maxAuthorizerResponseBytes}`,
      answerKey(s),
      iamPolicies(s.iamPolicyChars),
      `${s.globs.iam.allow} / ${s.globs.iam.deny}`,
      `${s.globs.cognito.allow} / ${s.globs.cognito.deny}`,
    ]),
  ]);
}

function policyLint(ctx: Context): number {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`);
  const { report, teamCount, groupFiles } = lintPolicies(ctx);
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  for (const p of report.problems) out(p);
  if (report.sizes.length > 0) {
    if (report.problems.length > 0) out("");
    out(
      `Sizes, worst case (the authorizer's largest answer, for one verb under one API resource, ≤ ${API_GATEWAY.maxAuthorizerResponseBytes} bytes; a role's execute-api policies ≤ ${EXECUTE_API_POLICIES_PER_ROLE} of ≤ ${IAM_MANAGED_POLICY_MAX_CHARS} chars each):`,
    );
    for (const line of formatSizes(report.sizes)) out(`  ${line}`);
  }
  if (report.unions.length > 0) {
    out("Users in several groups (largest answer, bytes):");
    for (const u of report.unions)
      out(
        `  ${u.groups.join(" + ")}: ${u.authorizerBytes} / ${API_GATEWAY.maxAuthorizerResponseBytes} for ${answerKey(u)}`,
      );
  }
  // The team files' own groups: a global group file (admins) is in the table above already.
  const teamGroups = (report.teams?.groups ?? []).filter((g) => !groupFiles.has(g.group));
  if (teamGroups.length > 0) {
    out(
      `Teams (the groups the team files name: the tiers they hold in each workspace, their largest answer and a role's IAM policies):`,
    );
    for (const line of formatTeamGroups(teamGroups)) out(`  ${line}`);
  }
  if ((report.teams?.unions.length ?? 0) > 0) {
    out("Users in several team groups (largest answer, bytes):");
    for (const u of report.teams?.unions ?? [])
      out(
        `  ${u.label} (${u.groups.join(" + ")}): ${u.authorizerBytes} / ${API_GATEWAY.maxAuthorizerResponseBytes} for ${answerKey(u)}`,
      );
  }
  const n = report.problems.length;
  const teams =
    teamCount === 0 ? "" : ` ${teamCount} team${teamCount === 1 ? "" : "s"} (${teamGroups.length} team groups),`;
  out(
    n === 0
      ? `policy lint: ${report.sizes.length} groups,${teams} ${report.routeCount} routes: no problems`
      : `policy lint: ${n} problem${n === 1 ? "" : "s"}`,
  );
  return n === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------
// api render

function apiRender(ctx: Context): number {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`);
  if (ctx.values.local && ctx.values.deployed) throw new UsageError("--local and --deployed exclude each other");
  if (!ctx.values.local) {
    ctx.io.stdout.write(renderCommittedApiDefinition(ctx.catalogFile));
    return 0;
  }
  const file = join(resolveDataDir(process.env), LOCAL_API_DEFINITION_FILE);
  if (!existsSync(file))
    throw new Failure([
      `mlflow-gate: no ${display(file)}: start the local stack ("npm start") with the same MLFLOW_GATE_DATA (${display(dirname(file))}), then run this again`,
    ]);
  ctx.io.stdout.write(readFileSync(file, "utf8"));
  return 0;
}

// routes diff

function routesDiff(ctx: Context): number {
  if (ctx.args.length > 0) throw new UsageError(`unexpected argument "${ctx.args[0]}"`);
  const committed = loadCatalog(ctx.catalogFile);
  const version = installedMlflowVersion();
  if (version === undefined)
    throw new Failure([
      `mlflow-gate: no MLflow in .venv; install the pinned one with "npx tsx scripts/ensure-mlflow.ts"`,
    ]);
  const diff = diffRouteCatalogs(committed, introspectRouteCatalog());
  const out = (line: string) => ctx.io.stdout.write(`${line}\n`);
  const file = display(ctx.catalogFile);
  if (diff.missing.length + diff.extra.length + diff.changed.length === 0) {
    out(`${file} matches MLflow ${version} in .venv (${committed.routes.length} routes)`);
    return 0;
  }
  const section = (title: string, lines: readonly string[]) => {
    if (lines.length === 0) return;
    out(`${title} (${lines.length}):`);
    for (const l of lines) out(`  ${l}`);
  };
  section(`missing: served by MLflow ${version}, not in ${file}`, diff.missing);
  section(`extra: in ${file}, not served by MLflow ${version}`, diff.extra);
  section("changed", diff.changed);
  out(`${file} differs from MLflow ${version} in .venv; run "npm run routes:generate" and review the group files`);
  return 1;
}
