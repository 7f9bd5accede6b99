import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { requireProfile } from "../../../scripts/lib/aws-profile";
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
