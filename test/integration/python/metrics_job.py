"""A training job that outlives its credentials: logs one metric per second for argv[1] seconds
through the mlflow-gate plugin (MLFLOW_GATE_ASSUME_ROLE_ARN and the rest from the environment).

Prints RESULT {"run_id", "steps", "access_keys": distinct temporary keys the plugin signed with, "errors"}.
"""

import json
import os
import sys
import time

import mlflow
from mlflow_gate_auth.config import parse_config
from mlflow_gate_auth.provider import _signing_identity


def main():
    seconds = float(sys.argv[1])
    mlflow.set_experiment("cross-account long job")
    keys, errors, step = [], [], 0
    with mlflow.start_run() as run:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                mlflow.log_metric("step", step, step=step)
                step += 1
            except Exception as e:  # noqa: BLE001 - a failed call is what the test looks for
                errors.append(f"{type(e).__name__}: {str(e)[:300]}")
                if len(errors) > 5:
                    break
            key = _signing_identity(parse_config(os.environ)).credentials.get_frozen_credentials().access_key
            if not keys or keys[-1] != key:
                keys.append(key)
            time.sleep(1)
    # MLflow prints its own lines to stdout (the run's URL): the result is the line after RESULT.
    print("RESULT " + json.dumps({"run_id": run.info.run_id, "steps": step, "access_keys": keys, "errors": errors}))


if __name__ == "__main__":
    main()
