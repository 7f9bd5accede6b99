# Loaded at start by every Python process of the MLflow server: in the image (the Dockerfile puts this
# directory on PYTHONPATH) and in the local stack (local/mlflow-server.ts does the same); nothing else.
#
# MLflow 3.17.2's search_runs handler runs `from mlflow.server import auth` on every call and skips
# basic-auth filtering on ImportError. Without Flask-WTF (the `mlflow[auth]` extra, which the local
# stack does not use) that import fails every time, and a call racing another call's failing import
# gets the half-initialised module: AttributeError, an HTML 500 (found by test/reliability under
# load). A None entry in sys.modules makes every later import fail at once and alike, as the handler
# expects; MLflow's other checks read sys.modules.get("mlflow.server.auth") and treat None as "off".
import importlib.util
import sys

if importlib.util.find_spec("flask_wtf") is None:
    sys.modules["mlflow.server.auth"] = None
