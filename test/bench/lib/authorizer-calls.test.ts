import {
  distinctRouteKeys,
  matchDesign,
  RecordedRequest,
  replayAuthorizerCache,
  replayBothDesigns,
} from "../../../bench/lib/authorizer-calls";

const TTL = 300_000;
const RUNS = "/ajax-api/2.0/mlflow/runs/{proxy+}";
const EXPERIMENTS = "/ajax-api/2.0/mlflow/experiments/{proxy+}";
const at = (atMs: number, method: string, resourcePath: string, token = "t1"): RecordedRequest => ({
  atMs,
  token,
  method,
  resourcePath,
});

describe("replayAuthorizerCache", () => {
  it("keyed by the token: one call per token per TTL, whatever the routes", () => {
    // Prepare
    const stream = [at(0, "GET", EXPERIMENTS), at(10, "POST", RUNS), at(20, "GET", RUNS), at(30, "POST", RUNS, "t2")];
    // Act
    const figures = replayAuthorizerCache(stream, "token", TTL);
    // Assess
    expect(figures).toEqual({ requests: 4, authorizerCalls: 2, hitRate: 0.5 });
  });

  it("keyed by token, verb and resource: one call per distinct (verb, resource) of each token", () => {
    // Prepare
    const stream = [at(0, "GET", EXPERIMENTS), at(10, "POST", RUNS), at(20, "GET", RUNS), at(30, "POST", RUNS)];
    // Act
    const figures = replayAuthorizerCache(stream, "token+verb+resource", TTL);
    // Assess
    expect(figures.authorizerCalls).toBe(3);
    expect(figures.hitRate).toBeCloseTo(0.25);
  });

  it("calls again once the TTL from the call that filled the entry has passed, and never caches with TTL 0", () => {
    // Prepare: out of order on purpose, the replay sorts by time
    const stream = [at(TTL, "GET", RUNS), at(0, "GET", RUNS), at(TTL - 1, "GET", RUNS), at(TTL + 5, "GET", RUNS)];
    // Act / Assess
    expect(replayAuthorizerCache(stream, "token", TTL).authorizerCalls).toBe(2);
    expect(replayAuthorizerCache(stream, "token", 0)).toEqual({ requests: 4, authorizerCalls: 4, hitRate: 0 });
    expect(replayAuthorizerCache([], "token", TTL)).toEqual({ requests: 0, authorizerCalls: 0, hitRate: 0 });
  });
});

describe("distinctRouteKeys", () => {
  it("lists each (verb, resource) once, whichever token sent it", () => {
    expect(distinctRouteKeys([at(0, "GET", RUNS), at(1, "GET", RUNS, "t2"), at(2, "POST", RUNS)])).toEqual([
      `GET ${RUNS}`,
      `POST ${RUNS}`,
    ]);
  });
});

describe("matchDesign", () => {
  const stream = [at(0, "GET", EXPERIMENTS), at(10, "POST", RUNS), at(20, "POST", RUNS)];
  const simulated = replayBothDesigns(stream, TTL);

  it("names the design whose replay gives the measured count", () => {
    expect(matchDesign(1, simulated)).toBe("token");
    expect(matchDesign(2, simulated)).toBe("token+verb+resource");
  });

  it("says either when both designs give the same count", () => {
    expect(matchDesign(1, replayBothDesigns([at(0, "GET", RUNS)], TTL))).toBe("either");
  });

  it("fails loudly, with every number, when the measured count matches neither", () => {
    expect(() => matchDesign(3, simulated)).toThrow(
      "measured 3 authorizer calls, but the replay gives 1 keyed by token and 2 keyed by token+verb+resource",
    );
  });
});
