import {
  modPow,
  padHex,
  passwordVerifierResponses,
  srpClient,
  srpTimestamp,
  SRP_G,
  SRP_N,
} from "../../../scripts/lib/cognito-srp";
import { POOL_ID, srpServer as server, USER_ID } from "../support/srp-server";

// The client's side of Cognito's SRP against a server computed from SRP-6a's own equations
// (test/scripts/support/srp-server.ts, written apart from the client's code).

describe("Cognito SRP, the client's side", () => {
  test.each([["correct horse battery staple"], ["pässwörd with ünïcode and :colons:"]])(
    "the claim for the right password (%s) is the one the server computes; a wrong password's is not",
    (password) => {
      // Prepare
      const s = server(password);
      const client = srpClient();
      const now = new Date("2026-03-03T09:05:07Z");
      // Act
      const right = passwordVerifierResponses(POOL_ID, password, client, s.challenge, now);
      const wrong = passwordVerifierResponses(POOL_ID, `${password}!`, client, s.challenge, now);
      // Assess
      expect(right).toEqual({
        USERNAME: USER_ID,
        PASSWORD_CLAIM_SECRET_BLOCK: s.challenge.SECRET_BLOCK,
        PASSWORD_CLAIM_SIGNATURE: s.expectedSignature(client.A, "Tue Mar 3 09:05:07 UTC 2026"),
        TIMESTAMP: "Tue Mar 3 09:05:07 UTC 2026",
      });
      expect(wrong.PASSWORD_CLAIM_SIGNATURE).not.toBe(right.PASSWORD_CLAIM_SIGNATURE);
    },
  );

  test("A is g^a mod N for a fresh a each time, never 0", () => {
    // Act
    const one = srpClient();
    const two = srpClient();
    // Assess
    expect(one.A).toBe(modPow(SRP_G, one.a, SRP_N));
    expect(one.a).not.toBe(two.a);
    // An a of 0 (a broken random source) is drawn again.
    const draws = [Buffer.alloc(128), Buffer.alloc(128, 7)];
    expect(srpClient(() => draws.shift() as Buffer).a).toBe(BigInt(`0x${"07".repeat(128)}`) % SRP_N);
  });

  test("a server B of 0 mod N is refused (it would fix the shared secret)", () => {
    // Act / Assess
    expect(() =>
      passwordVerifierResponses(POOL_ID, "p", srpClient(), {
        USER_ID_FOR_SRP: USER_ID,
        SRP_B: SRP_N.toString(16),
        SALT: "01",
        SECRET_BLOCK: "",
      }),
    ).toThrow("the user pool sent an SRP_B of 0 mod N");
  });

  test("padHex and the timestamp are written as Cognito reads them", () => {
    // Act / Assess
    expect([padHex(0xfn), padHex(0x7fn), padHex(0x80n), padHex(0x1234n)]).toEqual(["0f", "7f", "0080", "1234"]);
    expect(srpTimestamp(new Date("2026-12-25T23:04:00Z"))).toBe("Fri Dec 25 23:04:00 UTC 2026");
  });
});
