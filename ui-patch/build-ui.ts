// Builds the patched MLflow UI: the prebuilt UI of the pinned wheel, plus the login shell that loads first.
import { build, PluginBuild } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { dirname, join, resolve } from "path";
import { mlflowUiBuildDir } from "../project/mlflow-venv";
import { UI_BUILD_DIR } from "../project/paths";
import { UI_CONFIG_PATH, UiConfig } from "./shell/config";

/** Where the shell's files go, under the URL prefix MLflow's static files already use. */
const SHELL_DIR = join("static-files", "mlflow-gate");
/** The shell's script in a built UI: what tells a patched UI from MLflow's own. */
export const SHELL_SCRIPT = join(SHELL_DIR, "shell.js");

/**
 * Where a build directory's source fingerprint is kept (ui-patch/build-stamp.ts): beside the directory, never
 * in it (the directory is what gets deployed). Every build removes it first; only a caller that fingerprinted
 * the sources writes it again.
 */
export const stampFileOf = (buildDir: string): string => `${resolve(buildDir)}.fingerprint`;

/**
 * What keeps the login shell light (issue 19), without changing what it does:
 * - React's API from Preact's compatibility layer (`preact/compat`): the Authenticator and the shell use hooks,
 *   context, refs and portals, all of which it implements; React DOM alone is about 200 KB of the bundle.
 * - Amplify UI's dictionaries of other languages left out. They are only ever read after a call of
 *   `I18n.putVocabularies(translations)`, which neither Amplify UI nor the shell makes, so the Authenticator speaks
 *   its default English texts either way; esbuild cannot drop them by itself, as the module spreads each into a new
 *   object. `en` and the default texts stay as they are.
 */
const SHELL_LIGHTENING = {
  alias: {
    react: "preact/compat",
    "react-dom": "preact/compat",
    "react-dom/client": "preact/compat/client",
    "react/jsx-runtime": "preact/jsx-runtime",
  },
  plugins: [
    {
      name: "amplify-ui-english-only",
      setup(b: PluginBuild) {
        // One module for every importer (its absolute path), read from the directory of the real one.
        b.onResolve({ filter: /(^|\/)dictionaries\/index\.mjs$/ }, (args) =>
          args.importer.includes(join("@aws-amplify", "ui", "dist"))
            ? { path: resolve(args.resolveDir, args.path), namespace: "amplify-ui-english-only" }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: "amplify-ui-english-only" }, (args) => ({
          resolveDir: dirname(args.path),
          contents: ENGLISH_ONLY_DICTIONARIES,
          loader: "js",
        }));
      },
    },
  ],
};

/** The dictionaries module Amplify UI's translations import, with every language but English empty. */
const ENGLISH_ONLY_DICTIONARIES = [
  'import { enDict as en } from "./authenticator/en.mjs";',
  'import { defaultTexts as texts } from "./authenticator/defaultTexts.mjs";',
  "export const enDict = { ...en };",
  "export const defaultTexts = { ...texts };",
  ...[
    "de",
    "es",
    "fr",
    "he",
    "hu",
    "id",
    "it",
    "ja",
    "kr",
    "nb",
    "nl",
    "pl",
    "pt",
    "ru",
    "sv",
    "th",
    "tr",
    "ua",
    "zh",
  ].map((l) => `export const ${l}Dict = {};`),
].join("\n");

export interface UiBuild {
  readonly outDir: string;
  readonly mlflowMain: string;
  readonly shellBytes: number;
  /** The shell's bytes by npm package (`(shell)` for this repository's code), largest first. */
  readonly shellPackages: readonly { readonly name: string; readonly bytes: number }[];
}

/** The package a bundled file comes from: the path part after the last node_modules/, scope included. */
export function packageOf(file: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(file);
  return m ? (m[1] as string) : "(shell)";
}

/**
 * Writes the UI into `outDir`, laid out as it is served: `index.html`, `static-files/...` (MLflow's build
 * and the shell), and `mlflow-gate-ui.json` when a config is given (otherwise the deployment writes it).
 */
export async function buildUi(
  outDir = UI_BUILD_DIR,
  config?: UiConfig,
  mlflowBuild = mlflowUiBuildDir(),
  /** `react`: the shell as it was built before issue 19 (React DOM, every dictionary), for the benchmark only. */
  shell: "light" | "react" = "light",
): Promise<UiBuild> {
  const indexFile = join(mlflowBuild, "index.html");
  if (!existsSync(indexFile))
    throw new Error(`no MLflow UI at ${mlflowBuild}: run npm test's pretest (tsx scripts/ensure-mlflow.ts) first`);
  const dir = resolve(outDir);
  rmSync(stampFileOf(dir), { force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(mlflowBuild, join(dir, "static-files"), { recursive: true });

  const result = await build({
    ...(shell === "light" ? SHELL_LIGHTENING : {}),
    entryPoints: [join(__dirname, "shell", "main.tsx")],
    outfile: join(dir, SHELL_SCRIPT),
    bundle: true,
    platform: "browser",
    target: "es2020",
    format: "iife",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    metafile: true,
    logLevel: "silent",
  });
  const output = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith("shell.js"))?.[1];
  const shellBytes = output?.bytes ?? 0;
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(output?.inputs ?? {}))
    byPackage.set(packageOf(file), (byPackage.get(packageOf(file)) ?? 0) + input.bytesInOutput);
  const shellPackages = [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);

  const { html, mlflowMain } = patchIndexHtml(readFileSync(indexFile, "utf8"));
  writeFileSync(join(dir, "index.html"), html);
  if (config) writeUiConfig(dir, config);
  return { outDir: dir, mlflowMain, shellBytes, shellPackages };
}

/**
 * MLflow's main script becomes a meta tag the shell reads once someone is signed in; the shell's script
 * and styles take its place. Everything else in MLflow's page stays as it is.
 */
export function patchIndexHtml(html: string): { html: string; mlflowMain: string } {
  const main = /<script defer="defer" src="([^"]*static\/js\/main\.[0-9a-f]+\.js)"><\/script>/.exec(html);
  if (!main) throw new Error("MLflow's index.html has no main script tag where the build expects it");
  const mlflowMain = main[1] as string;
  const shell =
    `<meta name="mlflow-gate-main" content="${mlflowMain}"/>` +
    `<link href="static-files/mlflow-gate/shell.css" rel="stylesheet"/>` +
    `<script defer="defer" src="static-files/mlflow-gate/shell.js"></script>`;
  const patched = html.replace(main[0], shell).replace("<body>", '<body><div id="mlflow-gate"></div>');
  return { html: patched, mlflowMain };
}

export function writeUiConfig(outDir: string, config: UiConfig): string {
  const file = join(outDir, UI_CONFIG_PATH);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}
