import {
  ResourceNotFoundException,
  UserNotFoundException,
  UsernameExistsException,
} from "@aws-sdk/client-cognito-identity-provider";
import { CliFailure, CliUsageError } from "../../../scripts/lib/cli-errors";
import {
  formatUserTable,
  localStackFile,
  PoolClient,
  PoolTarget,
  resolvePoolTarget,
  UserAdmin,
} from "../../../scripts/lib/user-admin";

const ADMIN_KEY = { accessKeyId: "LOCALPOOLKEY", secretAccessKey: "secret" };
const LOCAL: PoolTarget = {
  kind: "local",
  userPoolId: "local_abc",
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9229",
  stackFile: "/data/stack.json",
  adminKey: ADMIN_KEY,
};
const STACK = {
  region: "us-east-1",
  cognito: { endpoint: "http://127.0.0.1:9229", userPoolId: "local_abc", clientId: "c", adminKey: ADMIN_KEY },
};
const meta = { $metadata: {} };

/**
 * An in-memory stand-in for a Cognito pool that pages every listing two items at a time (cognito-local
 * never pages, so pagination is proven here) and records every call.
 */
class FakePool {
  users = new Map<string, { email?: string; status: string; password?: string }>();
  groups = new Map<string, Set<string>>();
  calls: string[] = [];
  failCreate?: Error;

  constructor(groups: string[], users: Record<string, string[]> = {}) {
    for (const g of groups) this.groups.set(g, new Set());
    for (const [u, gs] of Object.entries(users)) {
      this.users.set(u, { status: "CONFIRMED" });
      for (const g of gs) this.groups.get(g)?.add(u);
    }
  }

  private page<T>(items: T[], token: string | undefined): { items: T[]; next?: string } {
    const start = token === undefined ? 0 : Number(token.replace("t", ""));
    const next = start + 2 < items.length ? `t${start + 2}` : undefined;
    return { items: items.slice(start, start + 2), ...(next ? { next } : {}) };
  }

  private user(name: string) {
    const u = this.users.get(name);
    if (!u) throw new UserNotFoundException({ message: "User does not exist.", ...meta });
    return u;
  }

  private group(name: string) {
    const g = this.groups.get(name);
    if (!g) throw new ResourceNotFoundException({ message: "Group not found.", ...meta });
    return g;
  }

  readonly client: PoolClient = {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read by path
    send: (async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      const name = command.constructor.name.replace(/Command$/, "");
      const i = command.input;
      this.calls.push(`${name}${i.Username ? ` ${i.Username}` : ""}${i.GroupName ? ` ${i.GroupName}` : ""}`);
      switch (name) {
        case "ListGroups": {
          const p = this.page([...this.groups.keys()].sort(), i.NextToken);
          return { Groups: p.items.map((GroupName) => ({ GroupName })), NextToken: p.next };
        }
        case "ListUsers": {
          const p = this.page([...this.users.keys()].sort(), i.PaginationToken);
          return {
            Users: p.items.map((u) => ({
              Username: u,
              UserStatus: this.users.get(u)?.status,
              Enabled: true,
              Attributes: this.users.get(u)?.email ? [{ Name: "email", Value: this.users.get(u)?.email }] : [],
            })),
            PaginationToken: p.next,
          };
        }
        case "ListUsersInGroup": {
          const p = this.page([...this.group(i.GroupName)].sort(), i.NextToken);
          return { Users: p.items.map((Username) => ({ Username })), NextToken: p.next };
        }
        case "AdminListGroupsForUser": {
          this.user(i.Username);
          const mine = [...this.groups]
            .filter(([, m]) => m.has(i.Username))
            .map(([g]) => g)
            .sort();
          const p = this.page(mine, i.NextToken);
          return { Groups: p.items.map((GroupName) => ({ GroupName })), NextToken: p.next };
        }
        case "GetGroup":
          this.group(i.GroupName);
          return { Group: { GroupName: i.GroupName } };
        case "AdminGetUser": {
          const u = this.user(i.Username);
          return { Username: i.Username, UserAttributes: u.email ? [{ Name: "email", Value: u.email }] : [] };
        }
        case "AdminCreateUser":
          if (this.failCreate) throw this.failCreate;
          if (this.users.has(i.Username))
            throw new UsernameExistsException({ message: "User account already exists", ...meta });
          this.users.set(i.Username, {
            status: "FORCE_CHANGE_PASSWORD",
            email: i.UserAttributes?.find((a: { Name: string }) => a.Name === "email")?.Value,
            password: i.TemporaryPassword,
          });
          return { User: { Username: i.Username } };
        case "AdminSetUserPassword":
          this.user(i.Username).password = i.Password;
          this.user(i.Username).status = "CONFIRMED";
          return {};
        case "AdminUpdateUserAttributes":
          this.user(i.Username).email = i.UserAttributes.find((a: { Name: string }) => a.Name === "email")?.Value;
          return {};
        case "AdminAddUserToGroup":
          this.user(i.Username);
          this.group(i.GroupName).add(i.Username);
          return {};
        case "AdminRemoveUserFromGroup":
          this.group(i.GroupName).delete(i.Username);
          return {};
        case "AdminDeleteUser":
          this.user(i.Username);
          this.users.delete(i.Username);
          for (const m of this.groups.values()) m.delete(i.Username);
          return {};
        case "CreateGroup":
          this.groups.set(i.GroupName, new Set());
          return {};
        default:
          throw new Error(`fake pool: ${name} not supported`);
      }
    }) as PoolClient["send"],
  };
}

describe("resolvePoolTarget", () => {
  const noStack = () => undefined;

  test("--user-pool-id names a real pool whose region is the id's prefix", () => {
    // Act / Assess
    expect(resolvePoolTarget({ userPoolId: "eu-west-1_AbC123" }, "/x", noStack)).toEqual({
      kind: "aws",
      userPoolId: "eu-west-1_AbC123",
      region: "eu-west-1",
    });
    expect(
      resolvePoolTarget({ userPoolId: "eu-west-1_AbC123", region: "eu-west-1", profile: "ops" }, "/x", noStack),
    ).toEqual({ kind: "aws", userPoolId: "eu-west-1_AbC123", region: "eu-west-1", profile: "ops" });
  });

  test("without --user-pool-id, the local stack's pool from stack.json", () => {
    // Act / Assess
    expect(resolvePoolTarget({}, "/data/stack.json", () => STACK)).toEqual(LOCAL);
  });

  test.each([
    [{ userPoolId: "AbC123" }, STACK, "is not a Cognito user pool id"],
    [
      { userPoolId: "eu-west-1_AbC123", region: "us-east-1" },
      STACK,
      "does not match the pool id, whose pool lives in eu-west-1",
    ],
    [{ region: "eu-west-1" }, STACK, "--region and --profile apply to a real pool"],
    [{ profile: "ops" }, STACK, "--region and --profile apply to a real pool"],
    [
      {},
      undefined,
      'no user pool: give --user-pool-id for a pool in AWS, or start the local stack ("npm start") so that /data/stack.json exists; a stack started with another MLFLOW_GATE_DATA: set it here too',
    ],
  ])("%j is a usage error (stack.json: %j)", (options, stack, message) => {
    // Act / Assess
    expect(() => resolvePoolTarget(options, "/data/stack.json", () => stack)).toThrow(CliUsageError);
    expect(() => resolvePoolTarget(options, "/data/stack.json", () => stack)).toThrow(message);
  });

  test("a stack.json that is not a summary, or whose pool is not on loopback, is refused", () => {
    // Act / Assess
    expect(() => resolvePoolTarget({}, "/s.json", () => ({ region: "us-east-1" }))).toThrow(CliFailure);
    expect(() =>
      resolvePoolTarget({}, "/s.json", () => ({
        ...STACK,
        cognito: { ...STACK.cognito, endpoint: "https://cognito-idp.us-east-1.amazonaws.com" },
      })),
    ).toThrow("is not a loopback address");
  });

  test("a stack.json without the pool key (written before the pool had one) says to restart the stack", () => {
    // Prepare
    const { adminKey: _key, ...withoutKey } = STACK.cognito;

    // Act / Assess
    expect(() => resolvePoolTarget({}, "/s.json", () => ({ ...STACK, cognito: withoutKey }))).toThrow(
      'no pool key (cognito.adminKey), which the local pool needs for administrator actions; restart the local stack ("npm start") to write one',
    );
  });

  test("the local stack file is $MLFLOW_GATE_DATA/stack.json, default .mlflow-gate", () => {
    // Act / Assess
    expect(localStackFile({}, "/repo")).toBe("/repo/.mlflow-gate/stack.json");
    expect(localStackFile({ MLFLOW_GATE_DATA: "/var/gate" }, "/repo")).toBe("/var/gate/stack.json");
  });
});

describe("UserAdmin on a paging pool", () => {
  test("users list reads every page of users and of each group's members", async () => {
    // Prepare
    const pool = new FakePool(["admins", "model-approvers", "readers"], {
      ann: ["readers"],
      bob: ["readers", "model-approvers"],
      cat: ["admins"],
      dan: [],
      eve: ["readers"],
    });
    // Act
    const rows = await new UserAdmin(pool.client, LOCAL).listUsers();
    // Assess
    expect(rows.map((r) => [r.username, r.groups.join(",")])).toEqual([
      ["ann", "readers"],
      ["bob", "model-approvers,readers"],
      ["cat", "admins"],
      ["dan", ""],
      ["eve", "readers"],
    ]);
    expect(pool.calls.filter((c) => c === "ListUsers")).toHaveLength(3);
    expect(pool.calls.filter((c) => c === "ListUsersInGroup readers")).toHaveLength(2);
  });

  test("a pagination token that comes back again is an error, not an endless loop", async () => {
    // Prepare
    const client: PoolClient = {
      send: (async () => ({ Groups: [{ GroupName: "g" }], NextToken: "same" })) as PoolClient["send"],
    };
    // Act / Assess
    await expect(new UserAdmin(client, LOCAL).listGroupNames()).rejects.toThrow(
      "returned a pagination token that never ends",
    );
  });

  test("add: a new user with a password from stdin is created with invitations suppressed, the password set permanent, then put in the group", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    let created: Record<string, unknown> = {};
    const send = pool.client.send;
    const client: PoolClient = {
      send: ((c: { constructor: { name: string }; input: Record<string, unknown> }) => (
        c.constructor.name === "AdminCreateUserCommand" && (created = c.input),
        send(c as never)
      )) as PoolClient["send"],
    };
    // Act
    const changes = await new UserAdmin(client, LOCAL).addUser({
      username: "ann",
      groups: ["readers"],
      email: "ann@example.com",
      password: { kind: "permanent", read: async () => "Secret-Passw0rd!" },
    });
    // Assess
    expect(changes).toEqual([
      "created user ann <ann@example.com>",
      "password of ann set from stdin (permanent)",
      "added ann to readers",
    ]);
    expect(created).toMatchObject({
      MessageAction: "SUPPRESS",
      UserAttributes: [
        { Name: "email", Value: "ann@example.com" },
        { Name: "email_verified", Value: "true" },
      ],
    });
    expect(created).not.toHaveProperty("DesiredDeliveryMediums");
    expect(pool.users.get("ann")).toMatchObject({ status: "CONFIRMED", password: "Secret-Passw0rd!" });
  });

  test("add with --send-invitation asks Cognito to e-mail it and does not suppress it", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    const inputs: Record<string, unknown>[] = [];
    const client: PoolClient = {
      send: ((c: { input: Record<string, unknown> }) => (
        inputs.push(c.input),
        pool.client.send(c as never)
      )) as PoolClient["send"],
    };
    // Act
    await new UserAdmin(client, LOCAL).addUser({
      username: "ann",
      groups: ["readers"],
      email: "ann@example.com",
      password: { kind: "invitation" },
    });
    // Assess
    const create = inputs.find((i) => "DesiredDeliveryMediums" in i);
    expect(create).toMatchObject({ DesiredDeliveryMediums: ["EMAIL"] });
    expect(create).not.toHaveProperty("MessageAction");
    expect(create).not.toHaveProperty("TemporaryPassword");
  });

  test("add is idempotent: an existing user keeps password and other groups; only what is missing changes", async () => {
    // Prepare
    const pool = new FakePool(["admins", "readers"], { ann: ["admins"] });
    const admin = new UserAdmin(pool.client, LOCAL);
    const read = jest.fn(async () => "unused");
    // Act
    const first = await admin.addUser({ username: "ann", groups: ["readers"], password: { kind: "permanent", read } });
    const second = await admin.addUser({ username: "ann", groups: ["readers"], password: { kind: "none" } });
    // Assess
    expect(first).toEqual([
      "user ann exists",
      "password of ann left unchanged (the user exists)",
      "added ann to readers",
    ]);
    expect(second).toEqual(["user ann exists", "ann is already in readers"]);
    expect(read).not.toHaveBeenCalled();
    expect(await admin.groupsOf("ann")).toEqual(["admins", "readers"]);
  });

  test("add checks every group exists in the pool before creating anything", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    // Act
    const added = new UserAdmin(pool.client, LOCAL).addUser({
      username: "ann",
      groups: ["readers", "auditors"],
      password: { kind: "permanent", read: async () => "x" },
    });
    // Assess
    await expect(added).rejects.toThrow(
      'group "auditors" does not exist in local pool local_abc (http://127.0.0.1:9229): run "mlflow-gate groups sync" first',
    );
    expect(pool.users.size).toBe(0);
  });

  test("a new user without a way to sign in is a usage error, and nothing is created", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    // Act / Assess
    await expect(
      new UserAdmin(pool.client, LOCAL).addUser({ username: "ann", groups: ["readers"], password: { kind: "none" } }),
    ).rejects.toThrow(CliUsageError);
    expect(pool.calls.some((c) => c.startsWith("AdminCreateUser"))).toBe(false);
  });

  test("a temporary password is delivered before the user exists and withdrawn when creating fails", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    pool.failCreate = new Error("throttled");
    const delivered: string[] = [];
    // Act
    const added = new UserAdmin(pool.client, LOCAL).addUser({
      username: "ann",
      groups: ["readers"],
      password: {
        kind: "temporary",
        generate: () => "Temp-Passw0rd-123",
        deliver: (p) => delivered.push(p),
        undeliver: () => delivered.pop(),
      },
    });
    // Assess
    await expect(added).rejects.toThrow("throttled");
    expect(delivered).toEqual([]);
  });

  test("set-groups adds before it removes, so the user is never without a group; no change is said plainly", async () => {
    // Prepare
    const pool = new FakePool(["admins", "model-approvers", "readers"], { ann: ["readers"] });
    const admin = new UserAdmin(pool.client, LOCAL);
    // Act
    const changed = await admin.setGroups("ann", ["model-approvers"]);
    const again = await admin.setGroups("ann", ["model-approvers"]);
    // Assess
    expect(changed).toEqual(["added ann to model-approvers", "removed ann from readers"]);
    expect(pool.calls.filter((c) => /^Admin(Add|Remove)/.test(c))).toEqual([
      "AdminAddUserToGroup ann model-approvers",
      "AdminRemoveUserFromGroup ann readers",
    ]);
    expect(again).toEqual(["ann is already in exactly model-approvers"]);
  });

  test("an unknown user is one clear line naming the user and the pool", async () => {
    // Prepare
    const admin = new UserAdmin(new FakePool(["readers"]).client, {
      kind: "aws",
      userPoolId: "eu-west-1_X1",
      region: "eu-west-1",
    });
    // Act / Assess
    await expect(admin.groupsOf("nobody")).rejects.toThrow('user "nobody" does not exist in pool eu-west-1_X1');
    await expect(admin.setGroups("nobody", ["readers"])).rejects.toThrow(CliFailure);
    // Removing is idempotent: the user is already gone.
    await expect(admin.removeUser("nobody")).resolves.toEqual([
      "nobody does not exist in pool eu-west-1_X1: nothing to remove",
    ]);
  });

  test("groups sync creates missing groups with their description, reports pool groups without a file, deletes nothing", async () => {
    // Prepare
    const pool = new FakePool(["admins", "legacy", "readers"], { old: ["legacy"] });
    const files = [
      { name: "admins", description: "Everything." },
      { name: "readers", description: "Read." },
      { name: "auditors", description: "Read\n  and audit." },
    ];
    const inputs: Record<string, unknown>[] = [];
    const client: PoolClient = {
      send: ((c: { input: Record<string, unknown> }) => (
        inputs.push(c.input),
        pool.client.send(c as never)
      )) as PoolClient["send"],
    };
    // Act
    const sync = await new UserAdmin(client, LOCAL).syncGroups(files);
    // Assess
    expect(sync).toEqual({ created: ["auditors"], unchanged: ["admins", "readers"], withoutFile: ["legacy"] });
    expect(inputs).toContainEqual({
      UserPoolId: "local_abc",
      GroupName: "auditors",
      Description: "mlflow-gate: Read and audit.",
    });
    expect(pool.groups.get("legacy")).toEqual(new Set(["old"]));
  });

  test("groups sync --dry-run reports what it would create and creates nothing", async () => {
    // Prepare
    const pool = new FakePool(["readers"]);
    // Act
    const sync = await new UserAdmin(pool.client, LOCAL).syncGroups(
      [
        { name: "readers", description: "r" },
        { name: "auditors", description: "a" },
      ],
      { dryRun: true },
    );
    // Assess
    expect(sync).toEqual({ created: ["auditors"], unchanged: ["readers"], withoutFile: [] });
    expect([...pool.groups.keys()]).toEqual(["readers"]);
    expect(pool.calls).not.toContainEqual(expect.stringMatching(/^CreateGroup/));
  });

  test("a refused connection to the local pool says to start the local stack", async () => {
    // Prepare
    const client: PoolClient = {
      send: (async () =>
        Promise.reject(
          Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
        )) as PoolClient["send"],
    };
    // Act / Assess
    await expect(new UserAdmin(client, LOCAL).listUsers()).rejects.toThrow(
      'cannot reach the local user pool at http://127.0.0.1:9229 (ECONNREFUSED): is the local stack ("npm start") running?',
    );
  });
});

describe("formatUserTable", () => {
  test("a header and padded columns; - for no groups or e-mail", () => {
    // Act
    const lines = formatUserTable([
      { username: "ann", status: "CONFIRMED", enabled: true, email: "ann@example.com", groups: ["readers"] },
      { username: "bartholomew", status: "FORCE_CHANGE_PASSWORD", enabled: false, email: "", groups: [] },
    ]);
    // Assess
    expect(lines).toEqual([
      "USER         STATUS                 ENABLED  GROUPS   EMAIL",
      "ann          CONFIRMED              yes      readers  ann@example.com",
      "bartholomew  FORCE_CHANGE_PASSWORD  no       -        -",
    ]);
  });
});
