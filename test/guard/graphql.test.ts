import { checkGraphqlRequest, DEFAULT_GRAPHQL_LIMITS } from "../../guard/graphql";

// The MLflow UI's run query, as it sends it (shortened): what must always pass.
const UI_QUERY = `query MlflowGetRunQuery($data: MlflowGetRunInput) @component(name: "MLflow.ExperimentRunTracking") {
  mlflowGetRun(input: $data) {
    run { info { runUuid experimentId status } data { metrics { key value step timestamp } params { key value } } }
  }
}`;

const check = (body: Record<string, unknown>, limits = DEFAULT_GRAPHQL_LIMITS) =>
  checkGraphqlRequest(body as never, limits);

describe("checkGraphqlRequest", () => {
  test("the UI's query, with or without variables and an operation name, passes", () => {
    expect(check({ query: UI_QUERY })).toBeUndefined();
    expect(
      check({ query: UI_QUERY, variables: { data: { runId: "r" } }, operationName: "MlflowGetRunQuery" }),
    ).toBeUndefined();
    expect(check({ query: UI_QUERY, variables: null, operationName: null })).toBeUndefined();
  });

  test("a body that is not a GraphQL request (MLflow answers each with a 500)", () => {
    for (const body of [
      {},
      { query: 1 },
      { query: UI_QUERY, variables: [] },
      { query: UI_QUERY, variables: "x" },
      { query: UI_QUERY, operationName: 3 },
    ]) {
      expect(check(body)).toMatchObject({ problem: "graphql-not-a-request" });
    }
  });

  test("a document that does not parse, and says why without echoing the document", () => {
    for (const query of ["{", "", "query {", '{ a(b: "unterminated) }']) {
      const r = check({ query });
      expect(r).toMatchObject({ problem: "graphql-unparsable" });
      expect(r!.message).not.toContain("\n");
    }
  });

  test("too many tokens: stopped by the scan, before the parser", () => {
    const query = `{ ${Array.from({ length: 6000 }, (_, i) => `f${i}`).join(" ")} }`;
    expect(check({ query })).toMatchObject({
      problem: "graphql-too-many-tokens",
      message: "the GraphQL document exceeds 5000 tokens",
    });
    expect(check({ query }, { ...DEFAULT_GRAPHQL_LIMITS, maxTokens: 10_000 })).toBeUndefined();
  });

  test("too deep, by braces, parentheses or brackets, however few tokens; no stack overflow on a very deep one", () => {
    const nested = (n: number) => `${"{ a ".repeat(n)}${"}".repeat(n)}`;
    expect(check({ query: nested(32) })).toBeUndefined();
    expect(check({ query: nested(33) })).toMatchObject({ problem: "graphql-too-deep" });
    expect(check({ query: `{ a(x: ${"[".repeat(40)}${"]".repeat(40)}) }` })).toMatchObject({
      problem: "graphql-too-deep",
    });
    // 100,000 levels: a recursive parser would overflow the stack; the scan stops at level 33.
    expect(check({ query: nested(100_000) }, { ...DEFAULT_GRAPHQL_LIMITS, maxTokens: 10_000_000 })).toMatchObject({
      problem: "graphql-too-deep",
    });
  });
});
