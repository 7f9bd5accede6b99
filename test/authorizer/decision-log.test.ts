import { Logger } from "@aws-lambda-powertools/logger";
import { createDecisionLog, xrayTraceIdOf } from "../../authorizer/decision-log";

// The authorizer's log line carries the fields Powertools' Logger wrote before it (issue 19): what CloudWatch
// queries and the docs read must not change.

const TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
const ATTRIBUTES = {
  decision: "deny",
  reason: "not-allowed",
  principal: "a1b2",
  username: "alice",
  groups: ["readers", "team-a-writers"],
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/x"y',
  requestId: undefined,
  error: "",
  extra: null,
};

/** The lines Powertools writes for the same calls, with the same environment, parsed. */
function powertoolsLines(env: NodeJS.ProcessEnv, calls: (log: Logger) => void): Record<string, unknown>[] {
  const saved = { ...process.env };
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((s) =>
    jest.spyOn(s, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    Object.assign(process.env, env);
    calls(new Logger({ serviceName: "mlflow-gate-authorizer" }));
  } finally {
    spies.forEach((s) => s.mockRestore());
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return written
    .join("")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function ourLines(env: NodeJS.ProcessEnv, calls: (log: ReturnType<typeof createDecisionLog>) => void) {
  const written: string[] = [];
  calls(createDecisionLog({ service: "mlflow-gate-authorizer", env, write: (l) => written.push(l) }));
  expect(written.every((l) => l.endsWith("}\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
  return written.map((l) => JSON.parse(l) as Record<string, unknown>);
}

const withoutTimestamp = (lines: Record<string, unknown>[]) => lines.map(({ timestamp: _t, ...rest }) => rest);

describe("createDecisionLog", () => {
  test.each([
    ["no trace id", {}],
    ["a trace id", { _X_AMZN_TRACE_ID: TRACE }],
  ])("writes Powertools' fields and values (%s), empty attributes left out", (_case, env) => {
    // Act
    const calls = (log: { info: Logger["info"]; error: Logger["error"] }) => {
      log.info("authorizer decision", ATTRIBUTES);
      log.error("authorizer decision", { ...ATTRIBUTES, error: "boom" });
    };
    const ours = ourLines(env, calls);
    const theirs = powertoolsLines(env, calls);
    // Assess
    expect(withoutTimestamp(ours)).toEqual(withoutTimestamp(theirs));
    expect(Object.keys(ours[0]!)).toEqual(Object.keys(theirs[0]!));
    for (const line of ours) expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test.each([
    ["POWERTOOLS_LOG_LEVEL=ERROR", { POWERTOOLS_LOG_LEVEL: "ERROR" }, ["ERROR"]],
    ["LOG_LEVEL=warn", { LOG_LEVEL: "warn" }, ["ERROR"]],
    ["Lambda's AWS_LAMBDA_LOG_LEVEL=WARN", { AWS_LAMBDA_LOG_LEVEL: "WARN" }, ["ERROR"]],
    ["Lambda's FATAL", { AWS_LAMBDA_LOG_LEVEL: "FATAL" }, []],
    ["DEBUG", { POWERTOOLS_LOG_LEVEL: "DEBUG" }, ["INFO", "ERROR"]],
    ["an unknown level: the default", { POWERTOOLS_LOG_LEVEL: "LOUD" }, ["INFO", "ERROR"]],
    ["nothing set: INFO", {}, ["INFO", "ERROR"]],
  ])("%s: only the lines at or above the level", (_case, env, levels) => {
    const lines = ourLines(env, (log) => {
      log.info("authorizer decision", { decision: "allow" });
      log.error("authorizer decision", { decision: "deny" });
    });
    expect(lines.map((l) => l.level)).toEqual(levels);
  });

  test("the trace id is read per line: Lambda sets it per invocation", () => {
    const env: NodeJS.ProcessEnv = { _X_AMZN_TRACE_ID: "Root=1-a;Sampled=0" };
    const lines = ourLines(env, (log) => {
      log.info("m", {});
      env._X_AMZN_TRACE_ID = "Root=1-b;Sampled=0";
      log.info("m", {});
    });
    expect(lines.map((l) => l.xray_trace_id)).toEqual(["1-a", "1-b"]);
  });

  test("xrayTraceIdOf", () => {
    expect(xrayTraceIdOf(TRACE)).toBe("1-5759e988-bd862e3fe1be46a994272793");
    expect(xrayTraceIdOf(undefined)).toBeUndefined();
    expect(xrayTraceIdOf("")).toBeUndefined();
  });
});
