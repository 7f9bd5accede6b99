"""sdk_ops.py with helpers for the mlflow-gate-auth plugin tests: binary artifacts and raw GETs.

Authentication comes from the environment (MLFLOW_TRACKING_AUTH=mlflow-gate and an AWS profile, or
nothing for the private MLflow). Same input and output as sdk_ops.py.
"""

import contextlib
import hashlib
import os
import random
import sys
import tempfile
import time

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


def _write_random(path, size, seed):
    """`size` pseudo-random bytes (seeded) written in slices; returns their SHA-256."""
    rng, digest, left = random.Random(seed), hashlib.sha256(), size
    with open(path, "wb") as f:
        while left > 0:
            data = rng.randbytes(min(left, 8 * 1024 * 1024))
            f.write(data)
            digest.update(data)
            left -= len(data)
    return digest.hexdigest()


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def log_large_artifact(client, run_id, path, size):
    """log_artifact of a file of `size` bytes, timed; returns its digest."""
    with tempfile.TemporaryDirectory() as d:
        file = os.path.join(d, os.path.basename(path))
        sha256 = _write_random(file, size, size)
        began = time.monotonic()
        client.log_artifact(run_id, file, os.path.dirname(path) or None)
        return {"sha256": sha256, "size": size, "seconds": time.monotonic() - began}


def large_artifact_digest(client, run_id, path):
    """download_artifacts of one file, timed; returns the digest of what arrived."""
    with tempfile.TemporaryDirectory() as d:
        began = time.monotonic()
        local = client.download_artifacts(run_id, path, d)
        seconds = time.monotonic() - began
        return {"sha256": _digest(local), "size": os.path.getsize(local), "seconds": seconds}


class _Weights(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input


def log_large_model(client, experiment_id, name, sizes):
    """A pyfunc model whose artifacts are files of `sizes` bytes, logged in a new run and registered as a version of `name`."""
    with tempfile.TemporaryDirectory() as d:
        artifacts, files = {}, {}
        for i, size in enumerate(sizes):
            file = os.path.join(d, f"weights-{i}.bin")
            files[f"weights-{i}.bin"] = {"sha256": _write_random(file, size, size + i), "size": size}
            artifacts[f"weights-{i}"] = file
        # A fluent run prints a "View run" line on stdout, where the report goes.
        with contextlib.redirect_stdout(sys.stderr), mlflow.start_run(experiment_id=experiment_id):
            info = mlflow.pyfunc.log_model(name="model", python_model=_Weights(), artifacts=artifacts, pip_requirements=["mlflow"])
    version = mlflow.register_model(info.model_uri, name)
    return {"version": version.version, "files": files}


def large_model_digests(client, name, version):
    """The registered version's weight files, downloaded with models:/ URI: {file name: {sha256, size}}."""
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=d)
        out = {}
        for root, _, names in os.walk(local):
            for n in names:
                if n.startswith("weights-"):
                    path = os.path.join(root, n)
                    out[n] = {"sha256": _digest(path), "size": os.path.getsize(path)}
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
        "log_large_artifact": log_large_artifact,
        "large_artifact_digest": large_artifact_digest,
        "log_large_model": log_large_model,
        "large_model_digests": large_model_digests,
    }
)

if __name__ == "__main__":
    sdk_ops.main()
