"""plugin_ops.py with helpers for the teams tests: traces, logged models, raw REST calls and a workspace's snapshot.

The tracking URI is a team's (`<gateway>/ws/<team>`); authentication as in plugin_ops.py. Same input and output
as sdk_ops.py.
"""

import contextlib
import io
import json
import os
import sys

import mlflow
import plugin_ops  # noqa: F401 - registers its helpers on sdk_ops
import sdk_ops
from mlflow.entities import Trace, TraceInfo
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request


def make_trace(client, experiment_id, name):
    """A trace with one span in the experiment, logged synchronously; its id."""
    with contextlib.redirect_stdout(sys.stderr):
        mlflow.set_experiment(experiment_id=experiment_id)
        with mlflow.start_span(name=name) as span:
            span.set_inputs({"q": name})
            span.set_outputs({"a": 42})
        trace_id = span.trace_id
        mlflow.flush_trace_async_logging()
    return trace_id


def rest(client, method, endpoint, json=None, params=None):
    """One call through MLflow's HTTP layer (and so its auth plugin), never raising: {status, body}."""
    creds = get_default_host_creds(os.environ["MLFLOW_TRACKING_URI"])
    kwargs = {}
    if json is not None:
        kwargs["json"] = json
    if params is not None:
        kwargs["params"] = [tuple(p) for p in params]
    response = http_request(creds, endpoint, method, max_retries=0, raise_on_status=False, **kwargs)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return {"status": response.status_code, "body": body}


def _artifact_tree(list_fn, path=None):
    out = []
    for f in list_fn(path):
        out.append({"path": f.path, "dir": f.is_dir, "size": f.file_size})
        if f.is_dir:
            out.extend(_artifact_tree(list_fn, f.path))
    return out


def team_snapshot(client):
    """sdk_ops.snapshot of the workspace, with every run's artifact tree, every trace and every logged model."""
    out = sdk_ops.snapshot(client)
    ids = [e["id"] for e in out["experiments"]]
    for e in out["experiments"]:
        for r in e["runs"]:
            r["artifacts"] = _artifact_tree(lambda p, rid=r["id"]: client.list_artifacts(rid, p))
    traces = client.search_traces(locations=ids, max_results=500) if ids else []
    out["traces"] = sorted(
        ({"id": t.info.trace_id, "tags": {k: v for k, v in t.info.tags.items() if not k.startswith("mlflow.")}} for t in traces),
        key=lambda t: t["id"],
    )
    models = client.search_logged_models(experiment_ids=ids) if ids else []
    out["logged_models"] = sorted(
        ({"id": m.model_id, "name": m.name, "tags": {k: v for k, v in m.tags.items() if not k.startswith("mlflow.")}} for m in models),
        key=lambda m: m["id"],
    )
    return out


_plain = sdk_ops.plain


def plain(value):
    """sdk_ops.plain, with a trace as its id and its own tags (a Trace's objects refer to each other)."""
    if isinstance(value, Trace):
        value = value.info
    if isinstance(value, TraceInfo):
        return {"trace_id": value.trace_id, "tags": {k: v for k, v in value.tags.items() if not k.startswith("mlflow.")}}
    return _plain(value)


sdk_ops.plain = plain
sdk_ops.HELPERS.update({"make_trace": make_trace, "rest": rest, "team_snapshot": team_snapshot})


def main():
    """sdk_ops.main, with one more op: ["name", "use_workspace", {"team": t}] points the rest of the plan at
    `<MLFLOW_GATE_GATEWAY>/ws/<t>` (one process, one identity, both teams). A "$name" reference reaches only
    results of the same workspace stretch."""
    plan = json.loads(sys.argv[1])
    results, chunk = {}, []

    def flush():
        if chunk:
            sys.argv[1] = json.dumps(chunk)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                sdk_ops.main()
            results.update(json.loads(out.getvalue()))
            chunk.clear()

    for step in plan:
        if step[1] == "use_workspace":
            flush()
            uri = f"{os.environ['MLFLOW_GATE_GATEWAY']}/ws/{step[2]['team']}"
            os.environ["MLFLOW_TRACKING_URI"] = uri
            mlflow.set_tracking_uri(uri)
            results[step[0]] = {"ok": True, "value": uri, "status": None, "error": None}
        else:
            chunk.append(step)
    flush()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
