// `npm run bench:artifacts`: large artifacts through the local stack (issue 15). An admin logs a file with the real
// MLflow SDK and the plugin (in parts, to presigned URLs of the S3 emulator) and a reader downloads it (through a
// presigned URL), against a plain boto3 copy of the same file to and from the same S3 emulator: what MLflow's
// multipart protocol and the gateway's calls around it cost over S3 itself. Each transfer is a fresh Python
// process timed inside (imports excluded; the SDK's first calls included: the plugin's first auth, get_run,
// /server-info); the median of `--rounds` (default 3) is reported.
// Writes bench/results/artifacts.json (or --out FILE). `--size MB` (default 200), `--quick` (50 MB, 1 round).
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, closeSync, writeSync } from "fs";
import { randomBytes } from "crypto";
import { tmpdir } from "os";
import { dirname, join, resolve } from "path";
import { FREE_PORTS_ENV, parseStackConfig } from "../local/config";
import { startStack } from "../local/stack";
import { ensureMlflowVenv } from "../project/mlflow-venv";
import { runPython } from "../test/support/python";
import { describeMachine, loadAverage } from "./lib/machine";
import { median, round } from "./lib/stats";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function writeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, "w");
  try {
    for (let left = bytes; left > 0; left -= 8 * 1024 * 1024)
      writeSync(fd, randomBytes(Math.min(left, 8 * 1024 * 1024)));
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const sizeMb = Number(arg("--size") ?? (quick ? 50 : 200));
  const rounds = Number(arg("--rounds") ?? (quick ? 1 : 3));
  const out = resolve(arg("--out") ?? join(__dirname, "results", "artifacts.json"));
  if (!(sizeMb >= 1 && sizeMb <= 2048) || !(rounds >= 1 && rounds <= 20))
    throw new Error(
      "usage: npm run bench:artifacts [-- --quick] [--size MB (1-2048)] [--rounds N (1-20)] [--out FILE]",
    );
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const loadBefore = loadAverage();
  ensureMlflowVenv(log);
  const dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-artifacts-"));
  const work = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-files-"));
  // The bench loads no page: the UI directory is empty.
  const uiDirectory = mkdtempSync(join(tmpdir(), "mlflow-gate-bench-ui-"));
  const stack = await startStack(
    parseStackConfig({
      MLFLOW_GATE_DATA: dataDir,
      ...FREE_PORTS_ENV,
    }),
    { uiDirectory, progress: log, log: () => undefined },
  );
  try {
    const s = stack.summary;
    const env = (profile: string): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PYTHONWARNINGS: "ignore",
      MLFLOW_DISABLE_TELEMETRY: "true",
      AWS_EC2_METADATA_DISABLED: "true",
      MLFLOW_TRACKING_URI: s.gatewayUrl,
      MLFLOW_TRACKING_AUTH: "mlflow-gate",
      AWS_SHARED_CREDENTIALS_FILE: s.awsCredentialsFile,
      AWS_CONFIG_FILE: s.awsConfigFile,
      AWS_PROFILE: profile,
    });
    const python = async (args: string[], e: NodeJS.ProcessEnv): Promise<string> => {
      const r = await runPython(args, e, 600_000);
      if (r.code !== 0) throw new Error(`${args.join(" ")} failed (${r.code}): ${r.stderr.slice(-1500)}`);
      return r.stdout;
    };
    const timed = async (args: string[], e: NodeJS.ProcessEnv) =>
      (JSON.parse(await python([join(__dirname, "artifacts_client.py"), ...args], e)) as { seconds: number }).seconds;

    const runId = (
      await python(
        [
          "-c",
          "import mlflow, time; c = mlflow.MlflowClient(); e = c.create_experiment(f'bench-artifacts-{time.time()}'); print(c.create_run(e).info.run_id)",
        ],
        env("mlflow-admin"),
      )
    ).trim();
    const file = join(work, "weights.bin");
    log(`bench         writing a ${sizeMb} MB file of random bytes`);
    writeRandomFile(file, sizeMb * 1024 * 1024);

    const times = {
      sdkUpload: [] as number[],
      sdkDownload: [] as number[],
      plainUpload: [] as number[],
      plainDownload: [] as number[],
    };
    for (let i = 0; i < rounds; i++) {
      const down = join(work, `down-${i}`);
      mkdirSync(down);
      times.sdkUpload.push(await timed(["sdk-upload", runId, file], env("mlflow-admin")));
      times.sdkDownload.push(await timed(["sdk-download", runId, join(down, "weights.bin")], env("mlflow-reader")));
      times.plainUpload.push(await timed(["plain-upload", s.s3.endpoint, file], env("mlflow-admin")));
      times.plainDownload.push(
        await timed(["plain-download", s.s3.endpoint, join(down, "plain.bin")], env("mlflow-admin")),
      );
      rmSync(down, { recursive: true, force: true });
      log(
        `bench         round ${i + 1}/${rounds}: SDK up ${times.sdkUpload[i]?.toFixed(2)} s, down ${times.sdkDownload[i]?.toFixed(2)} s; plain up ${times.plainUpload[i]?.toFixed(2)} s, down ${times.plainDownload[i]?.toFixed(2)} s`,
      );
    }
    const mbps = (seconds: number[]) => round(sizeMb / median(seconds), 1);
    const result = {
      kind: "artifacts",
      time: new Date().toISOString(),
      machine: describeMachine(),
      loadAverage: { before: loadBefore, after: loadAverage() },
      sizeMb,
      rounds,
      medianSeconds: {
        sdkUpload: round(median(times.sdkUpload), 2),
        sdkDownload: round(median(times.sdkDownload), 2),
        plainUpload: round(median(times.plainUpload), 2),
        plainDownload: round(median(times.plainDownload), 2),
      },
      mbPerSecond: {
        sdkUpload: mbps(times.sdkUpload),
        sdkDownload: mbps(times.sdkDownload),
        plainUpload: mbps(times.plainUpload),
        plainDownload: mbps(times.plainDownload),
      },
      sdkOverPlain: {
        upload: round(median(times.plainUpload) / median(times.sdkUpload), 2),
        download: round(median(times.plainDownload) / median(times.sdkDownload), 2),
      },
      samples: times,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    log(
      `bench         ${sizeMb} MB: SDK upload ${result.mbPerSecond.sdkUpload} MB/s, download ${result.mbPerSecond.sdkDownload} MB/s; plain boto3 upload ${result.mbPerSecond.plainUpload} MB/s, download ${result.mbPerSecond.plainDownload} MB/s (SDK/plain ${result.sdkOverPlain.upload}, ${result.sdkOverPlain.download}); ${out}`,
    );
  } finally {
    await stack.stop();
    for (const d of [dataDir, work, uiDirectory]) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:artifacts: ${e.message}\n`);
  process.exit(1);
});
