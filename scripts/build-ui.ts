// Builds the patched MLflow UI into dist/ui (or the directory given), without a config: in AWS the API answers /mlflow-gate-ui.json.
import { buildUi } from "../ui-patch/build-ui";

buildUi(process.argv[2]).then(
  (b) =>
    console.log(
      `ui            ${b.outDir} (shell ${Math.round(b.shellBytes / 1024)} KiB, MLflow ${b.mlflowMain} after login)`,
    ),
  (e: Error) => {
    console.error(`build:ui: ${e.message}`);
    process.exit(1);
  },
);
