import { readFileSync } from "fs";
import { API_DEFINITION_FILE } from "../../project/paths";
import { renderCommittedApiDefinition } from "../../scripts/generate-api-definition";

describe("policies/api-definition.json", () => {
  test("is up to date with the route catalog and the contract", () => {
    const committed = readFileSync(API_DEFINITION_FILE, "utf8");
    expect(
      committed === renderCommittedApiDefinition()
        ? "up to date"
        : "stale: run `npm run api:generate` and commit policies/api-definition.json",
    ).toBe("up to date");
  });

  test("names the deployment's values only as placeholders", () => {
    const text = readFileSync(API_DEFINITION_FILE, "utf8");
    expect(text).toContain('"connectionId": "${VpcLinkId}"');
    expect(text).toContain('"authorizerUri": "${AuthorizerInvokeUri}"');
    expect(text).not.toMatch(/\d{12}/);
  });
});
