import {
  AdminListGroupsForUserCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListGroupsCommand,
  NotAuthorizedException,
} from "@aws-sdk/client-cognito-identity-provider";
import { JwtInvalidIssuerError } from "aws-jwt-verify/error";
import { readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { createServer, Server } from "net";
import { join } from "path";
import { createTokenVerifier } from "../../authorizer/token";
import { createServer as createHttpServer } from "http";
import {
  adminClient,
  generatePassword,
  parseSavedPool,
  RunningUserPool,
  startUserPool,
  validateUserPoolOptions,
} from "../../local/user-pool";
import {
  adminClientOf,
  decodeJwt,
  DEMO_USERS,
  GROUPS,
  makeTempDirs,
  poolStarter,
  rejectionOf,
} from "./support/user-pool-fixtures";

const dirs = makeTempDirs();
const pools = poolStarter();
afterAll(async () => {
  await pools.stopAll();
  dirs.cleanup();
});

const verifierOf = (pool: RunningUserPool) =>
  createTokenVerifier({ issuer: pool.issuer, jwksUri: pool.jwksUri, clientIds: [pool.clientId] });

describe("startUserPool: first start", () => {
  const logLines: string[] = [];
  let stateDir: string;
  let pool: RunningUserPool;
  beforeAll(async () => {
    stateDir = dirs.make();
    pool = await pools.start({ stateDir, accessTokenValiditySeconds: 120, log: (l) => logLines.push(l) });
  });

  it("creates a pool that only admins can add users to, with a strong password policy", async () => {
    // Act
    const { UserPool } = await adminClientOf(pool).send(new DescribeUserPoolCommand({ UserPoolId: pool.userPoolId }));
    // Assess
    expect(UserPool?.Id).toBe(pool.userPoolId);
    expect(UserPool?.AdminCreateUserConfig?.AllowAdminCreateUserOnly).toBe(true);
    expect(UserPool?.Policies?.PasswordPolicy).toMatchObject({
      MinimumLength: 16,
      RequireUppercase: true,
      RequireLowercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  it("creates an app client without a secret for USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH", async () => {
    // Act
    const { UserPoolClient } = await adminClientOf(pool).send(
      new DescribeUserPoolClientCommand({ UserPoolId: pool.userPoolId, ClientId: pool.clientId }),
    );
    // Assess
    expect(UserPoolClient?.ClientSecret).toBeUndefined();
    expect([...(UserPoolClient?.ExplicitAuthFlows ?? [])].sort()).toEqual([
      "ALLOW_REFRESH_TOKEN_AUTH",
      "ALLOW_USER_PASSWORD_AUTH",
    ]);
  });

  it("creates one group per group name and puts each demo user in its group", async () => {
    // Prepare
    const admin = adminClientOf(pool);
    // Act
    const groups = (await admin.send(new ListGroupsCommand({ UserPoolId: pool.userPoolId }))).Groups?.map(
      (g) => g.GroupName,
    );
    const memberships = await Promise.all(
      DEMO_USERS.map(async (u) =>
        (
          await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: pool.userPoolId, Username: u.username }))
        ).Groups?.map((g) => g.GroupName),
      ),
    );
    // Assess
    expect([...(groups ?? [])].sort()).toEqual([...GROUPS]);
    expect(memberships).toEqual(DEMO_USERS.map((u) => [u.group]));
  });

  it("returns the demo users with distinct strong passwords", () => {
    // Assess
    expect(pool.users.map((u) => [u.username, u.group])).toEqual(DEMO_USERS.map((u) => [u.username, u.group]));
    expect(new Set(pool.users.map((u) => u.password)).size).toBe(DEMO_USERS.length);
    for (const u of pool.users) expect(u.password).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*[^A-Za-z0-9]).{16,}$/);
  });

  it("saves pool id, client id and passwords in pool.json readable by the owner only", () => {
    // Act
    const file = join(stateDir, "pool.json");
    const saved = parseSavedPool(JSON.parse(readFileSync(file, "utf8")));
    // Assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(saved).toEqual({
      userPoolId: pool.userPoolId,
      clientId: pool.clientId,
      passwords: Object.fromEntries(pool.users.map((u) => [u.username, u.password])),
    });
  });

  it.each(DEMO_USERS.map((u) => [u.username, u.group]))(
    "logs %s in with an access token of the client, its group %s and the pool's issuer",
    async (username, group) => {
      // Prepare
      const password = pool.users.find((u) => u.username === username)?.password as string;
      // Act
      const tokens = await pool.login(username, password);
      const verified = await verifierOf(pool).verify(tokens.accessToken);
      // Assess
      expect(decodeJwt(tokens.accessToken).claims).toMatchObject({
        token_use: "access",
        client_id: pool.clientId,
        "cognito:groups": [group],
        iss: pool.issuer,
        username,
      });
      expect(verified.iss).toBe(pool.issuer);
      expect(decodeJwt(tokens.idToken).claims).toMatchObject({ token_use: "id", aud: pool.clientId, iss: pool.issuer });
      expect(tokens.refreshToken).not.toBe("");
    },
  );

  it("serves the signing key of its tokens at jwksUri", async () => {
    // Prepare
    const { accessToken } = await pool.login("reader", pool.users[1]?.password as string);
    // Act
    const res = await fetch(pool.jwksUri);
    const jwks = (await res.json()) as { keys: { kid: string; alg: string; kty: string }[] };
    // Assess
    expect(res.status).toBe(200);
    expect(pool.jwksUri).toBe(`${pool.issuer}/.well-known/jwks.json`);
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeJwt(accessToken).header.kid);
  });

  it("honours accessTokenValiditySeconds in the tokens and in expiresIn", async () => {
    // Act
    const tokens = await pool.login("admin", pool.users[0]?.password as string);
    // Assess
    const access = decodeJwt(tokens.accessToken).claims;
    const id = decodeJwt(tokens.idToken).claims;
    expect((access.exp as number) - (access.iat as number)).toBe(120);
    expect((id.exp as number) - (id.iat as number)).toBe(120);
    expect(tokens.expiresIn).toBe(120);
  });

  it("refreshes with the refresh token of a login", async () => {
    // Prepare
    const { refreshToken } = await pool.login("admin", pool.users[0]?.password as string);
    // Act
    const refreshed = await pool.refresh(refreshToken);
    // Assess
    expect(decodeJwt(refreshed.accessToken).claims).toMatchObject({
      token_use: "access",
      "cognito:groups": ["admins"],
      username: "admin",
    });
    await expect(verifierOf(pool).verify(refreshed.accessToken)).resolves.toBeDefined();
    expect(refreshed.expiresIn).toBe(120);
  });

  it.each([
    ["a wrong password", "admin", "Wrong-password-1234"],
    ["an unknown user", "nobody", "Wrong-password-1234"],
  ])("rejects %s with NotAuthorizedException", async (_, username, password) => {
    // Act
    const error = await rejectionOf(pool.login(username, password));
    // Assess
    expect(error).toBeInstanceOf(NotAuthorizedException);
  });

  it("rejects an unknown refresh token with NotAuthorizedException", async () => {
    // Act
    const error = await rejectionOf(pool.refresh("not-a-refresh-token"));
    // Assess
    expect(error).toBeInstanceOf(NotAuthorizedException);
  });

  it("creates a user in no group, whose access token has no cognito:groups", async () => {
    // Prepare
    const user = await pool.createUser("no-group-user", []);
    // Act
    const { accessToken } = await pool.login(user.username, user.password);
    // Assess
    expect(decodeJwt(accessToken).claims).not.toHaveProperty("cognito:groups");
    await expect(verifierOf(pool).verify(accessToken)).resolves.toMatchObject({ username: "no-group-user" });
  });

  it("creates a user in several groups", async () => {
    // Prepare
    const user = await pool.createUser("two-groups", ["readers", "model-approvers"]);
    // Act
    const { accessToken } = await pool.login(user.username, user.password);
    // Assess
    expect(decodeJwt(accessToken).claims["cognito:groups"]).toEqual(["model-approvers", "readers"]);
  });

  it("never logs a password", () => {
    // Assess
    expect(logLines.length).toBeGreaterThan(0);
    for (const u of pool.users) expect(logLines.join("\n")).not.toContain(u.password);
  });
});

describe("startUserPool: restarts", () => {
  it("keeps pool, client, passwords, issuer and refresh tokens across a restart on the same port", async () => {
    // Prepare
    const stateDir = dirs.make();
    const first = await startUserPool({ stateDir, port: 0, groups: GROUPS, demoUsers: DEMO_USERS });
    const reader = first.users.find((u) => u.username === "reader") as { username: string; password: string };
    const { refreshToken } = await first.login(reader.username, reader.password);
    const port = Number(new URL(first.endpoint).port);
    await first.stop();
    // Act
    const second = await pools.start({ stateDir, port });
    const refreshed = await second.refresh(refreshToken);
    // Assess
    expect([second.userPoolId, second.clientId, second.issuer]).toEqual([
      first.userPoolId,
      first.clientId,
      first.issuer,
    ]);
    expect(second.users).toEqual(first.users);
    expect(decodeJwt(refreshed.accessToken).claims).toMatchObject({ iss: first.issuer, "cognito:groups": ["readers"] });
    await expect(second.login(reader.username, reader.password)).resolves.toBeDefined();
  });

  it("adds groups and demo users that are new in the options, and keeps the old passwords and memberships", async () => {
    // Prepare
    const stateDir = dirs.make();
    const first = await startUserPool({
      stateDir,
      port: 0,
      groups: ["readers"],
      demoUsers: [{ username: "reader", group: "readers" }],
    });
    await first.stop();
    // Act
    const second = await pools.start({
      stateDir,
      groups: ["readers", "auditors"],
      demoUsers: [
        { username: "reader", group: "readers" },
        { username: "auditor", group: "auditors" },
      ],
    });
    // Assess
    expect(second.userPoolId).toBe(first.userPoolId);
    expect(second.users[0]).toEqual(first.users[0]);
    const auditor = second.users[1] as { username: string; password: string };
    expect(
      decodeJwt((await second.login(auditor.username, auditor.password)).accessToken).claims["cognito:groups"],
    ).toEqual(["auditors"]);
    const reader = first.users[0] as { username: string; password: string };
    expect(
      decodeJwt((await second.login(reader.username, reader.password)).accessToken).claims["cognito:groups"],
    ).toEqual(["readers"]);
  });

  it("moves a demo user whose group changed out of its old group", async () => {
    // Prepare
    const stateDir = dirs.make();
    await (
      await startUserPool({ stateDir, port: 0, groups: GROUPS, demoUsers: [{ username: "alice", group: "admins" }] })
    ).stop();
    // Act
    const pool = await pools.start({ stateDir, demoUsers: [{ username: "alice", group: "readers" }] });
    const { accessToken } = await pool.login("alice", pool.users[0]?.password as string);
    // Assess
    expect(decodeJwt(accessToken).claims["cognito:groups"]).toEqual(["readers"]);
  });

  it("changes the access token lifetime of an existing client when the option changes", async () => {
    // Prepare
    const stateDir = dirs.make();
    await (await startUserPool({ stateDir, port: 0, groups: GROUPS, demoUsers: DEMO_USERS })).stop();
    // Act
    const pool = await pools.start({ stateDir, accessTokenValiditySeconds: 30 });
    const { accessToken, expiresIn } = await pool.login("admin", pool.users[0]?.password as string);
    // Assess
    const { exp, iat } = decodeJwt(accessToken).claims as { exp: number; iat: number };
    expect([exp - iat, expiresIn]).toEqual([30, 30]);
  });

  it("creates a new pool with new users when the saved pool is gone from cognito-local's state", async () => {
    // Prepare
    const stateDir = dirs.make();
    const first = await startUserPool({ stateDir, port: 0, groups: GROUPS, demoUsers: DEMO_USERS });
    await first.stop();
    rmSync(join(stateDir, ".cognito", "db", `${first.userPoolId}.json`));
    // Act
    const second = await pools.start({ stateDir });
    // Assess
    expect(second.userPoolId).not.toBe(first.userPoolId);
    expect(second.clientId).not.toBe(first.clientId);
    expect(parseSavedPool(JSON.parse(readFileSync(join(stateDir, "pool.json"), "utf8"))).userPoolId).toBe(
      second.userPoolId,
    );
    const admin = second.users[0] as { username: string; password: string };
    expect(decodeJwt((await second.login(admin.username, admin.password)).accessToken).claims).toMatchObject({
      iss: second.issuer,
      "cognito:groups": ["admins"],
    });
  });

  it("refuses a pool.json it cannot read, naming the file", async () => {
    // Prepare
    const stateDir = dirs.make();
    await (await startUserPool({ stateDir, port: 0, groups: [], demoUsers: [] })).stop();
    writeFileSync(join(stateDir, "pool.json"), '{"userPoolId": 1}');
    // Act
    const error = await rejectionOf(startUserPool({ stateDir, port: 0, groups: [], demoUsers: [] }));
    // Assess
    expect(error.message).toBe(
      `${join(stateDir, "pool.json")} is not a saved user pool (userPoolId is missing); delete it to create a new pool`,
    );
  });
});

describe("startUserPool: ports and isolation", () => {
  it("rejects a port in use with a one-line message", async () => {
    // Prepare
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    // Act
    const error = await rejectionOf(
      startUserPool({ stateDir: dirs.make(), port, groups: GROUPS, demoUsers: DEMO_USERS }),
    );
    await new Promise((resolve) => blocker.close(resolve));
    // Assess
    expect(error.message).toBe(`port ${port} on 127.0.0.1 is in use`);
  });

  it("runs two pools at once on different ports and directories without one accepting the other's users or tokens", async () => {
    // Act
    const [a, b] = await Promise.all([pools.start({ stateDir: dirs.make() }), pools.start({ stateDir: dirs.make() })]);
    const tokenOfA = (await a.login("admin", a.users[0]?.password as string)).accessToken;
    // Assess
    expect(a.endpoint).not.toBe(b.endpoint);
    expect(a.issuer).not.toBe(b.issuer);
    expect(a.users[0]?.password).not.toBe(b.users[0]?.password);
    await expect(b.login("admin", a.users[0]?.password as string)).rejects.toBeInstanceOf(NotAuthorizedException);
    await expect(verifierOf(b).verify(tokenOfA)).rejects.toBeInstanceOf(JwtInvalidIssuerError);
    await expect(verifierOf(a).verify(tokenOfA)).resolves.toBeDefined();
  });

  it("refuses a state directory whose pool is running, and leaves that pool working", async () => {
    // Prepare
    const stateDir = dirs.make();
    const running = await pools.start({ stateDir });
    // Act
    const error = await rejectionOf(startUserPool({ stateDir, port: 0, groups: GROUPS, demoUsers: DEMO_USERS }));
    // Assess
    expect(error.message).toBe(`${stateDir} is the state of a user pool that is running: stop the other stack first`);
    await expect(running.login("admin", running.users[0]?.password as string)).resolves.toHaveProperty("accessToken");
  });

  it("gives tokens Cognito's default lifetime of one hour when none is set", async () => {
    // Prepare
    const pool = await pools.start({ stateDir: dirs.make() });
    // Act
    const { accessToken, expiresIn } = await pool.login("reader", pool.users[1]?.password as string);
    // Assess
    const { exp, iat } = decodeJwt(accessToken).claims as { exp: number; iat: number };
    expect([exp - iat, expiresIn]).toEqual([3600, 3600]);
  });
});

describe("validateUserPoolOptions", () => {
  it("lists every problem at once", () => {
    // Act
    const problems = validateUserPoolOptions({
      stateDir: "/x",
      port: 70000,
      groups: ["readers", "bad group"],
      demoUsers: [
        { username: "a", group: "readers" },
        { username: "a", group: "writers" },
      ],
      accessTokenValiditySeconds: 0,
    });
    // Assess
    expect(problems).toEqual([
      "port must be an integer from 0 to 65535, not 70000",
      'group "bad group" is not a Cognito group name',
      'demo user "a" is listed twice',
      'demo user "a" is in group "writers", which is not one of the groups',
      "accessTokenValiditySeconds must be an integer from 1 to 86400, not 0",
    ]);
  });

  it("makes startUserPool reject before starting anything", async () => {
    // Act
    const error = await rejectionOf(
      startUserPool({ stateDir: dirs.make(), port: 0, groups: [], demoUsers: [{ username: "x", group: "nope" }] }),
    );
    // Assess
    expect(error.message).toBe(
      'invalid user pool options: demo user "x" is in group "nope", which is not one of the groups',
    );
  });
});

describe("generatePassword", () => {
  it("has every character class of the pool's policy, every time", () => {
    // Act
    const passwords = Array.from({ length: 200 }, () => generatePassword());
    // Assess
    for (const p of passwords)
      expect(p).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*[-_.@%+=])[A-Za-z\d\-_.@%+=]{24}$/);
    expect(new Set(passwords).size).toBe(passwords.length);
  });
});

describe("adminClient", () => {
  test("opens a connection per call: no idle socket the pool's front could close under the next call (ECONNRESET)", async () => {
    // Prepare: a server that stands for the front and records the socket of each request
    const sockets = new Set<unknown>();
    const server = createHttpServer((req, res) => {
      sockets.add(req.socket);
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" }).end('{"__type":"X","message":"no"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const client = adminClient(`http://127.0.0.1:${port}`, "us-east-1", {
      accessKeyId: "AKIDLOCAL",
      secretAccessKey: "local",
    });
    try {
      // Act
      for (let i = 0; i < 3; i++)
        await client.send(new ListGroupsCommand({ UserPoolId: "local_x" })).catch(() => undefined);
      // Assess
      expect(sockets.size).toBe(3);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
