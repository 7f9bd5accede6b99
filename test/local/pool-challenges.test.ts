import {
  CHALLENGE_SESSION_MS,
  ChallengeSessions,
  MAX_CHALLENGE_SESSIONS,
  passwordMatches,
} from "../../local/pool-challenges";

describe("ChallengeSessions", () => {
  let now = 1_000_000;
  const sessions = () => new ChallengeSessions(() => now);

  test("a session stands for cognito-local's once, for the user and client it was issued to", () => {
    const s = sessions();
    const token = s.issue("tina", "client", "upstream-1");

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.take(token, "tina", "client")).toBe("upstream-1");
    expect(s.take(token, "tina", "client")).toBeUndefined();
  });

  test.each([
    ["another user", "admin", "client"],
    ["another app client", "tina", "other"],
    ["no user", undefined, "client"],
  ])("taken for %s, it is refused and gone", (_, username, clientId) => {
    const s = sessions();
    const token = s.issue("tina", "client", "upstream-1");

    expect(s.take(token, username, clientId)).toBeUndefined();
    expect(s.take(token, "tina", "client")).toBeUndefined();
  });

  test("a made-up or non-string session is refused", () => {
    const s = sessions();
    s.issue("tina", "client", "upstream-1");
    expect(s.take("anything", "tina", "client")).toBeUndefined();
    expect(s.take(undefined, "tina", "client")).toBeUndefined();
    expect(s.take({ token: 1 }, "tina", "client")).toBeUndefined();
  });

  test("after three minutes it has expired", () => {
    const s = sessions();
    const token = s.issue("tina", "client", "upstream-1");
    now += CHALLENGE_SESSION_MS + 1;
    expect(s.take(token, "tina", "client")).toBeUndefined();
  });

  test("at most MAX_CHALLENGE_SESSIONS are held; the oldest goes first", () => {
    const s = sessions();
    const first = s.issue("u0", "client", "up-0");
    for (let i = 1; i <= MAX_CHALLENGE_SESSIONS; i++) s.issue(`u${i}`, "client", `up-${i}`);
    expect(s.size).toBe(MAX_CHALLENGE_SESSIONS);
    expect(s.take(first, "u0", "client")).toBeUndefined();
  });
});

describe("passwordMatches", () => {
  test.each([
    ["Temp-Passw0rd!", "Temp-Passw0rd!", true],
    ["Temp-Passw0rd!", "Temp-Passw0rd", false],
    ["Temp-Passw0rd!", "", false],
    [undefined, "anything", false],
    ["Temp-Passw0rd!", 42, false],
  ])("stored %j, given %j: %s", (stored, given, ok) => {
    expect(passwordMatches(stored, given)).toBe(ok);
  });
});
