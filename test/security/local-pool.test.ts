import {
  AdminAddUserToGroupCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import { join } from "path";
import { adminClient } from "../../local/user-pool";
import { UiConfig } from "../../ui-patch/shell/config";
import { pidsWithCwd, tcpPortsOf } from "../support/proc";
import { demoAccessToken, startTestStack, TestStack } from "../integration/support/stack";

// cognito-local answers administrator actions without credentials and with `Access-Control-Allow-Origin: *`,
// and the sign-in page's pass-through, whose address is in the public /mlflow-gate-ui.json, forwarded every
// action: any web page open in a developer's browser could make the reader an admin. Against the real
// stack: a page's AdminAddUserToGroup, to the published login endpoint and to the pool's own port, is
// refused, cognito-local has no port of its own, and the reader stays a reader.

const EVIL = "http://evil.example";
let t: TestStack;
let loginEndpoint: string;
let admin: CognitoIdentityProviderClient;

beforeAll(async () => {
  t = await startTestStack();
  const c = t.stack.summary.cognito;
  admin = adminClient(c.endpoint, t.stack.summary.region, c.adminKey);
  const config = (await (await fetch(`${t.stack.summary.gatewayUrl}/mlflow-gate-ui.json`)).json()) as UiConfig;
  loginEndpoint = config.userPoolEndpoint as string;
}, 240_000);
afterAll(async () => {
  admin?.destroy();
  await t?.stop();
});

/** What a page's fetch sends: its Origin, Cognito's JSON, the action in X-Amz-Target; no signature. */
const pageCall = (url: string, origin: string, action: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: {
      origin,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-amz-target",
    },
  });

const readerGroups = async () =>
  (
    (
      await admin.send(
        new AdminListGroupsForUserCommand({ UserPoolId: t.stack.summary.cognito.userPoolId, Username: "reader" }),
      )
    ).Groups ?? []
  ).map((g) => g.GroupName);

const promote = () => ({ UserPoolId: t.stack.summary.cognito.userPoolId, Username: "reader", GroupName: "admins" });

test("a foreign page's AdminAddUserToGroup and its preflight, to the published login endpoint and to the pool's port, are refused without CORS", async () => {
  // Prepare
  expect(loginEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const before = await readerGroups();

  // Act
  const answers = [];
  for (const url of [loginEndpoint, t.stack.summary.cognito.endpoint]) {
    answers.push(await pageCall(url, EVIL, "AdminAddUserToGroup", promote()), await preflight(url, EVIL));
    answers.push(await pageCall(url, EVIL, "ListUsers", { UserPoolId: t.stack.summary.cognito.userPoolId }));
  }

  // Assess: refused, and unreadable by the page.
  expect(answers.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403]);
  for (const r of answers) expect(r.headers.get("access-control-allow-origin")).toBeNull();
  expect(before).toEqual(["readers"]);
  expect(await readerGroups()).toEqual(["readers"]);
});

test("even from the gateway's own origin, the login endpoint forwards no administrator action", async () => {
  const r = await pageCall(loginEndpoint, t.stack.summary.gatewayUrl, "AdminAddUserToGroup", promote());

  expect(r.status).toBe(400);
  expect(r.headers.get("x-amzn-errortype")).toBe("NotAuthorizedException");
  expect(await readerGroups()).toEqual(["readers"]);
});

test("a local program without the pool key cannot promote the reader: unsigned, or signed with throwaway credentials", async () => {
  // Act
  const unsigned = await fetch(t.stack.summary.cognito.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "AWSCognitoIdentityProviderService.AdminAddUserToGroup",
    },
    body: JSON.stringify(promote()),
  });
  const throwaway = adminClient(t.stack.summary.cognito.endpoint, t.stack.summary.region, {
    accessKeyId: "local",
    secretAccessKey: "local",
  });
  let thrown: Error | undefined;
  try {
    await throwaway.send(new AdminAddUserToGroupCommand(promote()));
  } catch (e) {
    thrown = e as Error;
  } finally {
    throwaway.destroy();
  }

  // Assess
  expect(unsigned.status).toBe(400);
  expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
  expect(thrown?.name).toBe("UnrecognizedClientException");
  expect(await readerGroups()).toEqual(["readers"]);
  const token = await demoAccessToken(t, "reader");
  const claims = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
  expect(claims["cognito:groups"]).toEqual(["readers"]);
});

test("the gateway's page still signs in through its login endpoint, with CORS for its origin", async () => {
  const user = t.stack.summary.demoUsers.find((u) => u.username === "reader")!;
  const r = await pageCall(loginEndpoint, t.stack.summary.gatewayUrl, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: t.stack.summary.cognito.clientId,
    AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
  });

  expect(r.status).toBe(200);
  expect(r.headers.get("access-control-allow-origin")).toBe(t.stack.summary.gatewayUrl);
  expect(
    ((await r.json()) as { AuthenticationResult?: { AccessToken?: string } }).AuthenticationResult?.AccessToken,
  ).toEqual(expect.any(String));
});

test("cognito-local itself listens on no TCP port: its front is the only way in", () => {
  // Prepare: cognito-local runs with the pool's state directory as its working directory.
  const pids = pidsWithCwd(join(t.config.dataDir, "cognito"));

  // Assess
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) expect(tcpPortsOf(pid)).toEqual([]);
});
