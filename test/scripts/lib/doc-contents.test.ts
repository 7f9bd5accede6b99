import { anchorOf, anchorsOf, CONTENTS_END, CONTENTS_START, withContents } from "../../../scripts/lib/doc-contents";

describe("anchorOf and anchorsOf", () => {
  test.each([
    ["The Python plugin (mlflow-gate-auth)", "the-python-plugin-mlflow-gate-auth"],
    ["`mlflow-gate sign`", "mlflow-gate-sign"],
    ["The authorizer's answers", "the-authorizers-answers"],
    ['401 `{"message":"Unauthorized"}`', "401-messageunauthorized"],
  ])("%s -> #%s, as GitHub writes it", (heading, anchor) => {
    // Act / Assess
    expect(anchorOf(heading)).toBe(anchor);
  });

  test("repeated headings are numbered; headings in fenced code are not headings", () => {
    // Act
    const anchors = anchorsOf("# T\n## Fix\n### Fix\n```\n## Not\n```\n");
    // Assess
    expect([...anchors]).toEqual(["t", "fix", "fix-1"]);
  });
});

describe("withContents", () => {
  test("writes the sections after the title, replaces a hand-written list, and is stable", () => {
    // Prepare
    const page = "# Page\n\n- [Old](#old)\n\nIntro.\n\n## One\n\ntext\n\n## Two `x`\n";
    // Act
    const once = withContents(page);
    // Assess
    expect(once).toBe(
      `# Page\n\n${CONTENTS_START}\n- [One](#one)\n- [Two x](#two-x)\n${CONTENTS_END}\n\nIntro.\n\n## One\n\ntext\n\n## Two \`x\`\n`,
    );
    expect(withContents(once)).toBe(once);
    expect(withContents(once.replace("## Two `x`", "## Three"))).toContain("- [Three](#three)\n<!-- /contents -->");
  });

  test("a page of one section gets none", () => {
    // Act / Assess
    expect(withContents("# Page\n\n## Only\n")).toBe("# Page\n\n## Only\n");
  });
});
