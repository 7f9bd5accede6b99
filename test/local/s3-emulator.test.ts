import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  LOCAL_ARTIFACT_BUCKET,
  localArtifactsDestination,
  moveFileArtifacts,
  RunningS3,
  s3ClientEnv,
  s3Directory,
  startS3Emulator,
} from "../../local/s3-emulator";
import { ensureMlflowVenv } from "../../project/mlflow-venv";
import { runPython } from "../support/python";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), "mlflow-gate-s3-"));
  dirs.push(d);
  return d;
};

describe("where the local stack keeps artifacts", () => {
  test("MLflow's destination is the bucket and prefix of the deployed stack", () => {
    expect(localArtifactsDestination()).toBe(`s3://${LOCAL_ARTIFACT_BUCKET}/artifacts`);
  });

  test("MLflow's S3 client gets the emulator and the local key pair; the user's own AWS identity never reaches it", () => {
    const env = s3ClientEnv(
      {
        PATH: "/bin",
        AWS_PROFILE: "prod",
        AWS_SESSION_TOKEN: "token",
        AWS_ACCESS_KEY_ID: "AKIAREAL",
        AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/x",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/creds",
      },
      { url: new URL("http://127.0.0.1:4566"), region: "eu-west-1" },
    );
    expect(env).toEqual({
      PATH: "/bin",
      MLFLOW_S3_ENDPOINT_URL: "http://127.0.0.1:4566",
      AWS_ACCESS_KEY_ID: "mlflow-gate-local",
      AWS_SECRET_ACCESS_KEY: "mlflow-gate-local",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_REGION: "eu-west-1",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  });
});

describe("moveFileArtifacts: artifacts of a stack before the S3 emulator move into the bucket's files", () => {
  test("they are renamed to the same keys under the prefix; nothing is copied or lost", () => {
    const data = newDir();
    mkdirSync(join(data, "mlflow", "artifacts", "1", "run", "artifacts"), { recursive: true });
    writeFileSync(join(data, "mlflow", "artifacts", "1", "run", "artifacts", "a.txt"), "kept");

    expect(moveFileArtifacts(data)).toBe(true);

    expect(
      readFileSync(
        join(s3Directory(data), LOCAL_ARTIFACT_BUCKET, "artifacts", "1", "run", "artifacts", "a.txt"),
        "utf8",
      ),
    ).toBe("kept");
    expect(existsSync(join(data, "mlflow", "artifacts"))).toBe(false);
    expect(moveFileArtifacts(data)).toBe(false);
  });

  test("when both places hold files it refuses, naming both, and moves nothing", () => {
    const data = newDir();
    mkdirSync(join(data, "mlflow", "artifacts", "1"), { recursive: true });
    writeFileSync(join(data, "mlflow", "artifacts", "1", "old.txt"), "old");
    mkdirSync(join(s3Directory(data), LOCAL_ARTIFACT_BUCKET, "artifacts"), { recursive: true });

    expect(() => moveFileArtifacts(data)).toThrow(
      /both .*mlflow\/artifacts .* and .*s3\/mlflow-gate-artifacts\/artifacts .*exist/,
    );
    expect(readFileSync(join(data, "mlflow", "artifacts", "1", "old.txt"), "utf8")).toBe("old");
  });

  test("an empty folder of an older stack is just removed", () => {
    const data = newDir();
    mkdirSync(join(data, "mlflow", "artifacts"), { recursive: true });
    expect(moveFileArtifacts(data)).toBe(false);
    expect(existsSync(join(data, "mlflow", "artifacts"))).toBe(false);
  });
});

/** S3 calls with boto3 against the emulator; prints one JSON line of results. */
const BOTO = `
import boto3, json, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
b = sys.argv[2]
op = sys.argv[3]
if op == "write":
    s3.put_object(Bucket=b, Key="artifacts/1/r/artifacts/small.txt", Body=b"small")
    s3.put_object(Bucket=b, Key="artifacts/1/r/artifacts/gone.txt", Body=b"gone")
    part = os.urandom(5 * 1024 * 1024)
    mp = s3.create_multipart_upload(Bucket=b, Key="artifacts/1/r/artifacts/big.bin")
    parts = [{"PartNumber": i, "ETag": s3.upload_part(Bucket=b, Key="artifacts/1/r/artifacts/big.bin", PartNumber=i, UploadId=mp["UploadId"], Body=part if i == 1 else b"tail")["ETag"]} for i in (1, 2)]
    s3.complete_multipart_upload(Bucket=b, Key="artifacts/1/r/artifacts/big.bin", UploadId=mp["UploadId"], MultipartUpload={"Parts": parts})
    s3.delete_object(Bucket=b, Key="artifacts/1/r/artifacts/gone.txt")
    s3.put_object(Bucket=b, Key="artifacts/../escape.txt", Body=b"x")
    print(json.dumps({"big": len(part) + 4}))
elif op == "edge":
    s3.put_object(Bucket=b, Key="d/x", Body=b"dx")
    s3.put_object(Bucket=b, Key="d", Body=b"d")
    s3.put_object(Bucket=b, Key="versioned.txt", Body=b"v")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_object(Bucket=b, Key="versioned.txt")
    s3.put_object(Bucket=b, Key="artifacts/1/r/artifacts/small.txt", Body=b"small")
    print(json.dumps({"ok": True}))
else:
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])}
    small = s3.get_object(Bucket=b, Key="artifacts/1/r/artifacts/small.txt")["Body"].read().decode()
    print(json.dumps({"keys": keys, "small": small}))
`;

describe("the S3 emulator (moto's server) keeps its bucket as files across restarts", () => {
  let s3: RunningS3 | undefined;
  afterEach(async () => {
    await s3?.stop();
    s3 = undefined;
  });
  beforeAll(() => ensureMlflowVenv(() => undefined), 300_000);

  const start = (dataDir: string, log: (l: string) => void = () => undefined) =>
    startS3Emulator({
      dataDir,
      host: "127.0.0.1",
      port: 0,
      portVariable: "MLFLOW_GATE_S3_PORT",
      region: "us-east-1",
      log,
    });
  const boto = async (op: "write" | "read" | "edge") => {
    const r = await runPython(["-c", BOTO, (s3 as RunningS3).url.origin, LOCAL_ARTIFACT_BUCKET, op], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PYTHONWARNINGS: "ignore",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    if (r.code !== 0) throw new Error(r.stderr.slice(-2000));
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  test("puts, a multipart upload and a delete are on disk when S3 answers; a restart serves them again", async () => {
    const data = newDir();
    const lines: string[] = [];
    s3 = await start(data, (l) => lines.push(l));
    const written = await boto("write");
    const files = join(s3Directory(data), LOCAL_ARTIFACT_BUCKET, "artifacts", "1", "r", "artifacts");
    expect(readFileSync(join(files, "small.txt"), "utf8")).toBe("small");
    expect(statSync(join(files, "big.bin")).size).toBe(written.big);
    expect(existsSync(join(files, "gone.txt"))).toBe(false);
    // A key that is not a plain relative path is served but never written outside the bucket's folder.
    expect(existsSync(join(s3Directory(data), LOCAL_ARTIFACT_BUCKET, "escape.txt"))).toBe(false);
    expect(lines.join("\n")).toMatch(/'artifacts\/\.\.\/escape\.txt' is served but not kept on disk/);
    await s3.stop();

    lines.length = 0;
    s3 = await start(data, (l) => lines.push(l));
    const read = await boto("read");

    expect(read).toEqual({
      keys: { "artifacts/1/r/artifacts/small.txt": 5, "artifacts/1/r/artifacts/big.bin": written.big },
      small: "small",
    });
    expect(lines).toEqual([expect.stringMatching(/^s3 +loaded 2 objects \(5\.0 MB\) from /)]);
  }, 120_000);

  test("an object it cannot keep, a delete marker, a stray file: S3 still answers every write, and later writes are kept", async () => {
    const data = newDir();
    const bucketDir = join(s3Directory(data), LOCAL_ARTIFACT_BUCKET);
    mkdirSync(bucketDir, { recursive: true });
    writeFileSync(join(bucketDir, "we\\ird.txt"), "x");
    const lines: string[] = [];
    s3 = await start(data, (l) => lines.push(l));

    // Every call succeeds (boto3 raises on a 500): `d` cannot be a file beside `d/x`, the delete leaves a marker.
    await expect(boto("edge")).resolves.toEqual({ ok: true });

    expect(readFileSync(join(bucketDir, "artifacts", "1", "r", "artifacts", "small.txt"), "utf8")).toBe("small");
    expect(existsSync(join(bucketDir, "versioned.txt"))).toBe(false);
    expect(readdirSync(bucketDir).filter((f) => f.startsWith(".s3-emulator-tmp-"))).toEqual([]);
    expect(lines.filter((l) => /cannot keep object 'd'/.test(l))).toHaveLength(1);
    expect(lines.join("\n")).toMatch(/we\\\\ird\.txt' is not loaded/);
  }, 120_000);

  test("a port in use is a clear error naming the variable", async () => {
    const data = newDir();
    s3 = await start(data);
    const taken = Number(s3.url.port);
    await expect(
      startS3Emulator({
        dataDir: newDir(),
        host: "127.0.0.1",
        port: taken,
        portVariable: "MLFLOW_GATE_S3_PORT",
        region: "us-east-1",
      }),
    ).rejects.toThrow(`port ${taken} on 127.0.0.1 is in use: set MLFLOW_GATE_S3_PORT to another port`);
  }, 60_000);
});
