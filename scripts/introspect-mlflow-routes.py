"""Print every HTTP route of the installed MLflow server as JSON (used by generate-route-catalog).

Reads the Flask url_map and the native FastAPI routes of `mlflow.server.fastapi_app`, and names
each protobuf-backed route with its RPC name. Output: {"mlflowVersion": str, "routes": [...]},
one entry per (method, path) with the source ("flask" | "fastapi"), the view name and the RPC name.
"""

import json
import logging
import os
import sys

# The server registers some routes only when artifacts are served; list the routes as we run it.
os.environ.setdefault("_MLFLOW_SERVER_SERVE_ARTIFACTS", "true")
logging.disable(logging.WARNING)

import mlflow  # noqa: E402
from mlflow.server import app as flask_app  # noqa: E402
from mlflow.server import handlers  # noqa: E402
from mlflow.server.fastapi_app import app as fastapi_app  # noqa: E402

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def rpc_names():
    """(METHOD, flask rule) -> (RPC name, service name), for every protobuf service routed."""
    from mlflow.protos import databricks_pb2

    names = {}
    services = [getattr(handlers, n) for n in dir(handlers) if n.endswith("Service")]
    for service in services:
        descriptor = getattr(service, "DESCRIPTOR", None)
        if descriptor is None or not hasattr(descriptor, "methods"):
            continue
        for method in descriptor.methods:
            for endpoint in method.GetOptions().Extensions[databricks_pb2.rpc].endpoints:
                for path in handlers._get_paths(endpoint.path, version=endpoint.since.major):
                    names[(endpoint.method.upper(), path)] = (method.name, descriptor.name)
    return names


def main():
    names = rpc_names()
    routes = []
    for rule in flask_app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            routes.append(
                {
                    "source": "flask",
                    "method": method,
                    "rule": rule.rule,
                    "view": rule.endpoint,
                    "rpc": names.get((method, rule.rule), (None, None))[0],
                    "service": names.get((method, rule.rule), (None, None))[1],
                }
            )
    for route in fastapi_app.routes:
        if type(route).__name__ == "Mount":
            if getattr(route, "path", "") not in ("", "/"):
                sys.exit(f"unexpected FastAPI mount: {route.path}")
            continue  # the Flask app, mounted at the root
        # FastAPI >= 0.165 keeps included routers whole; older versions flatten them.
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            methods = getattr(context, "methods", None)
            if not methods:
                sys.exit(f"FastAPI route without HTTP methods (websocket?): {context.path}")
            for method in sorted(set(methods) - IGNORED_METHODS):
                routes.append(
                    {
                        "source": "fastapi",
                        "method": method,
                        "rule": context.path,
                        "view": context.name,
                        "rpc": None,
                        "service": None,
                    }
                )
    json.dump({"mlflowVersion": mlflow.__version__, "routes": routes}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
