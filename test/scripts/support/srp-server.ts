// A user pool's side of SRP-6a as Cognito runs it, computed from the protocol's equations apart from the
// client's code (scripts/lib/cognito-srp.ts, of which it shares only modPow and padHex, checked on their own):
// the pool keeps only the verifier v = g^x, sends B = kv + g^b, derives the shared secret as (A * v^u)^b, and
// checks the client's claim. For the SRP tests of `login`.
import { createHash, createHmac, randomBytes } from "crypto";
import { modPow, padHex, SRP_G, SRP_K, SRP_N } from "../../../scripts/lib/cognito-srp";

export const POOL_ID = "eu-west-1_AbCdEf123";
export const USER_ID = "6f1e3a52-1b8f-4f8e-9d7a-2f1c0e9b7a11";

const sha = (data: Buffer): Buffer => createHash("sha256").update(data).digest();
const hexNum = (b: Buffer): bigint => BigInt(`0x${b.toString("hex")}`);
const bytesOf = (n: bigint): Buffer => Buffer.from(padHex(n), "hex");

/** What a user pool holds for the user, and how it checks a PASSWORD_VERIFIER answer. */
export function srpServer(password: string) {
  const salt = randomBytes(16);
  const inner = sha(Buffer.from(`AbCdEf123${USER_ID}:${password}`, "utf8"));
  const x = hexNum(sha(Buffer.concat([bytesOf(hexNum(salt)), inner])));
  const v = modPow(SRP_G, x, SRP_N);
  const b = hexNum(randomBytes(64));
  const B = (SRP_K * v + modPow(SRP_G, b, SRP_N)) % SRP_N;
  const secretBlock = randomBytes(48).toString("base64");
  return {
    challenge: {
      USER_ID_FOR_SRP: USER_ID,
      SRP_B: B.toString(16),
      SALT: salt.toString("hex"),
      SECRET_BLOCK: secretBlock,
    },
    expectedSignature(A: bigint, timestamp: string): string {
      const u = hexNum(sha(Buffer.concat([bytesOf(A), bytesOf(B)])));
      const S = modPow(A * modPow(v, u, SRP_N), b, SRP_N);
      const prk = createHmac("sha256", bytesOf(u)).update(bytesOf(S)).digest();
      const key = createHmac("sha256", prk).update("Caldera Derived Key\u0001").digest().subarray(0, 16);
      return createHmac("sha256", key)
        .update(
          Buffer.concat([
            Buffer.from("AbCdEf123"),
            Buffer.from(USER_ID),
            Buffer.from(secretBlock, "base64"),
            Buffer.from(timestamp),
          ]),
        )
        .digest("base64");
    },
  };
}
