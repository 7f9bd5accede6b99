import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { StackSummary } from "../../local/stack";
import { GROUPS_DIR } from "../../project/paths";
import { freePortsEnv, startNpm, Started, stopNpm, untilReady } from "./support/npm-start";
import { stsCall, TemporaryKeys } from "./support/sts";

// `npm start` with a group file edited while it runs: a valid edit is in force within 2 s for a session the
// local STS issued before it; a broken edit leaves the decisions as they were and prints lint's file:line; a
// new group file (a group the user pool lacks) needs a restart and says so.

let dataDir: string;
let groupsDir: string;
let stack: Started;
let summary: StackSummary;
let keys: TemporaryKeys;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mlflow-gate-reload-"));
  groupsDir = join(dataDir, "groups");
  cpSync(GROUPS_DIR, groupsDir, { recursive: true });
  stack = startNpm(dataDir, { ...(await freePortsEnv()), MLFLOW_GATE_GROUPS_DIR: groupsDir });
  await untilReady(stack);
  summary = JSON.parse(readFileSync(join(dataDir, "stack.json"), "utf8")) as StackSummary;
  const assumed = await stsCall({ summary }, "data-science", "assume_role", {
    RoleArn: `arn:aws:iam::${summary.sts.accountId}:role/mlflow-reader`,
    RoleSessionName: "before-the-edit",
  });
  if (!assumed.ok) throw new Error(`assume_role failed: ${assumed.code} ${assumed.message}`);
  keys = assumed.value.Credentials as TemporaryKeys;
}, 240_000);
afterAll(async () => {
  await stopNpm(stack);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** POST experiments/create signed with the session's keys, as the reader role: its status. */
async function createExperiment(name: string): Promise<number> {
  const url = new URL(`${summary.gatewayUrl}/api/2.0/mlflow/experiments/create`);
  const body = JSON.stringify({ name });
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: keys.AccessKeyId,
      secretAccessKey: keys.SecretAccessKey,
      sessionToken: keys.SessionToken,
    },
    region: summary.region,
    service: "execute-api",
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/json" },
      body,
    }),
  );
  const res = await fetch(url, { method: "POST", headers: signed.headers, body });
  await res.text();
  return res.status;
}

async function untilStatus(name: string, want: number, timeoutMs: number): Promise<number> {
  const began = Date.now();
  for (let i = 0; ; i++) {
    if ((await createExperiment(`${name}-${i}`)) === want) return Date.now() - began;
    if (Date.now() - began > timeoutMs) return Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `read()` holds `want` (a line npm start writes), or fails after `timeoutMs`. */
async function untilText(read: () => string, want: string | RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const has = () => (typeof want === "string" ? read().includes(want) : want.test(read()));
  while (!has() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (typeof want === "string") expect(read()).toContain(want);
  else expect(read()).toMatch(want);
}

/** Edits a group file for the duration of `body`, then puts it back, whatever happened. */
async function editing(file: string, change: (text: string) => string, body: () => Promise<void>): Promise<void> {
  const original = readFileSync(file, "utf8");
  writeFileSync(file, change(original));
  try {
    await body();
  } finally {
    writeFileSync(file, original);
  }
}

const readersFile = () => join(groupsDir, "readers.yaml");

describe("npm start reloads the group files it decides with", () => {
  test("a broken edit: decisions stay, and npm start prints lint's file:line message", async () => {
    // Prepare
    expect(await createExperiment("broken-before")).toBe(403);
    // Act
    await editing(
      readersFile(),
      (t) => t.replace("allow:", "alow:"),
      async () => {
        // Assess
        await untilText(
          stack.stderr,
          `policies      not reloaded, the running policies stay: the files do not load:\n  ${readersFile()}:2: must have required property 'allow'`,
        );
        expect(await createExperiment("broken-after")).toBe(403);
      },
    );
  }, 60_000);

  test("a valid edit (readers may create experiments) is in force within 2 s, for an STS session of before it", async () => {
    // Prepare
    expect(await createExperiment("valid-before")).toBe(403);
    // Act: CreateExperiment on both mounts (/api/ and /ajax-api/), for readers and the groups that extend it.
    await editing(
      readersFile(),
      (t) => t.replace("allow:\n", "allow:\n  - CreateExperiment\n"),
      async () => {
        const tookMs = await untilStatus("valid-after", 200, 10_000);
        // Assess
        process.stderr.write(`live reload: the edit decided requests after ${tookMs} ms\n`);
        expect(tookMs).toBeLessThanOrEqual(2000);
        expect(stack.stderr()).toMatch(
          /policies {6}reloaded: model-approvers: \+2 routes, -0; readers: \+2 routes, -0; release-managers: \+2 routes, -0\n/,
        );
        // The guard read the files too (its promotion rules and tiers), and the log says what changed.
        await untilText(stack.stdout, /"component":"guard","event":"reloaded"/);
        expect(stack.stdout()).toMatch(
          /"component":"local","event":"policies-reloaded","changes":\["model-approvers: \+2 routes, -0"/,
        );
      },
    );
    // And back: the right goes as it came.
    expect(await untilStatus("valid-undone", 403, 10_000)).toBeLessThanOrEqual(2000);
  }, 60_000);

  test("a new group file needs the user pool's group, principals.json a restart: said so; the running policies stay", async () => {
    // Act
    writeFileSync(join(groupsDir, "auditors.yaml"), "description: Auditors.\nextends: readers\nallow: []\n");
    try {
      // Assess
      await untilText(
        stack.stderr,
        "policies      not reloaded, the running policies stay: the groups changed (+auditors), which the user pool must have: restart npm start to apply it",
      );
      expect(await createExperiment("after-new-group")).toBe(403);
    } finally {
      rmSync(join(groupsDir, "auditors.yaml"));
    }
    const principals = join(dataDir, "principals.json");
    writeFileSync(principals, readFileSync(principals, "utf8"));
    await untilText(stack.stderr, "principals    principals.json changed: restart npm start to apply it");
  }, 60_000);
});
