import { loadPolicySet } from "../../../authorizer/load-policies";
import { createIamAuthorization, logNameOf, SignedRequestParts } from "../../../gateway/passes/authorize-iam";
import { routePass, RoutedRequest } from "../../../gateway/passes/route";
import { readTarget, Target } from "../../../gateway/passes/target";
import { parsePrincipals, principalStore } from "../../../local/principals";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { compileApiModel } from "../../../gateway/api-model";
import { TEST_STAGE, testApi } from "../support/test-gateway";
import { signWithSmithy } from "../support/signers";

// SigV4 requests signed by smithy (no network), against local principals.

const policySet = loadPolicySet(CATALOG_FILE, GROUPS_DIR);
const api = compileApiModel(testApi(policySet, new URL("http://127.0.0.1:5000")));
const STAGE = TEST_STAGE;
const { principals } = parsePrincipals(
  { principals: [{ name: "mlflow-reader", group: "readers" }, { name: "no-group" }] },
  new Set(policySet.groups.keys()),
  "principals.json",
);
const reader = principals.find((p) => p.name === "mlflow-reader")!;
const stranger = principals.find((p) => p.name === "no-group")!;
const now = new Date();
const authorize = createIamAuthorization({
  region: "us-east-1",
  policySet,
  credentials: principalStore(principals),
  stage: STAGE,
  now: () => now,
});

/** A request signed by `keys`, as the gateway's passes hand it over. */
async function signed(
  method: string,
  path: string,
  keys: { accessKeyId: string; secretAccessKey: string } | undefined,
  body = "",
): Promise<[SignedRequestParts, RoutedRequest]> {
  const s = await signWithSmithy(
    { method, path, body, headers: { "content-type": "application/json" } },
    { keys: keys ?? { accessKeyId: "AKIAXXXXXXXXXXXXXXXX", secretAccessKey: "x" }, signedAt: now },
  );
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < s.rawHeaders.length; i += 2) pairs.push([s.rawHeaders[i]!, s.rawHeaders[i + 1]!]);
  // Unsigned: the same request without its Authorization header.
  const kept = keys ? pairs : pairs.filter(([name]) => name.toLowerCase() !== "authorization");
  const rawHeaders = kept.flat();
  const headers = Object.fromEntries(kept.map(([name, value]) => [name.toLowerCase(), value]));
  const target = readTarget(path) as Target;
  const routed = routePass(api, (m, p) => policySet.locate(m, p).route, STAGE, method, target);
  if (!("go" in routed)) throw new Error("expected a route");
  return [{ req: { method, headers, rawHeaders }, target, body: Buffer.from(body) }, routed.go];
}

describe("createIamAuthorization", () => {
  test("a signed request of the role's routes goes on as the caller, named as AWS names it", async () => {
    // Act
    const r = authorize(...(await signed("POST", "/api/2.0/mlflow/runs/search", reader, "{}")));
    // Assess
    expect(r).toEqual({
      go: {
        principal: "mlflow-reader",
        username: "mlflow-reader",
        arn: "arn:aws:iam::000000000000:user/mlflow-reader",
        accessKeyId: reader.accessKeyId,
        groups: ["readers"],
      },
    });
  });

  test("a route the role's policies do not allow: 403, naming the caller", async () => {
    // Act
    const r = authorize(...(await signed("POST", "/api/2.0/mlflow/runs/delete", reader, "{}")));
    // Assess
    expect(r).toMatchObject({
      stop: { answer: { status: 403, errorType: "AccessDeniedException" }, decision: "deny", reason: "not-allowed" },
      identity: { principal: "mlflow-reader", groups: ["readers"] },
    });
  });

  test("no Authorization header: 403 Missing Authentication Token", async () => {
    // Act
    const r = authorize(...(await signed("GET", "/api/2.0/mlflow/experiments/get", undefined)));
    // Assess
    expect(r).toEqual({
      stop: {
        answer: {
          status: 403,
          errorType: "MissingAuthenticationTokenException",
          message: "Missing Authentication Token",
        },
        decision: "deny",
        reason: "no-signature",
      },
    });
  });

  test("a body changed after signing: 403 with SigV4's own reason", async () => {
    // Prepare
    const [parts, routed] = await signed("POST", "/api/2.0/mlflow/runs/search", reader, '{"a":1}');
    // Act
    const r = authorize({ ...parts, body: Buffer.from('{"a":2}') }, routed);
    // Assess
    expect(r).toMatchObject({ stop: { answer: { status: 403 }, decision: "deny" } });
    expect("identity" in r).toBe(false);
  });

  test("a valid key of a principal without a group: 403 principal-without-group", async () => {
    // Act
    const r = authorize(...(await signed("GET", "/api/2.0/mlflow/experiments/get", stranger)));
    // Assess
    expect(r).toMatchObject({ stop: { reason: "principal-without-group" }, identity: { groups: [] } });
  });
});

describe("logNameOf", () => {
  test("a session as assumed-role/<role>/<session>, a user by name, anything else not at all", () => {
    expect(logNameOf("arn:aws:sts::000000000000:assumed-role/mlflow-admin/job-7")).toBe(
      "assumed-role/mlflow-admin/job-7",
    );
    expect(logNameOf("arn:aws:iam::000000000000:user/mlflow-reader")).toBe("mlflow-reader");
    expect(logNameOf("not-an-arn")).toBeUndefined();
  });
});
