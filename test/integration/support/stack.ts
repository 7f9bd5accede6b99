import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseStackConfig, StackConfig } from "../../../local/config";
import { AccessLogEntry } from "../../../gateway/answer";
import { RunningStack, startStack } from "../../../local/stack";
import { ensureMlflowVenv } from "../../../project/mlflow-venv";
import { runPython } from "../../support/python";

export interface OpResult {
  readonly ok: boolean;
  readonly value: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly status: number | null;
  readonly error: string | null;
}
export type Plan = [name: string, op: string, kwargs: Record<string, unknown>][];

export interface TestStack {
  readonly stack: RunningStack;
  readonly config: StackConfig;
  readonly accessLog: AccessLogEntry[];
  /** Runs SDK operations (test/integration/python/sdk_ops.py) as a profile, or on the private MLflow. */
  sdk(as: string | "private", plan: Plan): Promise<Record<string, OpResult>>;
  stop(): Promise<void>;
}

/** The environment of a Python process using the real MLflow SDK as one local principal. */
export function sdkEnv(stack: RunningStack, as: string | "private"): NodeJS.ProcessEnv {
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

/** Starts the whole local stack on free ports in a fresh data directory (or the one given, to test restarts). */
export async function startTestStack(
  options: { dataDir?: string; env?: Record<string, string>; config?: Partial<StackConfig> } = {},
): Promise<TestStack> {
  ensureMlflowVenv();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "mlflow-gate-it-"));
  // `config` bypasses the environment's limits (a token lifetime under 60 s), for tests only.
  const config: StackConfig = {
    ...parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      MLFLOW_GATE_PORT: "0",
      MLFLOW_GATE_USER_POOL_PORT: "0",
      MLFLOW_GATE_STS_PORT: "0",
      ...options.env,
    }),
    ...options.config,
  };
  const accessLog: AccessLogEntry[] = [];
  const stack = await startStack(config, {
    progress: () => undefined,
    accessLog: (e) => void accessLog.push(e),
    authorizerLogger: { info: () => undefined, error: () => undefined },
  });
  return {
    stack,
    config,
    accessLog,
    async sdk(as, plan) {
      const r = await runPython(
        [join("test", "integration", "python", "sdk_ops.py"), JSON.stringify(plan)],
        sdkEnv(stack, as),
      );
      if (r.code !== 0) throw new Error(`sdk_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
      return JSON.parse(r.stdout) as Record<string, OpResult>;
    },
    async stop() {
      await stack.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
