import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { mkdtempSync, rmSync } from "fs";
import { Server } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { createAuthorizer } from "../../authorizer/authorize";
import { decidePath } from "../../authorizer/core/decide-request";
import { PolicySet } from "../../authorizer/core/policy-set";
import { loadGroupFiles, loadRouteCatalog } from "../../authorizer/load-policies";
import { createTokenVerifier } from "../../authorizer/token";
import { parsePrincipals, principalStore } from "../../local/principals";
import { closeServer } from "../../common/http-server";
import { createGatewayServer } from "../../gateway/server";
import { RunningUserPool, startUserPool } from "../../local/user-pool";
import { CATALOG_FILE, EXAMPLE_GROUPS_DIR, GROUPS_DIR, REPO_ROOT } from "../../project/paths";
import { fillTemplate } from "../support/probes";
import { listenOnLoopback } from "../support/loopback";
import { TEST_GATEWAY, testApi } from "../gateway/support/test-gateway";

// Every decision the gateway makes equals `mlflow-gate policy check` (decidePath) for the same
// group, method and path: every catalog route x every group, with real pool tokens and real SigV4, the
// authorizer's cache on (300 s), so each token's answers for one (verb, resource) serve the next requests.
// The gateway's upstream is a closed port, so an allowed request answers 502 and nothing runs
// (admin routes include the assistant, jobs and calls to model providers). Two sets of group files: the
// defaults, and the defaults with the example groups and a user in the five bounded groups (issue 17).

const catalog = loadRouteCatalog(CATALOG_FILE);
const defaults = loadGroupFiles(GROUPS_DIR, REPO_ROOT);
const SETS = [
  { name: "the default groups", files: defaults, together: [] as string[] },
  {
    name: "the default and example groups",
    files: [...defaults, ...loadGroupFiles(EXAMPLE_GROUPS_DIR, REPO_ROOT)],
    together: ["data-scientists", "ml-engineers", "model-approvers", "readers", "release-managers"],
  },
];

describe.each(SETS)("$name: the gateway decides as `mlflow-gate policy check` does", ({ files, together }) => {
  const policySet = PolicySet.fromFiles(catalog, files);
  const groups = [...policySet.groups.keys()].sort();
  /** Who is asked: one user (and one role) per group, and a user in several groups (UI routes only: a role has one group). */
  const members = [...groups.map((g) => [g]), ...(together.length > 0 ? [together] : [])];
  const { principals } = parsePrincipals(
    { principals: groups.map((g) => ({ name: `p-${g}`, group: g })) },
    new Set(groups),
    "principals.json",
  );

  let dir: string;
  let pool: RunningUserPool;
  let gateway: Server;
  let base: URL;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "parity-"));
    pool = await startUserPool({
      stateDir: join(dir, "cognito"),
      port: 0,
      groups,
      demoUsers: groups.map((g) => ({ username: `u-${g}`, group: g })),
    });
    for (const u of pool.users) tokens.set(u.group, (await pool.login(u.username, u.password)).accessToken);
    if (together.length > 0) {
      const user = await pool.createUser("u-together", together);
      tokens.set(together.join("+"), (await pool.login(user.username, user.password)).accessToken);
    }
    gateway = createGatewayServer({
      ...TEST_GATEWAY,
      policySet,
      authorizer: createAuthorizer({
        config: { maxTokenBytes: 8192 },
        policySet,
        verifier: createTokenVerifier({ issuer: pool.issuer, jwksUri: pool.jwksUri, clientIds: [pool.clientId] }),
        logger: { info: () => undefined, error: () => undefined },
      }),
      credentials: principalStore(principals),
      api: testApi(policySet, new URL("http://127.0.0.1:9")),
      log: () => undefined,
    });
    base = await listenOnLoopback(gateway);
  }, 60_000);

  afterAll(async () => {
    if (gateway) await closeServer(gateway);
    await pool?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gatewayAllows(
    member: readonly string[],
    method: string,
    path: string,
  ): Promise<{ allowed: boolean; status: number }> {
    const principal = principals.find((p) => p.group === member[0])!;
    let headers: Record<string, string> = { authorization: `Bearer ${tokens.get(member.join("+"))}` };
    if (/^\/(api|v1|gateway)\//.test(path)) {
      const signer = new SignatureV4({
        service: "execute-api",
        region: "us-east-1",
        credentials: principal,
        sha256: Sha256,
      });
      const signed = await signer.sign(
        new HttpRequest({
          method,
          hostname: base.hostname,
          port: Number(base.port),
          path,
          headers: { host: base.host },
          body: "",
        }),
      );
      headers = signed.headers;
    }
    const res = await fetch(new URL(path, base), { method, headers });
    await res.arrayBuffer();
    // 502: the request passed authorization and went to the (absent) integration.
    return { allowed: res.status === 502, status: res.status };
  }

  test.each(members.map((m) => [m.join(" + "), m]))(
    "%s: every route of the catalog",
    async (_name, member) => {
      const differ: string[] = [];
      let allowed = 0;
      for (const route of policySet.catalog.routes) {
        const path = fillTemplate(route.path, "sample", "a/b");
        // Public routes are not the API's (Amplify serves the UI; MLflow's health and version stay private).
        if (route.auth === "none") {
          const got = await fetch(new URL(path, base));
          if (
            got.status !== 403 ||
            ((await got.json()) as { message?: string }).message !== "Missing Authentication Token"
          )
            differ.push(
              `${route.method} ${path}: gateway ${got.status}, not the API's: expected Missing Authentication Token`,
            );
          continue;
        }
        // A role carries one group: a user in several is asked on the UI's routes only.
        if (member.length > 1 && route.auth !== "cognito") continue;
        const expected = decidePath(policySet, member, route.method, path).decision === "allow";
        const got = await gatewayAllows(member, route.method, path);
        if (got.allowed !== expected)
          differ.push(`${route.method} ${path}: gateway ${got.status}, policy check ${expected ? "ALLOW" : "DENY"}`);
        if (got.allowed) allowed++;
        if (!got.allowed && ![401, 403].includes(got.status))
          differ.push(`${route.method} ${path}: denied with ${got.status}, not 401/403`);
      }
      expect(differ).toEqual([]);
      // The comparison is not vacuous: some routes are allowed, and every group but admins is denied some.
      expect(allowed).toBeGreaterThan(0);
      if (!member.includes("admins")) expect(allowed).toBeLessThan(policySet.catalog.routes.length);
    },
    120_000,
  );

  test.each(members.map((m) => [m.join(" + "), m]))("%s: routes the catalog does not list", async (_name, member) => {
    for (const [method, path] of [
      ["GET", "/ajax-api/2.0/mlflow/experiments/brand-new"],
      ["POST", "/api/2.0/mlflow/runs/brand-new"],
      ["DELETE", "/ajax-api/9.0/anything"],
    ] as const) {
      if (member.length > 1 && path.startsWith("/api/")) continue;
      const expected = decidePath(policySet, member, method, path).decision === "allow";
      expect([method, path, (await gatewayAllows(member, method, path)).allowed]).toEqual([method, path, expected]);
    }
  });
});
