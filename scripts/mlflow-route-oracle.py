"""MLflow's own routing, as a test oracle: which route of the installed server serves each request.

Reads a JSON list of [method, path] from stdin and prints a JSON list with, for each request, the
[method, rule] of the route that would serve it (rule in Flask or Starlette syntax), or null when the
server would answer 404, 405 or a redirect. Mirrors the server: native FastAPI routes first, in order,
the first full (path and method) match winning; then the Flask app mounted at "/".
"""

import json
import logging
import os
import sys
import warnings

warnings.simplefilter("ignore")
os.environ.setdefault("_MLFLOW_SERVER_SERVE_ARTIFACTS", "true")
logging.disable(logging.WARNING)

from starlette.routing import compile_path  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.routing import RequestRedirect  # noqa: E402

from mlflow.server import app as flask_app  # noqa: E402
from mlflow.server.fastapi_app import app as fastapi_app  # noqa: E402


def fastapi_routes():
    out = []
    for route in fastapi_app.routes:
        if type(route).__name__ == "Mount":
            continue
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            regex, _, _ = compile_path(context.path)
            out.append((regex, set(context.methods or ()), context.path))
    return out


def main():
    requests = json.load(sys.stdin)
    routes = fastapi_routes()
    adapter = flask_app.url_map.bind("localhost")
    answers = []
    for method, path in requests:
        hit = next((p for regex, methods, p in routes if method in methods and regex.match(path)), None)
        if hit is not None:
            answers.append([method, hit])
            continue
        try:
            rule, _ = adapter.match(path, method, return_rule=True)
            answers.append([method, rule.rule])
        except (HTTPException, RequestRedirect):
            answers.append(None)
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
