// The local pool's first sign-in with a temporary password (NEW_PASSWORD_REQUIRED), made safe. cognito-local
// answers InitiateAuth with that challenge before it checks the password, and takes any Session in
// RespondToAuthChallenge: anyone who can reach it could set a new password for any user. The front checks the
// temporary password itself, and hands out sessions of its own, each for one user and app client, used once,
// for three minutes (Cognito's session lasts three minutes by default). Pure, but for the clock it is given.
import { randomBytes, timingSafeEqual } from "crypto";

/** How long a challenge session lasts. */
export const CHALLENGE_SESSION_MS = 3 * 60 * 1000;
/** Sessions held at once; past it the oldest goes first (a client flooding sign-ins loses only its own). */
export const MAX_CHALLENGE_SESSIONS = 1000;

interface Held {
  readonly username: string;
  readonly clientId: string;
  /** cognito-local's own session, which never leaves the front. */
  readonly upstream: string;
  readonly expiresAt: number;
}

export class ChallengeSessions {
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session for this user and client, standing for cognito-local's `upstream`. */
  issue(username: string, clientId: string, upstream: string): string {
    this.forgetExpired();
    while (this.held.size >= MAX_CHALLENGE_SESSIONS) this.held.delete(this.held.keys().next().value as string);
    const token = randomBytes(32).toString("base64url");
    this.held.set(token, { username, clientId, upstream, expiresAt: this.now() + CHALLENGE_SESSION_MS });
    return token;
  }

  /** cognito-local's session for `token`, once, if it was issued for this user and client and has not expired. */
  take(token: unknown, username: unknown, clientId: unknown): string | undefined {
    if (typeof token !== "string") return undefined;
    const held = this.held.get(token);
    if (held === undefined) return undefined;
    this.held.delete(token);
    if (held.expiresAt < this.now() || held.username !== username || held.clientId !== clientId) return undefined;
    return held.upstream;
  }

  get size(): number {
    return this.held.size;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [token, held] of this.held) if (held.expiresAt < now) this.held.delete(token);
  }
}

/** Whether `given` is the user's password, in time that does not depend on where they differ. */
export function passwordMatches(stored: string | undefined, given: unknown): boolean {
  if (stored === undefined || typeof given !== "string") return false;
  const a = Buffer.from(stored, "utf8");
  const b = Buffer.from(given, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
