import { AdminCreateUserCommand, AdminAddUserToGroupCommand } from "@aws-sdk/client-cognito-identity-provider";
import { RunningUserPool } from "../../local/user-pool";
import { adminClientOf, decodeJwt, makeTempDirs, poolStarter } from "../local/support/user-pool-fixtures";

// cognito-local answers InitiateAuth with NEW_PASSWORD_REQUIRED before it checks the password, and takes any
// Session in RespondToAuthChallenge: found by the review of issue 13's change, anyone who could reach the pool
// (any local process, unsigned) could set a new password for any user, the admin included. Against a real
// cognito-local behind its front: a made-up session and a wrong temporary password are refused, the admin's
// password still works; a user with a temporary password still completes the first sign-in, once.

const dirs = makeTempDirs();
const pools = poolStarter();
let pool: RunningUserPool;
const TEMPORARY = "Temporary-Passw0rd-9";

beforeAll(async () => {
  pool = await pools.start({ stateDir: dirs.make() });
  const admin = adminClientOf(pool);
  try {
    await admin.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.userPoolId,
        Username: "tina",
        TemporaryPassword: TEMPORARY,
        MessageAction: "SUPPRESS",
      }),
    );
    await admin.send(
      new AdminAddUserToGroupCommand({ UserPoolId: pool.userPoolId, Username: "tina", GroupName: "readers" }),
    );
  } finally {
    admin.destroy();
  }
}, 60_000);
afterAll(async () => {
  await pools.stopAll();
  dirs.cleanup();
});

/** An unsigned Cognito call, as any local process could send it. */
async function call(action: string, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(pool.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const signIn = (username: string, password: string) =>
  call("InitiateAuth", {
    ClientId: pool.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
const newPassword = (username: string, session: unknown, password: string) =>
  call("RespondToAuthChallenge", {
    ClientId: pool.clientId,
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    Session: session,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: password },
  });

test("a made-up session cannot set the admin's password: refused, and the admin's own password still works", async () => {
  const admin = pool.users.find((u) => u.username === "admin")!;

  const takeover = await newPassword("admin", "anything", "Attacker-Chosen-1");
  const own = await signIn("admin", admin.password);
  const attackers = await signIn("admin", "Attacker-Chosen-1");

  expect(takeover).toEqual({
    status: 400,
    json: { __type: "NotAuthorizedException", message: "Invalid session for the user, session is expired." },
  });
  expect(own.status).toBe(200);
  expect(own.json).toHaveProperty("AuthenticationResult.AccessToken");
  expect(attackers.status).toBe(400);
});

test("a wrong temporary password gets no challenge; the right one completes the first sign-in, and its session works once", async () => {
  const wrong = await signIn("tina", "not-the-temporary-one");
  const stolenSession = await newPassword("tina", "anything", "Attacker-Chosen-2");
  const challenge = await signIn("tina", TEMPORARY);
  const otherUser = await newPassword("admin", challenge.json.Session, "Attacker-Chosen-3");
  const challengeAgain = await signIn("tina", TEMPORARY);
  const done = await newPassword("tina", challengeAgain.json.Session, "Tinas-Own-Passw0rd");
  const replay = await newPassword("tina", challengeAgain.json.Session, "Attacker-Chosen-4");
  const after = await signIn("tina", "Tinas-Own-Passw0rd");

  expect(wrong).toEqual({
    status: 400,
    json: { __type: "NotAuthorizedException", message: "Incorrect username or password." },
  });
  expect(stolenSession.status).toBe(400);
  expect(challenge).toMatchObject({ status: 200, json: { ChallengeName: "NEW_PASSWORD_REQUIRED" } });
  // The session was issued for tina: taken for the admin, it is refused and spent.
  expect(otherUser.status).toBe(400);
  expect(done.status).toBe(200);
  expect(replay.status).toBe(400);
  expect(after.status).toBe(200);
  const token = (after.json.AuthenticationResult as { AccessToken: string }).AccessToken;
  expect(decodeJwt(token).claims["cognito:groups"]).toEqual(["readers"]);
});
