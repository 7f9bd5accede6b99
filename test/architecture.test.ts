// The dependency rules of the layout (docs/how-it-works.md, "Layout"), checked on the imports of every source file:
// `import`, `export … from`, `import()`, `require()`, type-only imports included.
import { readdirSync, readFileSync } from "fs";
import { builtinModules } from "module";
import { dirname, join, relative, resolve, sep } from "path";
import * as ts from "typescript";
import { REPO_ROOT } from "../project/paths";

/** Folders that hold no source of ours; every folder whose name starts with "." is skipped too. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "cdk.out"]);
const SOURCE_FILE = /\.(ts|tsx|js|cjs|mjs)$/;

/** Packages the core may import: pure libraries, no I/O. Add one only if it reads no files, network, env or clock. */
const PURE_PACKAGES = ["ajv", "yaml"];

/**
 * Who may import scripts/ (the CLI and developer scripts): scripts/ itself, bin/ (the installed command),
 * the tests of the scripts (test/scripts/, which mirror them), and the shared test helpers in
 * test/support/ (probes.ts reads MLflow's routing answers with the generator's own rule-to-template
 * conversion, rather than a copy of it). No library, server, benchmark or other test may.
 */
const SCRIPT_IMPORTERS = ["scripts/", "bin/", "test/scripts/", "test/support/"];

/**
 * Imports that break a rule today and are being fixed elsewhere, as `importer -> target` (repository
 * paths, target as written without its extension). Each must still occur: a fixed one fails the test
 * until it is removed here.
 */
const KNOWN_EXCEPTIONS: readonly string[] = [];

interface Import {
  /** The importing file, relative to the repository root, with "/" separators. */
  readonly file: string;
  readonly line: number;
  /** The module specifier as written. */
  readonly specifier: string;
  /** For a relative specifier: the module it names, relative to the repository root, extension as written. */
  readonly target?: string;
}

const toPosix = (path: string): string => path.split(sep).join("/");

function listSourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name)) listSourceFiles(join(dir, entry.name), out);
    } else if (SOURCE_FILE.test(entry.name)) {
      out.push(join(dir, entry.name));
    }
  }
  return out;
}

/** The string literal a module is named by, if `node` names one. */
function moduleSpecifierOf(node: ts.Node): ts.StringLiteral | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
    return ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier : undefined;
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
    return ts.isStringLiteral(node.moduleReference.expression) ? node.moduleReference.expression : undefined;
  if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
    const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
    if (isRequire || node.expression.kind === ts.SyntaxKind.ImportKeyword) return node.arguments[0] as ts.StringLiteral;
  }
  return undefined;
}

/** Uses of the environment, the clock, randomness or the network, which the core must be given instead. */
function impureUseOf(node: ts.Node): string | undefined {
  if (ts.isIdentifier(node) && (node.text === "process" || node.text === "fetch")) {
    const parent = node.parent;
    // A property or parameter named like a global is not a use of the global.
    const isName = ts.isPropertyAccessExpression(parent) && parent.name === node;
    const isDeclared = (ts.isPropertyAssignment(parent) || ts.isParameter(parent)) && parent.name === node;
    if (!isName && !isDeclared) return node.text;
  }
  if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    const call = node.expression.getText();
    if (call === "Date.now" || call === "Math.random") return `${call}()`;
  }
  if (ts.isNewExpression(node) && node.expression.getText() === "Date" && (node.arguments?.length ?? 0) === 0)
    return "new Date()";
  return undefined;
}

interface ScannedFile {
  readonly file: string;
  readonly imports: Import[];
  readonly impureUses: { readonly line: number; readonly use: string }[];
}

function scan(absolute: string): ScannedFile {
  const file = toPosix(relative(REPO_ROOT, absolute));
  const source = ts.createSourceFile(absolute, readFileSync(absolute, "utf8"), ts.ScriptTarget.Latest, true);
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const imports: Import[] = [];
  const impureUses: ScannedFile["impureUses"] = [];
  const visit = (node: ts.Node): void => {
    const specifier = moduleSpecifierOf(node);
    if (specifier) {
      const text = specifier.text;
      const target = text.startsWith(".") ? toPosix(relative(REPO_ROOT, resolve(dirname(absolute), text))) : undefined;
      imports.push({ file, line: lineOf(specifier), specifier: text, ...(target !== undefined ? { target } : {}) });
    }
    const use = impureUseOf(node);
    if (use) impureUses.push({ line: lineOf(node), use });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { file, imports, impureUses };
}

const files = listSourceFiles(REPO_ROOT).map(scan);
const allImports = files.flatMap((f) => f.imports);
const isUnder = (path: string, folder: string): boolean => path === folder || path.startsWith(`${folder}/`);
const describeImport = (i: Import): string => `${i.file}:${i.line} imports "${i.specifier}"`;
const exceptionKey = (i: Import): string => `${i.file} -> ${i.target ?? i.specifier}`;
const isKnownException = (i: Import): boolean => KNOWN_EXCEPTIONS.includes(exceptionKey(i));

test("the scan sees the source tree (so no rule below holds only because nothing was read)", () => {
  // Assess
  const names = files.map((f) => f.file);
  for (const known of ["authorizer/core/catalog.ts", "gateway/server.ts", "scripts/cli.ts", "bin/mlflow-gate.js"])
    expect(names).toContain(known);
  expect(names.filter((n) => n.includes("node_modules") || n.startsWith(".venv/"))).toEqual([]);
  expect(allImports.filter((i) => i.file === "bin/mlflow-gate.js").map((i) => i.target)).toContain("scripts/cli.ts");
});

describe("authorizer/core imports no I/O", () => {
  const core = files.filter((f) => isUnder(f.file, "authorizer/core"));

  test("no Node built-in module, and no package but the pure ones", () => {
    // Act
    const violations = core
      .flatMap((f) => f.imports)
      .filter((i) => i.target === undefined)
      .flatMap((i) => {
        const name = i.specifier.startsWith("@") ? i.specifier.split("/", 2).join("/") : i.specifier.split("/")[0]!;
        if (i.specifier.startsWith("node:") || builtinModules.includes(name))
          return [`${describeImport(i)}, a Node built-in: the core does no I/O; its callers read and pass the data`];
        if (!PURE_PACKAGES.includes(name))
          return [`${describeImport(i)}: not a pure package of the core (${PURE_PACKAGES.join(", ")})`];
        return [];
      });
    // Assess
    expect(violations).toEqual([]);
  });

  test("nothing outside authorizer/core but the JSON schemas under policies/", () => {
    // Act
    const violations = core
      .flatMap((f) => f.imports)
      .filter((i) => i.target !== undefined && !isUnder(i.target, "authorizer/core"))
      .filter((i) => !/^policies\/[^/]+\.schema\.json$/.test(i.target as string))
      .map((i) => `${describeImport(i)}, outside the core (${i.target})`);
    // Assess
    expect(violations).toEqual([]);
  });

  test("no environment, network, clock or randomness: the core is deterministic and is given these", () => {
    // Act
    const violations = core.flatMap((f) => f.impureUses.map((u) => `${f.file}:${u.line} uses ${u.use}`));
    // Assess
    expect(violations).toEqual([]);
  });
});

test(`nothing imports from scripts/ but ${SCRIPT_IMPORTERS.join(", ")}`, () => {
  // Act
  const violations = allImports
    .filter((i) => i.target !== undefined && isUnder(i.target, "scripts"))
    .filter((i) => !SCRIPT_IMPORTERS.some((folder) => i.file.startsWith(folder)))
    .map((i) => `${describeImport(i)}: only ${SCRIPT_IMPORTERS.join(", ")} may import scripts/`);
  // Assess
  expect(violations).toEqual([]);
});

test("the emulator (gateway/) and the guard (guard/) never import the local stack (local/)", () => {
  // Act
  const violations = allImports
    .filter((i) => isUnder(i.file, "gateway") || isUnder(i.file, "guard"))
    .filter((i) => i.target !== undefined && isUnder(i.target, "local"))
    .filter((i) => !isKnownException(i))
    .map(
      (i) =>
        `${describeImport(i)}: the emulator stands for API Gateway and the guard runs on AWS too; neither depends on the local stack`,
    );
  // Assess
  expect(violations).toEqual([]);
});

test("every known exception still occurs (remove the ones that were fixed)", () => {
  // Act
  const seen = new Set(allImports.map(exceptionKey));
  // Assess
  expect(KNOWN_EXCEPTIONS.filter((e) => !seen.has(e))).toEqual([]);
});

test("the modules of scripts/ import each other without a cycle", () => {
  // Prepare: the import graph among scripts/, by file.
  const scripts = new Set(files.map((f) => f.file).filter((f) => isUnder(f, "scripts")));
  const fileOf = (target: string): string | undefined =>
    [target, `${target}.ts`, `${target}.js`, `${target}/index.ts`].find((c) => scripts.has(c));
  const edges = new Map<string, string[]>();
  for (const i of allImports.filter((x) => scripts.has(x.file) && x.target !== undefined)) {
    const to = fileOf(i.target as string);
    if (to) edges.set(i.file, [...(edges.get(i.file) ?? []), to]);
  }
  // Act: depth-first; a module met again while still on the path closes a cycle.
  const cycles: string[] = [];
  const done = new Set<string>();
  const walk = (file: string, path: string[]): void => {
    if (path.includes(file)) {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    if (done.has(file)) return;
    for (const next of edges.get(file) ?? []) walk(next, [...path, file]);
    done.add(file);
  };
  for (const file of [...scripts].sort()) walk(file, []);
  // Assess
  expect(cycles).toEqual([]);
});
