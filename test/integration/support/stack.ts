import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { FREE_PORTS_ENV, parseStackConfig, StackConfig } from "../../../local/config";
import { AccessLogEntry } from "../../../gateway/answer";
import { Principal } from "../../../local/principals";
import { RunningStack, startStack, StackSummary } from "../../../local/stack";
import { connectUserPool, UserPoolOperations } from "../../../local/user-pool";
import { ensureMlflowVenv } from "../../../project/mlflow-venv";
import { runPython } from "../../support/python";
import { isAccessLine } from "../../support/access-log";
import { lockSharedStack, readAccessLog, readSharedStackFile, SHARED_STACK_ENV } from "../../support/shared-stack";
import { testUiDirectory } from "../../support/test-ui";

export interface OpResult {
  readonly ok: boolean;
  readonly value: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly status: number | null;
  readonly error: string | null;
}
export type Plan = [name: string, op: string, kwargs: Record<string, unknown>][];

/** What a whole-system test reaches of a stack: the summary, the principals' keys, the user pool. */
export interface TestStackView {
  readonly summary: StackSummary;
  readonly principals: readonly Principal[];
  readonly userPool: UserPoolOperations;
}

export interface TestStack {
  readonly stack: TestStackView;
  readonly config: StackConfig;
  readonly accessLog: AccessLogEntry[];
  /** Runs SDK operations (test/integration/python/sdk_ops.py) as a profile, or on the private MLflow. */
  sdk(as: string | "private", plan: Plan): Promise<Record<string, OpResult>>;
  stop(): Promise<void>;
}

/** The environment of a Python process using the real MLflow SDK as one local principal. */
export function sdkEnv(stack: Pick<TestStackView, "summary">, as: string | "private"): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MLFLOW_DISABLE_TELEMETRY: "true",
    DO_NOT_TRACK: "true",
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0",
    MLFLOW_HTTP_REQUEST_TIMEOUT: "60",
    AWS_EC2_METADATA_DISABLED: "true",
    PYTHONWARNINGS: "ignore",
  };
  if (as === "private") return { ...base, MLFLOW_TRACKING_URI: stack.summary.mlflowPrivateUrl };
  return {
    ...base,
    MLFLOW_TRACKING_URI: stack.summary.gatewayUrl,
    MLFLOW_TRACKING_AWS_SIGV4: "true",
    AWS_SHARED_CREDENTIALS_FILE: stack.summary.awsCredentialsFile,
    AWS_CONFIG_FILE: stack.summary.awsConfigFile,
    AWS_PROFILE: as,
  };
}

/** sdkEnv with the repository's plugin (MLFLOW_TRACKING_AUTH=mlflow-gate) in place of MLflow's stock SigV4 signer. */
export function pluginEnv(
  stack: Pick<TestStackView, "summary">,
  as: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const { MLFLOW_TRACKING_AWS_SIGV4: _stock, ...env } = sdkEnv(stack, as);
  return { ...env, MLFLOW_TRACKING_AUTH: "mlflow-gate", ...extra };
}

/**
 * The plugin's extra environment in bearer mode, as a Cognito user of the local pool (with its username and
 * password when given); the AWS files point nowhere, so nothing can be signed with SigV4.
 */
export function bearerEnv(
  stack: Pick<TestStackView, "summary">,
  user?: { readonly username: string; readonly password: string },
): NodeJS.ProcessEnv {
  return {
    AWS_PROFILE: undefined,
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_CONFIG_FILE: "/nonexistent",
    MLFLOW_GATE_AUTH_MODE: "bearer",
    MLFLOW_GATE_COGNITO_CLIENT_ID: stack.summary.cognito.clientId,
    MLFLOW_GATE_COGNITO_ENDPOINT: stack.summary.cognito.endpoint,
    ...(user ? { MLFLOW_GATE_COGNITO_USERNAME: user.username, MLFLOW_GATE_COGNITO_PASSWORD: user.password } : {}),
  };
}

/**
 * Runs test/integration/python/plugin_ops.py (sdk_ops.py and helpers) as a profile with the plugin, or on
 * the private MLflow.
 */
export async function pluginOps(
  stack: Pick<TestStackView, "summary">,
  as: string | "private",
  plan: Plan,
  extra: NodeJS.ProcessEnv = {},
): Promise<Record<string, OpResult>> {
  const env = as === "private" ? sdkEnv(stack, "private") : pluginEnv(stack, as, extra);
  const r = await runPython([join("test", "integration", "python", "plugin_ops.py"), JSON.stringify(plan)], env);
  if (r.code !== 0) throw new Error(`plugin_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as Record<string, OpResult>;
}

/** One request signed by botocore (a signer that hashes file bodies) as a profile; returns status and body. */
export async function signedRequest(
  t: TestStack,
  profile: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  const args = [
    join("test", "integration", "python", "signed_request.py"),
    method,
    `${t.stack.summary.gatewayUrl}${path}`,
    ...(body !== undefined ? [body] : []),
  ];
  const r = await runPython(args, sdkEnv(t.stack, profile));
  if (r.code !== 0) throw new Error(`signed_request.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as { status: number; body: string };
}

/**
 * One request through the gateway with a bearer token (none when `token` is undefined), a JSON body when given:
 * its status, and its body as JSON (or as text when it is not JSON).
 */
export async function bearerCall(
  stack: Pick<TestStackView, "summary">,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.summary.gatewayUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: text };
  }
}

/** A fresh access token of one of the stack's demo users (a sign-in of its own: a token the authorizer has not seen). */
export async function demoAccessToken(t: TestStack, username: string): Promise<string> {
  const user = t.stack.summary.demoUsers.find((u) => u.username === username);
  if (!user) throw new Error(`the stack has no demo user ${username}`);
  return (await t.stack.userPool.login(user.username, user.password)).accessToken;
}

export interface TestStackOptions {
  /** A data directory to start in (a restart test); implies a private stack. */
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  /** Bypasses the environment's limits (a token lifetime under 60 s), for tests only; implies a private stack. */
  readonly config?: Partial<StackConfig>;
  /**
   * A stack of this file's own: for files that change the user pool or assert on everything MLflow or the
   * access log holds. @default shared, when the global setup started one
   */
  readonly private?: true;
}

/**
 * A local stack for a whole-system test file: the run's shared stack when jest's global setup started one
 * (held by this file until stop; its access log starts empty for the file), or a private stack on free
 * ports in a fresh data directory (or the one given, to test restarts). Files on the shared stack name
 * what they create uniquely.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const sharedFile = process.env[SHARED_STACK_ENV];
  const wantsPrivate =
    options.private === true ||
    options.dataDir !== undefined ||
    options.env !== undefined ||
    options.config !== undefined;
  return sharedFile && !wantsPrivate ? useSharedStack(sharedFile) : startPrivateStack(options);
}

function sdkOf(stack: Pick<TestStackView, "summary">): TestStack["sdk"] {
  return async (as, plan) => {
    const r = await runPython(
      [join("test", "integration", "python", "sdk_ops.py"), JSON.stringify(plan)],
      sdkEnv(stack, as),
    );
    if (r.code !== 0) throw new Error(`sdk_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout) as Record<string, OpResult>;
  };
}

async function useSharedStack(file: string): Promise<TestStack> {
  const shared = readSharedStackFile(file);
  const release = await lockSharedStack(shared.lockDir);
  // The access log of this file: what the stack logs from now on.
  const logged = readAccessLog(shared.accessLogFile).length;
  const { summary } = shared;
  const pool = connectUserPool(
    summary.cognito.endpoint,
    summary.region,
    summary.cognito.userPoolId,
    summary.cognito.clientId,
    summary.cognito.adminKey,
  );
  const principals = (
    JSON.parse(readFileSync(join(shared.config.dataDir, "principals.json"), "utf8")) as { principals: Principal[] }
  ).principals;
  const stack: TestStackView = { summary, principals, userPool: pool };
  return {
    stack,
    config: shared.config,
    get accessLog() {
      return readAccessLog(shared.accessLogFile).slice(logged);
    },
    sdk: sdkOf(stack),
    async stop() {
      pool.close();
      release();
    },
  };
}

async function startPrivateStack(options: TestStackOptions): Promise<TestStack> {
  ensureMlflowVenv();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "mlflow-gate-it-"));
  // `config` bypasses the environment's limits (a token lifetime under 60 s), for tests only.
  const config: StackConfig = {
    ...parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      ...FREE_PORTS_ENV,
      ...options.env,
    }),
    ...options.config,
  };
  const accessLog: AccessLogEntry[] = [];
  const stack: RunningStack = await startStack(config, {
    uiDirectory: await testUiDirectory(),
    progress: () => undefined,
    log: (line) => void (isAccessLine(line) && accessLog.push(line)),
  });
  return {
    stack,
    config,
    accessLog,
    sdk: sdkOf(stack),
    async stop() {
      await stack.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
