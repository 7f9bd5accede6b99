"""Reads request targets the way the pinned MLflow server does, without a network: a reference for the gateway.

Reads a JSON list of request targets (strings) on stdin; writes a JSON list on stdout, one per target, in order:
  {"path": str}        the path Flask routes on (werkzeug's Request.path), or
  {"rejected": str}    the HTTP parser refuses the request line (MLflow never sees it).

The chain is the one `mlflow server` runs (uvicorn with h11, MLflow's FastAPI app, Flask mounted
through a WSGI middleware): h11 parses the request line; uvicorn's h11 protocol splits the target at
the first "?" and percent-decodes the path (urllib.parse.unquote); Starlette's build_environ (which
MLflow's own WSGI middleware in mlflow/server/fastapi_app.py calls) turns the ASGI path into
PATH_INFO; werkzeug's Request decodes PATH_INFO into the path its router matches.
"""

import json
import sys
import warnings
from urllib.parse import unquote

import h11

warnings.simplefilter("ignore")  # starlette.middleware.wsgi's deprecation notice
from starlette.middleware.wsgi import build_environ
from werkzeug.wrappers import Request


def read(target):
    conn = h11.Connection(h11.SERVER)
    try:
        conn.receive_data(b"POST " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        event = conn.next_event()
    except h11.RemoteProtocolError as e:
        return {"rejected": str(e)}
    if not isinstance(event, h11.Request):
        return {"rejected": type(event).__name__}
    # uvicorn/protocols/http/h11_impl.py, handle_events
    raw_path, _, query_string = event.target.partition(b"?")
    path = unquote(raw_path.decode("ascii"))
    scope = {"type": "http", "method": "POST", "path": path, "root_path": "", "raw_path": raw_path, "query_string": query_string, "headers": [], "http_version": "1.1", "server": ("127.0.0.1", 80), "scheme": "http"}
    environ = build_environ(scope, b"")
    return {"path": Request(environ).path}


def main():
    json.dump([read(t) for t in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
