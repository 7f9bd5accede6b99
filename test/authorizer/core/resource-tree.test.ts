import { ResourcePathError, ResourceTree } from "../../../authorizer/core/resource-tree";

// API Gateway's matching of request paths to resources, which the emulator and `policy check` share.

function tree(): ResourceTree<string> {
  const t = new ResourceTree<string>();
  t.add("/a/b", "GET", "literal");
  t.add("/a/{id}", "GET", "variable");
  t.add("/a/{id}/c", "POST", "variable-c");
  t.add("/a/{rest+}", "GET", "greedy");
  t.add("/x", "ANY", "any");
  t.add("/", "GET", "root");
  return t;
}

describe("ResourceTree.resolve", () => {
  test.each([
    ["GET", "/a/b", "literal", "/a/b", {}],
    ["GET", "/a/z", "variable", "/a/{id}", { id: "z" }],
    ["POST", "/a/b/c", "variable-c", "/a/{id}/c", { id: "b" }],
    ["GET", "/a/b/d/e", "greedy", "/a/{rest+}", { rest: "b/d/e" }],
    ["DELETE", "/x", "any", "/x", {}],
    ["GET", "/", "root", "/", {}],
  ])("%s %s: %s", (method, path, value, resourcePath, pathParameters) => {
    expect(tree().resolve(method, path)).toEqual({ value, resourcePath, pathParameters });
  });

  test("a literal branch with nothing for the rest of the path gives way to a variable, then to a greedy one", () => {
    // /a/b/c is no literal resource: {id} with /c serves it (POST); GET there has no method, so none
    expect(tree().resolve("POST", "/a/b/c")?.value).toBe("variable-c");
    expect(tree().resolve("GET", "/a/b/c")).toBeUndefined();
  });

  test("`//` routes as `/`; a greedy value keeps what it spans as it came, its trailing slash too", () => {
    expect(tree().resolve("GET", "//a//b")?.value).toBe("literal");
    expect(tree().resolve("GET", "/a/b/d//e/")?.pathParameters).toEqual({ rest: "b/d//e/" });
  });

  test("no resource, or no method on it: nothing", () => {
    expect(tree().resolve("GET", "/nope")).toBeUndefined();
    expect(tree().resolve("POST", "/a/b")).toBeUndefined();
    expect(tree().resolve("GET", "/a")).toBeUndefined();
  });

  test("refuses what API Gateway cannot hold: a greedy part not last, two variable names under one parent, a method twice", () => {
    const t = new ResourceTree<string>();
    t.add("/a/{id}", "GET", "x");
    expect(() => t.add("/a/{rest+}/b", "GET", "y")).toThrow(ResourcePathError);
    expect(() => t.add("/a/{other}", "GET", "y")).toThrow(/beside \{id\}/);
    expect(() => t.add("/a/{id}", "GET", "y")).toThrow(/defined twice/);
    expect(() => t.add("/a/b{c}", "GET", "y")).toThrow(/not valid/);
  });
});
