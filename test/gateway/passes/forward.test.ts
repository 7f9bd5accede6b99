import { IncomingMessage } from "http";
import { loadPolicySet } from "../../../authorizer/load-policies";
import { compileApiModel, HttpProxyIntegration } from "../../../gateway/api-model";
import { buildUpstreamHeaders, ForwardedRequest } from "../../../gateway/passes/forward";
import { readTarget, Target } from "../../../gateway/passes/target";
import { CATALOG_FILE, GROUPS_DIR } from "../../../project/paths";
import { testApi } from "../support/test-gateway";

// What MLflow receives from the gateway (the proxying itself runs against real servers in server.test.ts).

const UPSTREAM = new URL("http://127.0.0.1:5000");
const api = compileApiModel(testApi(loadPolicySet(CATALOG_FILE, GROUPS_DIR), UPSTREAM));
/** The integration of a method of the definition. */
const integrationOf = (method: string, path: string): HttpProxyIntegration =>
  api.resolve(method, path)?.method.integration as HttpProxyIntegration;

function clientRequest(rawHeaders: string[]): Pick<IncomingMessage, "method" | "headers" | "rawHeaders" | "socket"> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] ??= rawHeaders[i + 1]!;
  const socket = { remoteAddress: "10.1.2.3", localPort: 8080 } as IncomingMessage["socket"];
  return { method: "POST", headers, rawHeaders, socket };
}

const forwarded = (over: Partial<ForwardedRequest> = {}): ForwardedRequest => ({
  target: readTarget("/ajax-api/2.0/mlflow/runs/search?x=1") as Target,
  integration: integrationOf(
    "POST",
    over.identity?.arn !== undefined ? "/api/2.0/mlflow/runs/search" : "/ajax-api/2.0/mlflow/runs/search",
  ),
  pathParameters: { proxy: "search" },
  body: Buffer.from("{}"),
  identity: { principal: "sub-1", username: "alice", groups: ["readers", "model-approvers"] },
  requestId: "req-1",
  extendedRequestId: "AbCdEfGhIjKlMnO=",
  ...over,
});

describe("buildUpstreamHeaders", () => {
  // As API Gateway builds the integration request: hop-by-hop and framing headers stay here; a mapping
  // replaces a client header of exactly its name (Authorization in any spelling, which API Gateway spells
  // canonically); everything else goes on as the client spelled it. The guard refuses the forgeries.
  test("hop-by-hop headers stay here; mappings replace exact names only; the rest goes on as spelled", () => {
    // Prepare
    const req = clientRequest([
      "Content-Type",
      "application/json",
      "authorization",
      "Bearer secret",
      "X-Amz-Date",
      "20250101T000000Z",
      "x-amz-security-token",
      "token",
      "Host",
      "evil.example",
      "Content-Length",
      "999",
      "Transfer-Encoding",
      "chunked",
      "Connection",
      "keep-alive, X-Secret",
      "X-Secret",
      "s",
      "Keep-Alive",
      "timeout=5",
      "Proxy-Authorization",
      "Basic x",
      "Expect",
      "100-continue",
      "X-Forwarded-For",
      "6.6.6.6",
      "X-Forwarded-Host",
      "evil.example",
      "X-Mlflow-Gate-Groups",
      "admins",
      "x-mlflow-gate-principal",
      "root",
    ]);
    // Act
    const headers = buildUpstreamHeaders(req, UPSTREAM, forwarded());
    // Assess
    expect(headers).toEqual([
      ["Content-Type", "application/json"],
      ["X-Amz-Date", "20250101T000000Z"],
      ["x-amz-security-token", "token"],
      ["X-Forwarded-Host", "evil.example"],
      ["X-Mlflow-Gate-Groups", "admins"],
      ["host", "127.0.0.1:5000"],
      ["content-length", "2"],
      ["x-forwarded-for", "6.6.6.6, 10.1.2.3"],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-port", "8080"],
      ["x-mlflow-gate-request-id", "AbCdEfGhIjKlMnO="],
      ["x-mlflow-gate-auth", "cognito"],
      ["x-mlflow-gate-principal", "sub-1"],
      ["x-mlflow-gate-username", "alice"],
      ["x-mlflow-gate-groups", "readers,model-approvers"],
      ["x-mlflow-gate-method", "POST"],
      ["x-mlflow-gate-path", "/ajax-api/2.0/mlflow/runs/search"],
      ["x-mlflow-gate-source-ip", "10.1.2.3"],
      ["Authorization", "-"],
      ["X-Amz-Security-Token", "-"],
    ]);
  });

  test("an IAM caller is mapped by its ARN, as the deployed API maps it", () => {
    // Act
    const headers = buildUpstreamHeaders(
      clientRequest([]),
      UPSTREAM,
      forwarded({
        identity: {
          principal: "mlflow-reader",
          arn: "arn:aws:iam::000000000000:user/mlflow-reader",
          groups: ["readers"],
        },
      }),
    );
    // Assess
    expect(Object.fromEntries(headers)).toMatchObject({
      "x-mlflow-gate-auth": "iam",
      "x-mlflow-gate-principal": "arn:aws:iam::000000000000:user/mlflow-reader",
      "x-mlflow-gate-groups": "(iam)",
    });
  });

  test("a method the definition gives no mappings gets none: no identity headers, credentials as sent", () => {
    // Prepare
    const unmapped = { ...integrationOf("POST", "/ajax-api/2.0/mlflow/runs/search"), headers: [] };
    // Act
    const headers = buildUpstreamHeaders(
      clientRequest([]),
      UPSTREAM,
      forwarded({ identity: undefined, integration: unmapped }),
    );
    // Assess
    expect(headers.filter(([name]) => name.startsWith("x-mlflow-gate-"))).toEqual([]);
    expect(Object.fromEntries(headers)["x-forwarded-for"]).toBe("10.1.2.3");
  });
});

// API Gateway keeps a client's X-Forwarded-For and adds the client's address (requests-ip-rotator's
// README; LocalStack's AWS-validated HTTP_PROXY recording): the emulator does not protect MLflow from it,
// the guard does (test/guard/server.test.ts).
describe("the client's address headers", () => {
  const addressHeaders = (rawHeaders: string[]) =>
    buildUpstreamHeaders(clientRequest(rawHeaders), UPSTREAM, forwarded()).filter(([name]) =>
      /^x-forwarded-|^x-mlflow-gate-source-ip$/i.test(name),
    );

  test("without a client X-Forwarded-For: the client's address alone, and the same address mapped as the source", () => {
    expect(addressHeaders([])).toEqual([
      ["x-forwarded-for", "10.1.2.3"],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-port", "8080"],
      ["x-mlflow-gate-source-ip", "10.1.2.3"],
    ]);
  });

  test("a client's X-Forwarded-For, every copy in any spelling, goes on with the client's address appended", () => {
    // Act
    const headers = addressHeaders([
      "X-Forwarded-For",
      "127.0.0.1",
      "x-forwarded-for",
      "198.51.100.1, 198.51.100.2",
      "X-FORWARDED-FOR",
      " ",
    ]);
    // Assess
    expect(headers.filter(([name]) => name.toLowerCase() === "x-forwarded-for")).toEqual([
      ["x-forwarded-for", "127.0.0.1, 198.51.100.1, 198.51.100.2, 10.1.2.3"],
    ]);
    expect(Object.fromEntries(headers)["x-mlflow-gate-source-ip"]).toBe("10.1.2.3");
  });

  test("a client's X-Forwarded-Proto and X-Forwarded-Port go on as sent, without the emulator's own", () => {
    expect(addressHeaders(["X-Forwarded-Proto", "https", "x-forwarded-port", "443"])).toEqual([
      ["X-Forwarded-Proto", "https"],
      ["x-forwarded-port", "443"],
      ["x-forwarded-for", "10.1.2.3"],
      ["x-mlflow-gate-source-ip", "10.1.2.3"],
    ]);
  });

  test("a dual-stack socket's ::ffff: form is the IPv4 address", () => {
    const req = clientRequest([]);
    const socket = { remoteAddress: "::ffff:203.0.113.9", localPort: 8080 } as IncomingMessage["socket"];
    const headers = Object.fromEntries(buildUpstreamHeaders({ ...req, socket }, UPSTREAM, forwarded()));
    expect(headers["x-forwarded-for"]).toBe("203.0.113.9");
    expect(headers["x-mlflow-gate-source-ip"]).toBe("203.0.113.9");
  });
});
