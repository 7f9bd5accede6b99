"""The MLflow request auth provider selected by MLFLOW_TRACKING_AUTH=mlflow-gate."""

import functools
import os
from urllib.parse import urlsplit

import mlflow
from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider

from mlflow_gate_auth.auth import GateSigV4Auth, origin_of
from mlflow_gate_auth.bearer import CognitoTokenSource, GateBearerAuth, cognito_token_source, target_of
from mlflow_gate_auth.config import GateAuthConfig, _is_loopback, parse_config
from mlflow_gate_auth.errors import MlflowGateConfigError
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


class MlflowGateAuthProvider(RequestAuthProvider):
    def get_name(self):
        return NAME

    def get_auth(self):
        config = parse_config(os.environ)
        # Only the tracking and registry servers get credentials, never another host.
        uris = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
        if config.mode == "bearer":
            _refuse_plain_http(uris)
            source = _token_source(config)
            return GateBearerAuth(source.access_token, {t for t in map(target_of, uris) if t is not None}, source.invalidate)
        identity = _signing_identity(config)
        origins = {origin_of(uri) for uri in uris} - {None}
        # Assumed-role sessions the gateway no longer accepts (a restarted local STS) are renewed on the next request.
        invalidate = getattr(identity.credentials, "invalidate", None)
        return GateSigV4Auth(identity.credentials.get_frozen_credentials, identity.region, origins, invalidate)
