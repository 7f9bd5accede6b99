"""Runs MLflow SDK operations against MLFLOW_TRACKING_URI and prints one JSON report.

Used by the integration tests with the real SDK: authentication comes from the environment
(MLFLOW_TRACKING_AWS_SIGV4=true with an AWS profile, or nothing for the private MLflow).
Input (argv[1]): a JSON list of [name, op, kwargs]. Each op is a method of MlflowClient, or one of
the helpers below. Output: {name: {"ok": bool, "value": ..., "status": int|null, "error": str|null}}.
A value "$name" or "$name.attr" in kwargs is an earlier result; "${name.attr}" inside a string is
replaced by it.
"""

import contextlib
import json
import os
import re
import sys
import tempfile

import mlflow
import requests.sessions
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

# MLflow's client keeps no HTTP status for error bodies that are not MLflow's own (the gateway's
# {"message": ...}); record the last one at the requests layer, which every MLflow call goes through.
LAST_STATUS = {"code": None}
_send = requests.sessions.Session.send


def _recording_send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    LAST_STATUS["code"] = response.status_code
    return response


requests.sessions.Session.send = _recording_send


def snapshot(client):
    """Everything a write could change, in a canonical form (read straight from the private MLflow)."""
    out = {"experiments": [], "models": []}
    for e in sorted(client.search_experiments(view_type=3), key=lambda e: e.experiment_id):
        runs = []
        for r in sorted(client.search_runs([e.experiment_id], run_view_type=3), key=lambda r: r.info.run_id):
            runs.append(
                {
                    "id": r.info.run_id,
                    "status": r.info.status,
                    "lifecycle": r.info.lifecycle_stage,
                    "params": r.data.params,
                    "metrics": r.data.metrics,
                    "tags": {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")},
                }
            )
        out["experiments"].append({"id": e.experiment_id, "name": e.name, "lifecycle": e.lifecycle_stage, "tags": e.tags, "runs": runs})
    for m in sorted(client.search_registered_models(), key=lambda m: m.name):
        versions = sorted(client.search_model_versions(f"name='{m.name}'"), key=lambda v: int(v.version))
        out["models"].append(
            {
                "name": m.name,
                "tags": m.tags,
                "aliases": m.aliases,
                "versions": [{"v": v.version, "stage": v.current_stage, "tags": v.tags, "description": v.description} for v in versions],
            }
        )
    return out


def log_text_artifact(client, run_id, path, text):
    with tempfile.TemporaryDirectory() as d:
        file = os.path.join(d, os.path.basename(path))
        with open(file, "w") as f:
            f.write(text)
        client.log_artifact(run_id, file, os.path.dirname(path) or None)
    return path


def read_artifact(client, run_id, path):
    with tempfile.TemporaryDirectory() as d:
        local = client.download_artifacts(run_id, path, d)
        with open(local) as f:
            return f.read()


def log_batch_kv(client, run_id, params=None, metrics=None, tags=None):
    """log_batch with plain dicts (the SDK wants entity objects)."""
    from mlflow.entities import Metric, Param, RunTag

    client.log_batch(
        run_id,
        metrics=[Metric(k, v, 0, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, str(v)) for k, v in (params or {}).items()],
        tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
    )


def run_identity(client, run_id):
    """Who a run says created it: its user_id and its mlflow.user tag."""
    run = client.get_run(run_id)
    return {"user_id": run.info.user_id, "user_tag": run.data.tags.get("mlflow.user")}


def fluent_run(client, experiment_name):
    """A run as a notebook starts one (mlflow.start_run: the client machine's user as mlflow.user), its id."""
    # start_run prints a link to the run on stdout, which carries this script's report.
    with contextlib.redirect_stdout(sys.stderr):
        mlflow.set_experiment(experiment_name)
        with mlflow.start_run() as run:
            mlflow.log_metric("loss", 0.5)
    return run.info.run_id


HELPERS = {"snapshot": snapshot, "run_identity": run_identity, "fluent_run": fluent_run, "log_text_artifact": log_text_artifact, "read_artifact": read_artifact, "log_batch_kv": log_batch_kv}


def plain(value):
    """A JSON-able form of what the SDK returns."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "info") and hasattr(value.info, "run_id"):
        return {"run_id": value.info.run_id}
    if hasattr(value, "to_dictionary"):
        return plain(value.to_dictionary())
    if hasattr(value, "__dict__"):
        return {k.lstrip("_"): plain(v) for k, v in vars(value).items()}
    return str(value)


def lookup(ref, results):
    name, _, attr = ref.partition(".")
    v = results[name]["value"]
    return v[attr] if attr else v


def resolve(value, results):
    if isinstance(value, str) and value.startswith("$") and not value.startswith("${"):
        return lookup(value[1:], results)
    if isinstance(value, str):
        return re.sub(r"\$\{([\w.]+)\}", lambda m: str(lookup(m.group(1), results)), value)
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    return value


def status_of(err):
    """The HTTP status of the failed call: the last error response seen, else one named in the message."""
    if LAST_STATUS["code"] is not None and LAST_STATUS["code"] >= 400:
        return LAST_STATUS["code"]
    m = re.search(r"error code (\d{3})", str(err))
    return int(m.group(1)) if m else None


def main():
    plan = json.loads(sys.argv[1])
    client = MlflowClient()
    results = {}
    for name, op, kwargs in plan:
        LAST_STATUS["code"] = None
        try:
            fn = HELPERS.get(op)
            args = resolve(kwargs, results)
            value = fn(client, **args) if fn else getattr(client, op)(**args)
            results[name] = {"ok": True, "value": plain(value), "status": None, "error": None}
        except MlflowException as e:
            results[name] = {"ok": False, "value": None, "status": status_of(e), "error": str(e)[:600]}
        except Exception as e:  # noqa: BLE001 - every failure is a result to report
            results[name] = {"ok": False, "value": None, "status": status_of(e), "error": f"{type(e).__name__}: {str(e)[:600]}"}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
