// Cognito's USER_SRP_AUTH for `mlflow-gate login` against a deployed pool, whose app client allows SRP only:
// the password never leaves this machine. SRP-6a over RFC 5054's 3072-bit group with SHA-256, as Cognito
// runs it: the client sends A, Cognito answers B, a salt and a secret block, and the client proves it knows
// the password with an HMAC keyed by the shared secret (HKDF "Caldera Derived Key").
import { createHash, createHmac, randomBytes } from "crypto";

/** RFC 5054's 3072-bit prime, Cognito's N; g = 2. */
export const SRP_N = BigInt(
  "0x" +
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
export const SRP_G = 2n;

/** A number as Cognito hashes it: even-length hex, with a 00 in front when its first bit is set. */
export function padHex(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  else if ("89abcdef".includes(hex[0] as string)) hex = `00${hex}`;
  return hex;
}

const sha256Hex = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");
const hashOfHex = (hex: string): bigint => BigInt(`0x${sha256Hex(Buffer.from(hex, "hex"))}`);

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** k = H(N | g). */
export const SRP_K = hashOfHex(padHex(SRP_N) + padHex(SRP_G));

/** The client's ephemeral pair: a secret `a` and A = g^a mod N (never 0 mod N). */
export interface SrpClient {
  readonly a: bigint;
  readonly A: bigint;
}

export function srpClient(random: (bytes: number) => Buffer = randomBytes): SrpClient {
  for (;;) {
    const a = BigInt(`0x${random(128).toString("hex")}`) % SRP_N;
    const A = modPow(SRP_G, a, SRP_N);
    if (a !== 0n && A % SRP_N !== 0n) return { a, A };
  }
}

/** x = H(salt | H(poolName | userId | ":" | password)). */
export function srpX(poolName: string, userId: string, password: string, salt: bigint): bigint {
  const inner = sha256Hex(Buffer.from(`${poolName}${userId}:${password}`, "utf8")).padStart(64, "0");
  return hashOfHex(padHex(salt) + inner);
}

/** The 16-byte key both sides derive from the shared secret S and the scrambler u (HKDF-SHA256, one block). */
export function srpKey(S: bigint, u: bigint): Buffer {
  const prk = createHmac("sha256", Buffer.from(padHex(u), "hex"))
    .update(Buffer.from(padHex(S), "hex"))
    .digest();
  return createHmac("sha256", prk)
    .update(Buffer.concat([Buffer.from("Caldera Derived Key", "utf8"), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
}

/** Cognito's TIMESTAMP: `Tue Mar 3 09:05:07 UTC 2026` (the day unpadded, the time padded), in UTC. */
export function srpTimestamp(now: Date): string {
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][now.getUTCDay()];
  const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][now.getUTCMonth()];
  const two = (n: number) => String(n).padStart(2, "0");
  return `${day} ${month} ${now.getUTCDate()} ${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} UTC ${now.getUTCFullYear()}`;
}

/** What Cognito's PASSWORD_VERIFIER challenge gives the client. */
export interface PasswordVerifierChallenge {
  readonly USER_ID_FOR_SRP: string;
  readonly SRP_B: string;
  readonly SALT: string;
  readonly SECRET_BLOCK: string;
}

/** The challenge's answer: the proof that the client knows the password, for RespondToAuthChallenge. */
export function passwordVerifierResponses(
  userPoolId: string,
  password: string,
  client: SrpClient,
  challenge: PasswordVerifierChallenge,
  now: Date = new Date(),
): Record<string, string> {
  const poolName = userPoolId.split("_")[1] ?? "";
  const B = BigInt(`0x${challenge.SRP_B}`);
  if (B % SRP_N === 0n) throw new Error("the user pool sent an SRP_B of 0 mod N");
  const u = hashOfHex(padHex(client.A) + padHex(B));
  if (u === 0n) throw new Error("the SRP scrambler u is 0");
  const x = srpX(poolName, challenge.USER_ID_FOR_SRP, password, BigInt(`0x${challenge.SALT}`));
  const S = modPow(B - SRP_K * modPow(SRP_G, x, SRP_N), client.a + u * x, SRP_N);
  const timestamp = srpTimestamp(now);
  const signature = createHmac("sha256", srpKey(S, u))
    .update(
      Buffer.concat([
        Buffer.from(poolName, "utf8"),
        Buffer.from(challenge.USER_ID_FOR_SRP, "utf8"),
        Buffer.from(challenge.SECRET_BLOCK, "base64"),
        Buffer.from(timestamp, "utf8"),
      ]),
    )
    .digest("base64");
  return {
    USERNAME: challenge.USER_ID_FOR_SRP,
    PASSWORD_CLAIM_SECRET_BLOCK: challenge.SECRET_BLOCK,
    PASSWORD_CLAIM_SIGNATURE: signature,
    TIMESTAMP: timestamp,
  };
}
