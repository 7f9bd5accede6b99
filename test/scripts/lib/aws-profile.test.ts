import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { configuredStsEndpoint, requireProfile, stsEndpointFrom } from "../../../scripts/lib/aws-profile";
import { CliFailure } from "../../../scripts/lib/cli-errors";

let dir: string;
let env: { AWS_SHARED_CREDENTIALS_FILE: string; AWS_CONFIG_FILE: string };
const saved = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-profile-"));
  env = { AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), AWS_CONFIG_FILE: join(dir, "config") };
  writeFileSync(
    env.AWS_SHARED_CREDENTIALS_FILE,
    "[keys]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n",
  );
  writeFileSync(
    env.AWS_CONFIG_FILE,
    "[profile assumed]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = keys\n",
  );
  // The SDK reads the file locations from the process environment, as the CLI does.
  Object.assign(process.env, env);
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

describe("requireProfile", () => {
  test("a profile in the credentials file or in the config file (as [profile name]) is found", async () => {
    // Act / Assess
    await expect(requireProfile("keys", env)).resolves.toBeUndefined();
    await expect(requireProfile("assumed", env)).resolves.toBeUndefined();
  });

  test("a profile in neither is one line naming the profile and both files", async () => {
    // Act
    const missing = requireProfile("nobody", env);
    // Assess
    await expect(missing).rejects.toThrow(CliFailure);
    await expect(requireProfile("nobody", env)).rejects.toThrow(
      `mlflow-gate: profile "nobody" is in neither ${env.AWS_SHARED_CREDENTIALS_FILE} nor ${env.AWS_CONFIG_FILE} (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)`,
    );
  });
});

describe("stsEndpointFrom: the STS endpoint a profile configures, by the SDKs' precedence", () => {
  const config = {
    local: { services: "here", endpoint_url: "http://profile-wide:1" },
    plain: { endpoint_url: "http://profile-wide:1" },
    bare: {},
    "services.here": { "sts.endpoint_url": "http://127.0.0.1:9300", "s3.endpoint_url": "http://s3:1" },
    "services.no-sts": { "s3.endpoint_url": "http://s3:1" },
    "uses-no-sts": { services: "no-sts" },
    dangling: { services: "gone" },
    ignoring: { services: "here", ignore_configured_endpoint_urls: "true" },
  };

  test("the profile's services section wins over its endpoint_url; endpoint_url serves when the section has no sts", () => {
    // Act / Assess
    expect(stsEndpointFrom("local", config, {})).toBe("http://127.0.0.1:9300");
    expect(stsEndpointFrom("plain", config, {})).toBe("http://profile-wide:1");
    expect(stsEndpointFrom("uses-no-sts", config, {})).toBeUndefined();
  });

  test("AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, win over the files", () => {
    // Act / Assess
    expect(
      stsEndpointFrom("local", config, { AWS_ENDPOINT_URL_STS: "http://a:1", AWS_ENDPOINT_URL: "http://b:1" }),
    ).toBe("http://a:1");
    expect(stsEndpointFrom("local", config, { AWS_ENDPOINT_URL: "http://b:1" })).toBe("http://b:1");
  });

  test("ignore_configured_endpoint_urls (in the profile or the environment) and unknown or bare profiles give the SDK's default", () => {
    // Act / Assess
    expect(stsEndpointFrom("ignoring", config, {})).toBeUndefined();
    expect(
      stsEndpointFrom("local", config, { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "TRUE", AWS_ENDPOINT_URL: "x" }),
    ).toBe(undefined);
    expect(stsEndpointFrom("bare", config, {})).toBeUndefined();
    expect(stsEndpointFrom("nobody", config, {})).toBeUndefined();
  });

  test("a services section the file lacks is one line naming both, as the SDK refuses it", () => {
    // Act / Assess
    expect(() => stsEndpointFrom("dangling", config, {})).toThrow(
      'mlflow-gate: profile "dangling" names services section "gone", which the config file does not have',
    );
  });
});

describe("configuredStsEndpoint", () => {
  test("reads the named profile, else AWS_PROFILE, else default, from the shared config file", async () => {
    // Prepare
    writeFileSync(
      env.AWS_CONFIG_FILE,
      "[default]\nendpoint_url = http://default:1\n[profile assumed]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = keys\nservices = local\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:9300\n",
    );
    // Act / Assess
    await expect(configuredStsEndpoint("assumed", {})).resolves.toEqual({ endpoint: "http://127.0.0.1:9300" });
    await expect(
      configuredStsEndpoint(undefined, { AWS_PROFILE: "assumed", AWS_REGION: "eu-west-1" }),
    ).resolves.toEqual({
      endpoint: "http://127.0.0.1:9300",
      region: "eu-west-1",
    });
    await expect(configuredStsEndpoint(undefined, {})).resolves.toEqual({ endpoint: "http://default:1" });
  });
});
