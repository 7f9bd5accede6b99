import { spawn } from "child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync } from "fs";
import { dirname, join } from "path";
import { ARTIFACT_PREFIX } from "../authorizer/core/contract";
import { REPO_ROOT, VENV_PYTHON } from "../project/paths";
import { killOnExit, stopProcessGroup, tailOf, untilLine } from "./processes";
import { RestartPolicy, superviseOnPort } from "./supervisor";

/**
 * The local stack's S3: moto's S3 server (from PyPI, in .venv) on a loopback port, with one bucket
 * that MLflow keeps artifacts in, as the artifact bucket on AWS. local/s3_emulator.py keeps the bucket
 * as plain files under `<data>/s3/<bucket>/`, so artifacts survive a restart.
 */
export const LOCAL_ARTIFACT_BUCKET = "mlflow-gate-artifacts";

/** Any key pair works with moto; these name the stack so a stray one is recognised. */
const LOCAL_S3_CREDENTIALS = { accessKeyId: "mlflow-gate-local", secretAccessKey: "mlflow-gate-local" } as const;

export interface S3EmulatorOptions {
  /** Where its processes' pid files go (`<data>/run`), for the next stack to stop leftovers; @default none */
  readonly runDir?: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly portVariable: string;
  readonly region: string;
  readonly restart?: RestartPolicy;
  readonly readyTimeoutMs?: number;
  /** Progress lines (loading the bucket, moving file artifacts of an older stack into it). */
  readonly log?: (line: string) => void;
}

export interface RunningS3 {
  readonly url: URL;
  readonly bucket: string;
  readonly region: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Where the bucket's files are. */
export function s3Directory(dataDir: string): string {
  return join(dataDir, "s3");
}

/** MLflow's `--artifacts-destination` in the local stack: the bucket and prefix of the deployed one. */
export function localArtifactsDestination(bucket = LOCAL_ARTIFACT_BUCKET): string {
  return `s3://${bucket}/${ARTIFACT_PREFIX}`;
}

/**
 * What a process needs to reach the emulator with boto3 (MLflow's S3 client): its endpoint, a region and
 * the local key pair. A profile, a session token or a web identity of the user's own environment are
 * dropped, so MLflow never signs with real AWS credentials and never calls AWS.
 */
export function s3ClientEnv(base: NodeJS.ProcessEnv, s3: Pick<RunningS3, "url" | "region">): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const key of Object.keys(env))
    if (
      /^AWS_(PROFILE|DEFAULT_PROFILE|SESSION_TOKEN|SECURITY_TOKEN|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN|CONTAINER_)/.test(
        key,
      )
    )
      delete env[key];
  return {
    ...env,
    MLFLOW_S3_ENDPOINT_URL: s3.url.origin,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: s3.region,
    AWS_REGION: s3.region,
    // No IMDS probe for credentials or region: there is no instance here.
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/**
 * Stacks before the S3 emulator kept artifacts as files in `<data>/mlflow/artifacts`, under the same keys
 * MLflow now uses below the prefix. On the first start with the emulator they are moved (a rename,
 * nothing copied or lost) to where the bucket's files live; returns whether it moved them.
 */
export function moveFileArtifacts(dataDir: string, bucket = LOCAL_ARTIFACT_BUCKET): boolean {
  const from = join(dataDir, "mlflow", "artifacts");
  const to = join(s3Directory(dataDir), bucket, ARTIFACT_PREFIX);
  if (!existsSync(from)) return false;
  if (readdirSync(from).length === 0) {
    rmdirSync(from);
    return false;
  }
  if (existsSync(to))
    throw new Error(
      `both ${from} (artifacts of an older stack) and ${to} (the S3 emulator's) exist: move the files of the first into the second, then start again`,
    );
  mkdirSync(dirname(to), { recursive: true });
  renameSync(from, to);
  return true;
}

interface Ready {
  readonly objects: number;
  readonly bytes: number;
}

/**
 * Starts the S3 emulator on a loopback port (a crashed one comes back on the same port with a
 * restart policy, its bucket loaded again from the files).
 */
export async function startS3Emulator(options: S3EmulatorOptions): Promise<RunningS3> {
  const log = options.log ?? (() => undefined);
  const directory = s3Directory(options.dataDir);
  mkdirSync(directory, { recursive: true });
  if (moveFileArtifacts(options.dataDir))
    log(`s3            moved the artifacts of ${join(options.dataDir, "mlflow", "artifacts")} into the bucket's files`);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const server = await superviseOnPort(
    "s3            ",
    options,
    async (url, onSpawn) => {
      const child = spawn(
        VENV_PYTHON,
        [
          join(REPO_ROOT, "local", "s3_emulator.py"),
          "--host",
          options.host,
          "--port",
          url.port,
          "--dir",
          directory,
          "--bucket",
          LOCAL_ARTIFACT_BUCKET,
          "--region",
          options.region,
        ],
        {
          cwd: directory,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONUNBUFFERED: "1", PYTHONWARNINGS: "ignore" },
        },
      );
      killOnExit(child, options.runDir !== undefined ? { runDir: options.runDir, name: "s3 emulator" } : undefined);
      onSpawn(child);
      const why = tailOf(child);
      // Its warnings (a key it cannot keep as a file) join the progress lines.
      child.stderr?.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString("utf8").split("\n"))
          if (line.startsWith("s3-emulator:")) log(`s3            ${line.slice(12).trim()}`);
      });
      try {
        const ready = await untilLine(
          child,
          "stdout",
          (line) => (line.includes('"event": "ready"') ? (JSON.parse(line) as Ready) : undefined),
          readyTimeoutMs,
          why,
        );
        if (ready.objects > 0)
          log(
            `s3            loaded ${ready.objects} objects (${(ready.bytes / 1024 / 1024).toFixed(1)} MB) from ${directory}`,
          );
      } catch (e) {
        await stopProcessGroup(child);
        throw new Error(`the S3 emulator ${(e as Error).message}`);
      }
      child.stdout?.resume();
      return child;
    },
    options.restart,
  );
  return {
    url: server.url,
    bucket: LOCAL_ARTIFACT_BUCKET,
    region: options.region,
    get pid() {
      return server.pid;
    },
    stop: () => server.stop(),
  };
}
