import { chmodSync, mkdirSync, writeFileSync } from "fs";
import { Server } from "http";
import { join } from "path";
import { createAuthorizer, DecisionLogger } from "../authorizer/authorize";
import { ApiDefinition, formatApiDefinition } from "../authorizer/core/api-definition";
import { PolicySet } from "../authorizer/core/policy-set";
import { loadPolicySet } from "../authorizer/load-policies";
import { createTokenVerifier } from "../authorizer/token";
import { CATALOG_FILE } from "../project/paths";
import { API_GATEWAY, ARTIFACT_PREFIX } from "../authorizer/core/contract";
import { PORT_VARIABLES, StackConfig } from "./config";
import { defaultPrincipalsOf, demoUsersOf } from "./demo-identities";
import { RunningGuard, startGuard } from "./guard-process";
import { RestartPolicy, RunningMlflow, startMlflow } from "./mlflow-server";
import { openAccessLogFile } from "./access-log-file";
import { startPolicyReload, swappableGateway, watchPaths } from "./policy-reload";
import { stopLeftovers } from "./leftovers";
import { claimPort } from "./processes";
import { localArtifactsDestination, RunningS3, startS3Emulator } from "./s3-emulator";
import {
  loadPrincipals,
  Principal,
  PrincipalCredentialStore,
  principalStore,
  RoleProfile,
  writeAwsFiles,
} from "./principals";
import { closeServer } from "../common/http-server";
import { LogSink } from "../common/log";
import { AccessLogEntry } from "../gateway/answer";
import { LOCAL_API_DEFINITION_FILE, renderLocalApiDefinition } from "../gateway/local-api";
import { createGateway, Gateway, serveGateway } from "../gateway/server";
import { createStsServer, SessionStore, withSessions } from "./sts";
import { createUiFront } from "./ui-front";
import { decisionLogger, parseLogLine } from "./log-lines";
import { startUiLoginEndpoint } from "./ui-login-endpoint";
import { buildUiConfig } from "../ui-patch/ui-config";
import { loopbackOrigins } from "./pool-access";
import { PoolKey } from "./user-pool-front";
import { DemoUser, RunningUserPool, startUserPool } from "./user-pool";

/** Demo users of the local pool: one per default group. */
export { DEMO_USERS } from "./demo-identities";

/** What `<data>/stack.json` holds: everything a script or test needs to talk to the stack. */
export interface StackSummary {
  readonly gatewayUrl: string;
  readonly mlflowPrivateUrl: string;
  /** The guard in front of MLflow (private: the gateway is its only client). */
  readonly guardPrivateUrl: string;
  /** The guard's audit trail (JSON lines). */
  readonly auditFile: string;
  readonly region: string;
  readonly cognito: {
    readonly endpoint: string;
    readonly userPoolId: string;
    readonly clientId: string;
    readonly issuer: string;
    readonly jwksUri: string;
    /** Signs the pool's administrator actions (`mlflow-gate users`/`groups`): why this file is 0600. */
    readonly adminKey: PoolKey;
  };
  readonly demoUsers: readonly DemoUser[];
  /** Profiles of principals with an MLflow group (sign MLflow requests with them directly). */
  readonly profiles: readonly { readonly name: string; readonly group: string }[];
  /** The local STS: its endpoint (in the AWS config's services section), the account of its role ARNs, its session bounds. */
  readonly sts: {
    readonly endpoint: string;
    readonly accountId: string;
    readonly minDurationSeconds: number;
    readonly maxDurationSeconds: number;
  };
  /** Profiles that assume a role through the local STS (role_arn + source_profile), one per trust entry. */
  readonly roleProfiles: readonly (RoleProfile & { readonly group?: string })[];
  readonly awsCredentialsFile: string;
  readonly awsConfigFile: string;
  readonly mlflowVersion: string;
  /** The teams (MLflow workspaces under `<gatewayUrl>/ws/<team>/`); absent: one workspace, MLflow at the root. */
  readonly teams?: readonly string[];
  /** The S3 emulator holding MLflow's artifacts (private like MLflow; clients reach it only through presigned URLs). */
  readonly s3: { readonly endpoint: string; readonly bucket: string; readonly prefix: string };
}

export interface RunningStack {
  readonly summary: StackSummary;
  /** The supervised MLflow child (fault tests kill it). */
  readonly mlflow: RunningMlflow;
  /** The supervised guard child (fault tests kill it). */
  readonly guard: RunningGuard;
  /** The supervised S3 emulator child. */
  readonly s3: RunningS3;
  readonly policySet: PolicySet;
  readonly userPool: RunningUserPool;
  readonly principals: readonly Principal[];
  /** The local STS's live sessions (in memory). */
  readonly sessions: SessionStore;
  stop(): Promise<void>;
}

export interface StackIo {
  /** Progress lines for people. */
  readonly progress: (line: string) => void;
  /**
   * Every machine-readable line, in the one log shape (common/log.ts): the gateway's and the STS's access
   * lines (`event: "request"`), the authorizer's decisions, the guard's own events.
   */
  readonly log: LogSink;
  /** The patched UI, built before (ui-patch/build-ui.ts, without a config): the stack only serves it. */
  readonly uiDirectory: string;
  /** Restart delays for a crashed MLflow or guard (the log goes to `progress`); @default 1 s doubling to 30 s */
  readonly mlflowRestart?: Omit<RestartPolicy, "log">;
}

async function listen(
  server: Server,
  host: string,
  port: number,
  variable: string = PORT_VARIABLES.gatewayPort,
): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === "EADDRINUSE"
            ? `port ${port} on ${host} is in use: set ${variable} to another port`
            : `cannot listen on ${host}:${port} (${e.code}): set ${variable}`,
        ),
      ),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}

export interface LocalGatewayProps {
  readonly region: string;
  /** The API the gateway runs: the deployed definition rendered for this stack (renderLocalApiDefinition). */
  readonly api: ApiDefinition;
  readonly policySet: PolicySet;
  readonly userPool: Pick<RunningUserPool, "issuer" | "jwksUri" | "clientId">;
  readonly principals: readonly Principal[];
  readonly accessLog: (entry: AccessLogEntry) => void;
  readonly authorizerLogger: DecisionLogger;
  /** The patched UI to serve on `/` and `/static-files/*` (its config is the API's MOCK). */
  readonly uiDirectory: string;
  /** With teams: the workspaces whose `/ws/<team>/` serves the UI too (the UI config's teams); @default none */
  readonly uiWorkspaces?: readonly string[];
  /** Keys the gateway accepts; @default the principals' long-term keys only */
  readonly credentials?: PrincipalCredentialStore;
}

/**
 * The gateway of the local stack, with the very authorizer module the Lambda runs, verifying tokens of
 * the local pool; in front of it, the patched UI's files when there is a UI directory.
 */
export function createLocalGateway(props: LocalGatewayProps): Server {
  return serveGateway(localGatewayOf(props));
}

/** The local gateway's request handler (createLocalGateway serves it; the stack swaps it on a policy reload). */
export function localGatewayOf(props: LocalGatewayProps): Gateway {
  const authorizer = createAuthorizer({
    config: { maxTokenBytes: 8192 },
    policySet: props.policySet,
    verifier: createTokenVerifier({
      issuer: props.userPool.issuer,
      jwksUri: props.userPool.jwksUri,
      clientIds: [props.userPool.clientId],
    }),
    logger: props.authorizerLogger,
  });
  const gateway = createGateway({
    region: props.region,
    api: props.api,
    policySet: props.policySet,
    authorizer,
    credentials: props.credentials ?? principalStore(props.principals),
    log: props.accessLog,
  });
  return createUiFront({
    gateway,
    uiDirectory: props.uiDirectory,
    log: props.accessLog,
    ...(props.uiWorkspaces ? { workspaces: props.uiWorkspaces } : {}),
  });
}

/** Starts MLflow, the user pool and the gateway; on any failure stops what it started and rethrows. */
export async function startStack(config: StackConfig, io: StackIo): Promise<RunningStack> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    mkdirSync(config.dataDir, { recursive: true });
    // What an earlier run on this data directory left running is stopped first (it holds the ports and the
    // database); a stack that still runs here is an error.
    const runDir = join(config.dataDir, "run");
    await stopLeftovers(runDir, io.progress);
    // Every line goes to the caller's log; request lines also to <data>/access.jsonl (mlflow-gate why).
    const accessFile = openAccessLogFile(config.dataDir);
    stops.push(() => accessFile.close());
    const log: LogSink = (line) => {
      io.log(line);
      accessFile.sink(line);
    };
    // A taken gateway port should fail now, not after MLflow has started.
    if (config.gatewayPort !== 0) await claimPort(config.host, config.gatewayPort, PORT_VARIABLES.gatewayPort);
    if (config.stsPort !== 0) await claimPort(config.host, config.stsPort, PORT_VARIABLES.stsPort);
    const policySet = loadPolicySet(CATALOG_FILE, config.groupsDir, undefined, config.teamsDir);
    const tiers = [...policySet.groups.keys()].sort();
    const groups = [...policySet.callerGroups].sort();
    const teams = policySet.teams?.names ?? [];
    io.progress(
      `policies      ${tiers.length} groups (${tiers.join(", ")}) from ${config.groupsDir}, ${policySet.catalog.routes.length} routes of MLflow ${policySet.catalog.mlflowVersion}`,
    );
    if (teams.length > 0)
      io.progress(
        `teams         ${teams.length} (${teams.join(", ")}) from ${config.teamsDir}: MLflow under /ws/<team>/, ${groups.length} groups (${groups.join(", ")})`,
      );

    const principals = loadPrincipals(config.dataDir, new Set(groups), defaultPrincipalsOf(policySet));
    io.progress(`principals    ${principals.map((p) => `${p.name} (${p.group ?? "no MLflow group"})`).join(", ")}`);

    // The STS has its own listener: its query API is `POST /`, which on the gateway is MLflow's UI
    // space, and on AWS it is another host too. Sessions live in memory: a restart forgets them.
    const sessions = new SessionStore(() => new Date());
    const credentials = withSessions(principalStore(principals), sessions);
    const accountId = API_GATEWAY.account;
    const sts = createStsServer({
      region: config.region,
      accountId,
      principals,
      credentials,
      sessions,
      minDurationSeconds: config.stsMinDurationSeconds,
      maxDurationSeconds: config.stsMaxDurationSeconds,
      log,
    });
    const stsPort = await listen(sts, config.host, config.stsPort, PORT_VARIABLES.stsPort);
    stops.push(() => closeServer(sts));
    const stsEndpoint = `http://${config.host}:${stsPort}`;
    const aws = writeAwsFiles(config.dataDir, principals, config.region, { endpoint: stsEndpoint, accountId });
    io.progress(
      `sts           ${stsEndpoint} (AssumeRole, sessions of ${config.stsMinDurationSeconds} to ${config.stsMaxDurationSeconds} s, in memory), ${aws.roleProfiles.length} assume-role profiles`,
    );

    let t = Date.now();
    const userPool = await startUserPool({
      stateDir: join(config.dataDir, "cognito"),
      runDir,
      host: config.host,
      port: config.userPoolPort,
      region: config.region,
      groups,
      demoUsers: demoUsersOf(policySet),
      events: log,
      ...(config.accessTokenValiditySeconds !== undefined
        ? { accessTokenValiditySeconds: config.accessTokenValiditySeconds }
        : {}),
    }).catch((e: Error) => {
      throw new Error(
        `user pool: ${e.message}${/in use/.test(e.message) ? ` (set ${PORT_VARIABLES.userPoolPort})` : ""}`,
      );
    });
    stops.push(() => userPool.stop());
    io.progress(
      `user pool     ${userPool.endpoint} pool ${userPool.userPoolId}, ${userPool.users.length} demo users (${Date.now() - t} ms)`,
    );

    t = Date.now();
    const s3 = await startS3Emulator({
      dataDir: config.dataDir,
      runDir,
      host: config.host,
      port: config.s3Port,
      portVariable: PORT_VARIABLES.s3Port,
      region: config.region,
      restart: { ...io.mlflowRestart, log: io.progress },
      log: io.progress,
    });
    stops.push(() => s3.stop());
    io.progress(
      `s3            ${s3.url.origin} (moto), bucket ${s3.bucket} kept in ${join(config.dataDir, "s3")} (${Date.now() - t} ms)`,
    );

    t = Date.now();
    const mlflow: RunningMlflow = await startMlflow({
      dataDir: config.dataDir,
      runDir,
      host: config.host,
      port: config.mlflowPort,
      portVariable: PORT_VARIABLES.mlflowPort,
      // A crashed MLflow comes back on the same port by itself; meanwhile the gateway answers 502.
      restart: { ...io.mlflowRestart, log: io.progress },
      log: io.progress,
      artifactStore: s3,
      jobs: config.mlflowJobs,
      ...(teams.length > 0 ? { workspaces: teams } : {}),
    });
    stops.push(() => mlflow.stop());
    io.progress(
      `mlflow        ${mlflow.url.origin} (private), database in ${join(config.dataDir, "mlflow")}, artifacts in ${localArtifactsDestination(s3.bucket)} (${Date.now() - t} ms)`,
    );

    // The guard sits between the gateway and MLflow, as the sidecar does in the MLflow task.
    t = Date.now();
    const auditFile = join(config.dataDir, "audit.jsonl");
    const guard = await startGuard({
      host: config.host,
      port: config.guardPort,
      portVariable: PORT_VARIABLES.guardPort,
      upstream: mlflow.url,
      runDir,
      auditFile,
      auditReads: config.auditReads,
      groupsDir: config.groupsDir,
      teamsDir: config.teamsDir,
      // A local principal signs as an IAM user, or as its role through the local STS: both name its group.
      iamGroups: new Map(
        principals.flatMap((p) =>
          p.group === undefined
            ? []
            : ([
                [`user/${p.name}`, p.group],
                [`role/${p.name}`, p.group],
              ] as [string, string][]),
        ),
      ),
      events: (line) => {
        const parsed = parseLogLine(line, "guard");
        log(parsed);
        // A reload the guard refused (its own read of the files failed) would leave it apart from the gateway.
        if (parsed.event === "reload-refused")
          io.progress(`guard         kept its policies: ${String(parsed.message)}; restart npm start if this stays`);
      },
      restart: { ...io.mlflowRestart, log: io.progress },
    });
    stops.push(() => guard.stop());
    io.progress(`guard         ${guard.url.origin} (private), audit trail in ${auditFile} (${Date.now() - t} ms)`);

    // The gateway's pages are the only ones the login endpoint answers; it knows their origin once it listens.
    let gatewayOrigins: ReadonlySet<string> = new Set();
    const loginEndpoint = await startUiLoginEndpoint({
      userPoolEndpoint: userPool.endpoint,
      host: config.host,
      gatewayOrigins: () => gatewayOrigins,
    });
    stops.push(() => loginEndpoint.stop());
    // The API the gateway runs: the deployed definition with this stack's values, written where
    // `mlflow-gate api render --local` reads it. cognito-local has no SRP: the local shell signs in with
    // USER_PASSWORD_AUTH, through the sign-in endpoint.
    // With teams the config also says which groups reach which team (public: docs/teams.md, The UI).
    const uiConfig = buildUiConfig(
      {
        userPoolId: userPool.userPoolId,
        userPoolClientId: userPool.clientId,
        region: config.region,
        authFlow: "USER_PASSWORD_AUTH",
        userPoolEndpoint: loginEndpoint.endpoint,
      },
      policySet,
    );
    const api = renderLocalApiDefinition(policySet.catalog.routes, {
      upstream: guard.url,
      uiConfigJson: JSON.stringify(uiConfig),
      integrationTimeoutMs: config.integrationTimeoutMs,
      authorizerTtlSeconds: config.authorizerCacheTtlSeconds,
      version: policySet.catalog.mlflowVersion,
      workspaces: teams.length > 0,
    });
    writeFileSync(join(config.dataDir, LOCAL_API_DEFINITION_FILE), formatApiDefinition(api));

    const gatewayOf = (set: PolicySet) =>
      localGatewayOf({
        uiDirectory: io.uiDirectory,
        ...(uiConfig.teams ? { uiWorkspaces: uiConfig.teams.map((t) => t.name) } : {}),
        region: config.region,
        api,
        policySet: set,
        userPool,
        principals,
        credentials,
        accessLog: log,
        authorizerLogger: decisionLogger(log),
      });
    const front = swappableGateway(gatewayOf(policySet));
    const server = serveGateway(front);
    const port = await listen(server, config.host, config.gatewayPort);
    stops.push(() => closeServer(server));
    // An edit of a group or team file is in force within a second; sessions, keys and users stay.
    const policies = startPolicyReload({
      paths: [config.groupsDir, config.teamsDir],
      load: () => loadPolicySet(CATALOG_FILE, config.groupsDir, undefined, config.teamsDir),
      initial: policySet,
      apply: (next) => {
        front.swap(gatewayOf(next));
        guard.reload();
      },
      progress: io.progress,
      log,
    });
    stops.push(async () => policies.close());
    const principalsWatch = watchPaths(
      [config.dataDir],
      () =>
        io.progress(
          "principals    principals.json changed: restart npm start to apply it (its keys stay; STS sessions end)",
        ),
      150,
      (name) => name === "principals.json",
    );
    stops.push(async () => principalsWatch.close());
    gatewayOrigins = loopbackOrigins(config.host, port);
    const gatewayUrl = `http://${config.host}:${port}`;
    io.progress(`gateway       ${gatewayUrl} (authorizer cache ${config.authorizerCacheTtlSeconds} s)`);

    const summary: StackSummary = {
      gatewayUrl,
      mlflowPrivateUrl: mlflow.url.origin,
      guardPrivateUrl: guard.url.origin,
      auditFile,
      region: config.region,
      cognito: {
        endpoint: userPool.endpoint,
        userPoolId: userPool.userPoolId,
        clientId: userPool.clientId,
        issuer: userPool.issuer,
        jwksUri: userPool.jwksUri,
        adminKey: userPool.adminKey,
      },
      demoUsers: userPool.users,
      profiles: principals.flatMap((p) => (p.group !== undefined ? [{ name: p.name, group: p.group }] : [])),
      sts: {
        endpoint: stsEndpoint,
        accountId,
        minDurationSeconds: config.stsMinDurationSeconds,
        maxDurationSeconds: config.stsMaxDurationSeconds,
      },
      roleProfiles: aws.roleProfiles.map((r) => {
        const group = principals.find((p) => r.roleArn.endsWith(`:role/${p.name}`))?.group;
        return { ...r, ...(group !== undefined ? { group } : {}) };
      }),
      awsCredentialsFile: aws.credentialsFile,
      awsConfigFile: aws.configFile,
      mlflowVersion: policySet.catalog.mlflowVersion,
      ...(teams.length > 0 ? { teams } : {}),
      s3: { endpoint: s3.url.origin, bucket: s3.bucket, prefix: ARTIFACT_PREFIX },
    };
    const stackFile = join(config.dataDir, "stack.json");
    writeFileSync(stackFile, `${JSON.stringify(summary, null, 2)}\n`, { mode: 0o600 });
    chmodSync(stackFile, 0o600);
    return {
      summary,
      mlflow,
      guard,
      s3,
      get policySet() {
        return policies.current();
      },
      userPool,
      principals,
      sessions,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The summary `npm start` prints once everything is ready. */
export function formatSummary(s: StackSummary, dataDir: string): string {
  const env = `AWS_SHARED_CREDENTIALS_FILE=${s.awsCredentialsFile} AWS_CONFIG_FILE=${s.awsConfigFile}`;
  // Columns as wide as the longest name (team names make long ones).
  const width = (names: readonly string[], min: number) => Math.max(min, ...names.map((n) => n.length + 1));
  const userWidth = width(
    s.demoUsers.map((u) => u.username),
    16,
  );
  const profileWidth = width(
    s.profiles.map((p) => p.name),
    24,
  );
  const roleWidth = width(
    s.roleProfiles.map((r) => r.name),
    36,
  );
  return [
    "",
    `mlflow-gate is ready: ${s.gatewayUrl}`,
    "",
    "  UI users (Cognito, local pool):",
    ...s.demoUsers.map((u) => `    ${u.username.padEnd(userWidth)} ${u.password}   (${u.group})`),
    "",
    "  SDK profiles (SigV4):",
    ...s.profiles.map((p) => `    ${p.name.padEnd(profileWidth)} (${p.group})`),
    "",
    `  Assume-role profiles (local STS ${s.sts.endpoint}):`,
    ...s.roleProfiles.map(
      (r) =>
        `    ${r.name.padEnd(roleWidth)} ${r.roleArn}${r.externalId !== undefined ? ` (ExternalId ${r.externalId})` : ""}`,
    ),
    "",
    ...(s.teams && s.teams.length > 0
      ? [
          `  Teams (MLflow workspaces, each under ${s.gatewayUrl}/ws/<team>/): ${s.teams.join(", ")}`,
          "",
          "  Try:",
          `    ${env} AWS_PROFILE=mlflow-${s.teams[0]}-reader MLFLOW_TRACKING_AWS_SIGV4=true MLFLOW_DISABLE_TELEMETRY=true MLFLOW_TRACKING_URI=${s.gatewayUrl}/ws/${s.teams[0]} .venv/bin/python -c "import mlflow; print(mlflow.search_experiments())"`,
          `    npx mlflow-gate policy check --group ${s.teams[0]}-readers --team ${s.teams[0]} POST /api/2.0/mlflow/runs/create`,
        ]
      : [
          "  Try:",
          `    ${env} AWS_PROFILE=mlflow-reader MLFLOW_TRACKING_AWS_SIGV4=true MLFLOW_DISABLE_TELEMETRY=true MLFLOW_TRACKING_URI=${s.gatewayUrl} .venv/bin/python -c "import mlflow; print(mlflow.search_experiments())"`,
          `    npx mlflow-gate policy check --group readers POST /api/2.0/mlflow/runs/create`,
        ]),
    "",
    `  Everything above is in ${join(dataDir, "stack.json")}. Ctrl-C stops the stack; data stays in ${dataDir}.`,
    "",
  ].join("\n");
}
