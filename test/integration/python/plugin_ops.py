"""sdk_ops.py with helpers for the mlflow-gate-auth plugin tests: binary artifacts and raw GETs.

Authentication comes from the environment (MLFLOW_TRACKING_AUTH=mlflow-gate and an AWS profile, or
nothing for the private MLflow). Same input and output as sdk_ops.py.
"""

import hashlib
import os
import random
import tempfile

import mlflow
import sdk_ops
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request, verify_rest_response


def log_bytes_artifact(client, run_id, path, size):
    """Uploads `size` pseudo-random bytes (seeded by size) as a binary file; returns their digest."""
    data = random.Random(size).randbytes(size)
    with tempfile.TemporaryDirectory() as d:
        file = os.path.join(d, os.path.basename(path))
        with open(file, "wb") as f:
            f.write(data)
        client.log_artifact(run_id, file, os.path.dirname(path) or None)
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": size}


def artifact_digest(client, run_id, path):
    with tempfile.TemporaryDirectory() as d:
        with open(client.download_artifacts(run_id, path, d), "rb") as f:
            data = f.read()
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def rest_get(client, endpoint, params):
    """A GET through MLflow's own HTTP layer (and so its auth plugin); params: [[key, value], ...], keys may repeat."""
    creds = get_default_host_creds(os.environ["MLFLOW_TRACKING_URI"])
    response = http_request(creds, endpoint, "GET", params=[tuple(p) for p in params])
    return verify_rest_response(response, endpoint).json()


def log_dir_artifact(client, run_id, path, files):
    """log_artifacts of a directory holding `files` ({relative path: text}, nested folders allowed)."""
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        client.log_artifacts(run_id, d, path)
    return sorted(files)


def load_text(client, uri):
    return mlflow.artifacts.load_text(uri)


def load_dict(client, uri):
    return mlflow.artifacts.load_dict(uri)


def download_dir(client, run_id, path):
    """mlflow.artifacts.download_artifacts of a folder: {relative path: text} of what arrived."""
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=d)
        out = {}
        for root, _, names in os.walk(local):
            for name in names:
                with open(os.path.join(root, name)) as f:
                    out[os.path.relpath(os.path.join(root, name), local)] = f.read()
        return out


sdk_ops.HELPERS.update(
    {
        "log_bytes_artifact": log_bytes_artifact,
        "artifact_digest": artifact_digest,
        "rest_get": rest_get,
        "log_dir_artifact": log_dir_artifact,
        "load_text": load_text,
        "load_dict": load_dict,
        "download_dir": download_dir,
    }
)

if __name__ == "__main__":
    sdk_ops.main()
