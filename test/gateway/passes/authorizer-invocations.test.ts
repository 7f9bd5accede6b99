import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { watchAuthorizer } from "../../../gateway/passes/authorizer-invocations";

const eventOf = (requestId: string) => ({ requestContext: { requestId } }) as APIGatewayRequestAuthorizerEvent;
const allow: APIGatewayAuthorizerResult = {
  principalId: "p",
  policyDocument: { Version: "2012-10-17", Statement: [] },
};
const caller = { go: { principal: "p", groups: [] } };

describe("watchAuthorizer", () => {
  it("reports an invocation under its request id once, with status 200 and an invocation id", async () => {
    // Prepare
    const watched = watchAuthorizer(async () => allow);
    // Act
    await watched.authorizer(eventOf("r1"));
    const first = watched.take("r1", caller);
    const again = watched.take("r1", caller);
    // Assess
    expect(first).toEqual({ cached: false, status: 200, latencyMs: expect.any(Number), requestId: expect.any(String) });
    expect(again).toEqual({ cached: true, status: 200, latencyMs: 0 });
  });

  it("reports a thrown Unauthorized as 401 and any other failure as 500", async () => {
    // Prepare
    const watched = watchAuthorizer(async (e) => {
      throw new Error(e.requestContext.requestId === "r1" ? "Unauthorized" : "boom");
    });
    const refused = { stop: { answer: {} as never, decision: "unauthorized" as const } };
    // Act
    await expect(watched.authorizer(eventOf("r1"))).rejects.toThrow("Unauthorized");
    await expect(watched.authorizer(eventOf("r2"))).rejects.toThrow("boom");
    // Assess
    expect(watched.take("r1", refused)?.status).toBe(401);
    expect(watched.take("r2", refused)?.status).toBe(500);
  });

  it("says nothing of a request refused before the authorizer (no caller, no invocation)", () => {
    // Prepare
    const watched = watchAuthorizer(async () => allow);
    // Act / Assess
    expect(watched.take("r3", { stop: { answer: {} as never, decision: "unauthorized" } })).toBeUndefined();
  });
});
