"""Seeds what the browser tests look at, through the private MLflow with the real SDK; prints ids as JSON."""
import io
import json
import sys

import mlflow
from mlflow import MlflowClient
from PIL import Image, ImageDraw


def main():
    name = sys.argv[1]
    client = MlflowClient()
    experiment_id = client.create_experiment(name)
    run = client.create_run(experiment_id, run_name="ui-run")
    run_id = run.info.run_id
    for step in range(10):
        client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
    client.log_param(run_id, "lr", "0.01")
    image = Image.new("RGB", (64, 64), (200, 30, 30))
    ImageDraw.Draw(image).rectangle([16, 16, 48, 48], fill=(30, 30, 200))
    client.log_image(run_id, image, "plot.png")
    client.set_terminated(run_id)
    model_name = f"{name}-model"
    client.create_registered_model(model_name)
    version = client.create_model_version(model_name, f"runs:/{run_id}/model", run_id=run_id)
    print(json.dumps({"experimentId": experiment_id, "runId": run_id, "modelName": model_name, "modelVersion": version.version}))


if __name__ == "__main__":
    main()
