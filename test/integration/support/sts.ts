// The local STS from boto3 (test/integration/python/sts_ops.py), and requests signed with the temporary keys it
// issues: for the tests of assumed roles (cross-account, and sessions that outlive a policy reload).
import { join } from "path";
import { runPython } from "../../support/python";
import { sdkEnv, TestStackView } from "./stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- boto3's answer, read by path
export type StsResult = { ok: true; value: any } | { ok: false; code: string; message: string; status: number };

export interface TemporaryKeys {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly SessionToken: string;
}

/** One STS call by boto3 as a profile of the stack (assume_role, get_caller_identity, ...). */
export async function stsCall(
  stack: Pick<TestStackView, "summary">,
  profile: string,
  op: string,
  kwargs: Record<string, unknown> = {},
): Promise<StsResult> {
  const r = await runPython(
    [join("test", "integration", "python", "sts_ops.py"), JSON.stringify({ op, kwargs })],
    sdkEnv(stack, profile),
  );
  if (r.code !== 0) throw new Error(`sts_ops.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as StsResult;
}

/** One request to the gateway signed by botocore with the given temporary keys. */
export async function signedWithKeys(
  stack: Pick<TestStackView, "summary">,
  keys: TemporaryKeys,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  const env = {
    ...sdkEnv(stack, "unused"),
    AWS_PROFILE: undefined,
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_REGION: stack.summary.region,
    AWS_ACCESS_KEY_ID: keys.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.SecretAccessKey,
    AWS_SESSION_TOKEN: keys.SessionToken,
  };
  const r = await runPython(
    [
      join("test", "integration", "python", "signed_request.py"),
      method,
      `${stack.summary.gatewayUrl}${path}`,
      ...(body !== undefined ? [body] : []),
    ],
    env,
  );
  if (r.code !== 0) throw new Error(`signed_request.py failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as { status: number; body: string };
}
