"""Request auth for MLflow behind mlflow-gate (MLFLOW_TRACKING_AUTH=mlflow-gate): SigV4, or a Cognito bearer token."""

from mlflow_gate_auth.auth import GateSigV4Auth, canonicalize_query, origin_of
from mlflow_gate_auth.bearer import CognitoTokenSource, GateBearerAuth, cognito_token_source
from mlflow_gate_auth.config import GateAuthConfig, parse_config
from mlflow_gate_auth.credentials import AssumedRoleCredentials, SigningIdentity, load_signing_identity
from mlflow_gate_auth.errors import MlflowGateAuthError, MlflowGateConfigError, MlflowGateCredentialsError
from mlflow_gate_auth.provider import MlflowGateAuthProvider

__all__ = [
    "AssumedRoleCredentials",
    "CognitoTokenSource",
    "GateBearerAuth",
    "cognito_token_source",
    "GateAuthConfig",
    "GateSigV4Auth",
    "MlflowGateAuthError",
    "MlflowGateAuthProvider",
    "MlflowGateConfigError",
    "MlflowGateCredentialsError",
    "SigningIdentity",
    "canonicalize_query",
    "load_signing_identity",
    "origin_of",
    "parse_config",
]
