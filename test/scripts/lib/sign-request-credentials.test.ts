import { createHash } from "crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { resolveCredentials } from "../../../scripts/lib/sign-request";
import { closeServer } from "../../../common/http-server";
import { SeenRequest, startRecordingUpstream } from "../../support/recording-upstream";

// `sign`'s credential chain with a configured STS endpoint: the endpoint goes to the role assumer alone. An SSO
// profile's token must reach the SSO portal (here a loopback stand-in, AWS_ENDPOINT_URL_SSO), never the STS host.

let dir: string;
let sts: { server: Server; url: URL };
let sso: { server: Server; url: URL };
const stsSeen: SeenRequest[] = [];
const ssoSeen: SeenRequest[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  sts = await startRecordingUpstream(
    (r) => stsSeen.push(r),
    () => ({ status: 400, headers: {}, body: "" }),
  );
  sso = await startRecordingUpstream(
    (r) => ssoSeen.push(r),
    () => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        roleCredentials: {
          accessKeyId: "ASIASSOEXAMPLE00001",
          secretAccessKey: "secret",
          sessionToken: "session",
          expiration: Date.now() + 3_600_000,
        },
      }),
    }),
  );
});
afterAll(async () => {
  await closeServer(sts.server);
  await closeServer(sso.server);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-sso-"));
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

test("an SSO profile with a configured STS endpoint: the SSO token goes to the SSO portal, nothing to the STS host", async () => {
  // Prepare: a profile of AWS IAM Identity Center (legacy keys), its cached token, and STS sent to a loopback host.
  const startUrl = "https://example.awsapps.com/start";
  writeFileSync(
    join(dir, "config"),
    [
      "[profile sso-user]",
      `sso_start_url = ${startUrl}`,
      "sso_region = us-east-1",
      "sso_account_id = 123456789012",
      "sso_role_name = Reader",
      "region = us-east-1",
      "services = local",
      "[services local]",
      "sts =",
      `  endpoint_url = ${sts.url.origin}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "credentials"), "");
  const cache = join(dir, ".aws", "sso", "cache");
  mkdirSync(cache, { recursive: true });
  writeFileSync(
    join(cache, `${createHash("sha1").update(startUrl).digest("hex")}.json`),
    JSON.stringify({
      accessToken: "sso-token",
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      region: "us-east-1",
      startUrl,
    }),
  );
  Object.assign(process.env, {
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    AWS_ENDPOINT_URL_SSO: sso.url.origin,
  });
  // Act
  const credentials = await resolveCredentials("sso-user");
  // Assess
  expect(credentials.accessKeyId).toBe("ASIASSOEXAMPLE00001");
  expect(ssoSeen.map((r) => r.headers["x-amz-sso_bearer_token"])).toEqual(["sso-token"]);
  expect(stsSeen).toEqual([]);
});
