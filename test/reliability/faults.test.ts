import { USER_POOL_UNAVAILABLE } from "../../local/pool-http";
import { crashUnderLoad, CrashVictim, userPoolOutage } from "./support/faults";
import { ReliabilityStack, startReliabilityStack } from "./support/stack";

// Faults against the real local stack: MLflow crashing under load, then the guard, then the user pool (and with it the
// JWKS endpoint) going away. One stack for both, in this order: the pool does not come back.
// The authorizer cache is off (TTL 0), so every bearer request verifies its token: what keeps a token
// working through the pool outage is the verifier's JWKS cache, not a cached decision.

let rel: ReliabilityStack;
beforeAll(async () => {
  rel = await startReliabilityStack({
    config: { authorizerCacheTtlSeconds: 0 },
    mlflowRestart: { initialDelayMs: 200 },
  });
}, 180_000);
afterAll(async () => rel?.stop(), 60_000);

/** A crash under load: clear 502s only while it lasts, restarted by the stack, nothing accepted lost. */
async function expectCrashRecovered(victim: CrashVictim, privateUrl: () => string): Promise<void> {
  // Act
  const crash = await crashUnderLoad(rel, victim, { killAfterMs: 3000, afterRecoveryMs: 2000, maxMs: 90_000 });
  process.stderr.write(
    `${victim} crash: recovery ${crash.recoveryMs} ms, ${crash.badGateway} x 502, slowest 502 ${crash.slowest502Ms} ms, statuses ${JSON.stringify(crash.load.statuses)}; ` +
      `writes ${crash.writes.acceptedFound}/${crash.writes.accepted} accepted found, ${crash.writes.deniedAbsent}/${crash.writes.denied} denied absent, ${crash.writes.indeterminate} indeterminate\n${crash.restartLog.join("\n")}\n`,
  );

  // Assess: the outage showed as a 502 with the guard's or the gateway's message, and only as that.
  expect(crash.badGateway).toBeGreaterThan(0);
  expect(crash.badGatewayWithMessage).toBe(crash.badGateway);
  expect(crash.otherServerErrors).toBe(0);
  expect(crash.hangs).toBe(0);
  expect(crash.connectionErrors).toBe(0);
  // The supervisor logged the crash and the restart, and requests succeeded again without anyone's help.
  expect(crash.restartLog.some((l) => /exited \(SIGKILL\); restarting on http:\/\/127\.0\.0\.1:\d+ in/.test(l))).toBe(
    true,
  );
  expect(crash.restartLog.some((l) => /restarted on http:\/\/127\.0\.0\.1:\d+ \(ready in \d+ ms\)/.test(l))).toBe(true);
  expect(crash.recoveryMs).toBeDefined();
  // On the same private port the gateway was configured with.
  expect((await fetch(`${privateUrl()}/health`)).status).toBe(200);
  // Nothing accepted was lost and nothing denied slipped in; a write answered 502 may or may not have landed.
  expect(crash.writes.failures).toEqual([]);
  expect(crash.writes.acceptedFound).toBe(crash.writes.accepted);
  expect(crash.writes.deniedAbsent).toBe(crash.writes.denied);
}

test("MLflow killed under load: 502 with a clear message at once (no 500, no hang), restarted by the stack, traffic recovers", async () => {
  await expectCrashRecovered("mlflow", () => rel.stack.summary.mlflowPrivateUrl);
}, 180_000);

test("the guard killed under load: the gateway's clear 502 (no 500, no hang), restarted by the stack, traffic recovers", async () => {
  await expectCrashRecovered("guard", () => rel.stack.summary.guardPrivateUrl);
}, 180_000);

test("user pool and JWKS down: tokens with cached keys keep working, an unknown kid is 401, the login call gets a clear 503", async () => {
  // Act
  const outage = await userPoolOutage(rel);
  process.stderr.write(`pool outage: ${JSON.stringify(outage)}\n`);

  // Assess: known keys need no fetch, even for a token the gateway never saw.
  expect(outage.cachedKeyStatuses).toEqual({ 200: 20 });
  expect(outage.unseenTokenStatuses).toEqual({ 200: 20 });
  // A kid the cache lacks needs the JWKS, which is down: Unauthorized, never a 5xx or an allow.
  expect(outage.unknownKidStatuses).toEqual({ 401: 20 });
  expect(outage.wrongKeyStatuses).toEqual({ 401: 20 });
  // The UI's login call: a Cognito-shaped JSON error that Amplify shows, not a hang or an empty 502.
  expect(outage.login.status).toBe(USER_POOL_UNAVAILABLE.status);
  expect(JSON.parse(outage.login.body)).toEqual({
    __type: USER_POOL_UNAVAILABLE.type,
    message: USER_POOL_UNAVAILABLE.message,
  });
}, 120_000);
