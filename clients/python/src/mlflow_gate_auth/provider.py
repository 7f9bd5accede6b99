"""The MLflow request auth provider selected by MLFLOW_TRACKING_AUTH=mlflow-gate."""

import functools
import os
import re
import sys
from typing import Optional
from urllib.parse import urlsplit

import mlflow
from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider

from mlflow_gate_auth.auth import GateSigV4Auth, origin_of
from mlflow_gate_auth.bearer import CognitoTokenSource, GateBearerAuth, cognito_token_source, target_of
from mlflow_gate_auth.config import GateAuthConfig, _is_loopback, parse_config
from mlflow_gate_auth.errors import MlflowGateConfigError
from mlflow_gate_auth.large_artifacts import apply_large_artifact_settings
from mlflow_gate_auth.credentials import SigningIdentity, load_signing_identity

NAME = "mlflow-gate"


@functools.lru_cache(maxsize=8)
def _signing_identity(config: GateAuthConfig) -> SigningIdentity:
    # MLflow asks for an auth object per request: resolve credentials once per configuration.
    return load_signing_identity(config)


@functools.lru_cache(maxsize=8)
def _token_source(config: GateAuthConfig) -> CognitoTokenSource:
    # One sign-in per configuration, renewed as needed, not one per request.
    return cognito_token_source(config)


def _refuse_plain_http(uris) -> None:
    # A bearer token read off the wire works for its whole lifetime (a SigV4 request only for minutes):
    # it travels over https, or to this machine.
    for uri in uris:
        parts = urlsplit(uri or "")
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            raise MlflowGateConfigError(
                [
                    f"bearer mode sends your access token with every request: {parts.scheme}://{parts.netloc} must use https "
                    "(plain http is accepted only for a loopback address)."
                ]
            )


#: Where MLflow's API starts in a URI: `/api/<version>/` or `/ajax-api/<version>/`. The version keeps a base path that
#: holds `api` as a segment (a team named `api`: `<gateway>/ws/api/api/2.0/...`) whole.
_API_PATH = re.compile(r"/(?:ajax-)?api/\d+\.\d+(?:/|$)")


def _server_root(uri: str) -> str:
    """The server's own URI: an artifact repository's host credentials name a whole artifact path
    (`<server>/api/2.0/mlflow-artifacts/artifacts/...`), a store's the server (an API stage path and a team's
    `/ws/<team>` kept)."""
    parts = urlsplit(uri)
    match = _API_PATH.search(parts.path)
    return parts._replace(path=parts.path[: match.start()] if match else parts.path, query="", fragment="").geturl()


#: How far up the stack the client's server is looked for: get_auth <- fetch_auth <- http_request.
_CALLER_DEPTH = 6


def _client_server_uri() -> Optional[str]:
    """The server of the MLflow client that asks for auth: MLflow's rest_utils.http_request(host_creds, ...)
    calls fetch_auth(host_creds.auth), which calls get_auth(). So `MlflowClient(tracking_uri=...)` gets its
    own server's credentials, not only the process's tracking URI. None when not called from there."""
    frame = sys._getframe(2)
    for _ in range(_CALLER_DEPTH):
        if frame is None:
            return None
        host = getattr(frame.f_locals.get("host_creds"), "host", None)
        if isinstance(host, str):
            return _server_root(host)
        frame = frame.f_back
    return None


class MlflowGateAuthProvider(RequestAuthProvider):
    def get_name(self):
        return NAME

    def get_auth(self):
        config = parse_config(os.environ)
        # Before MLflow decides how to send the first large artifact: in parts, to presigned S3 URLs.
        apply_large_artifact_settings(os.environ)
        # Only the server of the client asking, and the tracking and registry servers, get credentials.
        uris = tuple(u for u in (_client_server_uri(), mlflow.get_tracking_uri(), mlflow.get_registry_uri()) if u)
        if config.mode == "bearer":
            _refuse_plain_http(uris)
            source = _token_source(config)
            return GateBearerAuth(source.access_token, {t for t in map(target_of, uris) if t is not None}, source.invalidate)
        identity = _signing_identity(config)
        origins = {origin_of(uri) for uri in uris} - {None}
        # Assumed-role sessions the gateway no longer accepts (a restarted local STS) are renewed on the next request.
        invalidate = getattr(identity.credentials, "invalidate", None)
        return GateSigV4Auth(identity.credentials.get_frozen_credentials, identity.region, origins, invalidate)
