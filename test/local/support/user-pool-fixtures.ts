import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { DEMO_USERS } from "../../../local/demo-identities";
import { adminClient, RunningUserPool, startUserPool, UserPoolOptions } from "../../../local/user-pool";

/** The groups and demo users of the default group files. */
export const GROUPS = ["admins", "model-approvers", "readers", "release-managers"] as const;
export { DEMO_USERS };

/** A fresh directory under the OS temp dir; `cleanup` removes every one made. */
export function makeTempDirs(): { make: () => string; cleanup: () => void } {
  const dirs: string[] = [];
  return {
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), "mlflow-gate-user-pool-"));
      dirs.push(dir);
      return join(dir, "cognito");
    },
    cleanup: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Starts a pool on a free port with the default groups and demo users; pools are stopped by `stopAll`. */
export function poolStarter(): {
  start: (options: Partial<UserPoolOptions> & { stateDir: string }) => Promise<RunningUserPool>;
  stopAll: () => Promise<void>;
} {
  const running: RunningUserPool[] = [];
  return {
    start: async (options) => {
      const pool = await startUserPool({ port: 0, groups: GROUPS, demoUsers: DEMO_USERS, ...options });
      running.push(pool);
      return pool;
    },
    stopAll: async () => {
      for (const p of running.splice(0)) await p.stop();
    },
  };
}

/** An SDK client of the pool's front signing with its admin key, to look at what the pool holds. */
export function adminClientOf(
  pool: Pick<RunningUserPool, "endpoint" | "region" | "adminKey">,
): CognitoIdentityProviderClient {
  return adminClient(pool.endpoint, pool.region, pool.adminKey);
}

/** A JWT's header and claims, unverified. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, p] = token.split(".");
  const part = (s: string | undefined) =>
    JSON.parse(Buffer.from(s ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  return { header: part(h), claims: part(p) };
}

/** The error a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}
