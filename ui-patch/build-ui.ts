// Builds the patched MLflow UI: the prebuilt UI of the pinned wheel, plus the login shell that loads first.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join, resolve } from "path";
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

export interface UiBuild {
  readonly outDir: string;
  readonly mlflowMain: string;
  readonly shellBytes: number;
}

/**
 * Writes the UI into `outDir`, laid out as it is served: `index.html`, `static-files/...` (MLflow's build
 * and the shell), and `mlflow-gate-ui.json` when a config is given (otherwise the deployment writes it).
 */
export async function buildUi(
  outDir = UI_BUILD_DIR,
  config?: UiConfig,
  mlflowBuild = mlflowUiBuildDir(),
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
  const shellBytes = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith("shell.js"))?.[1].bytes ?? 0;

  const { html, mlflowMain } = patchIndexHtml(readFileSync(indexFile, "utf8"));
  writeFileSync(join(dir, "index.html"), html);
  if (config) writeUiConfig(dir, config);
  return { outDir: dir, mlflowMain, shellBytes };
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
