"""Bearer mode: a Cognito user's access token on MLflow's UI routes, renewed before it expires.

API Gateway checks the SDK routes (/api/...) with IAM and the UI routes (/ajax-api/...) with the
Cognito authorizer; MLflow serves the same handlers under both prefixes. So in bearer mode the
plugin sends the SDK's /api/ requests to /ajax-api/ with `Authorization: Bearer <access token>`.
"""

import threading
import time
from typing import Callable, Iterable, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from requests.auth import AuthBase

from mlflow_gate_auth.auth import name_gateway_refusal, origin_of
from mlflow_gate_auth.config import GateAuthConfig
from mlflow_gate_auth.errors import MlflowGateCredentialsError

#: Renew this long before the access token expires (Cognito's default lifetime is an hour) ...
_RENEW_BEFORE_SECONDS = 5 * 60
#: ... or a quarter of its lifetime when that is shorter.
_RENEW_FRACTION = 0.25


class CognitoTokenSource:
    """Access tokens of one Cognito user: USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH, renewed ahead of expiry.

    With a password, a refresh token from the sign-in renews the access token, and when Cognito
    refuses it (expired, revoked) the user signs in again. With only a refresh token, its refusal
    is an error that says to get a new one. Thread-safe; never logs or shows a secret.
    """

    def __init__(self, client, client_id: str, username: Optional[str] = None, password: Optional[str] = None, refresh_token: Optional[str] = None, clock: Callable[[], float] = time.time):
        self._client = client
        self._client_id = client_id
        self._username = username
        self._password = password
        self._refresh_token = refresh_token
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: Optional[str] = None
        self._renew_at = 0.0

    def access_token(self) -> str:
        with self._lock:
            if self._access_token is None or self._clock() >= self._renew_at:
                self._renew()
            return self._access_token

    def invalidate(self):
        """Forgets the access token (the gateway refused it): the next request renews it."""
        with self._lock:
            self._renew_at = 0.0

    def _renew(self):
        if self._refresh_token is not None:
            try:
                return self._store(self._initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": self._refresh_token}), keep_refresh_token=True)
            except MlflowGateCredentialsError:
                if self._password is None:
                    raise
        self._store(self._initiate("USER_PASSWORD_AUTH", {"USERNAME": self._username, "PASSWORD": self._password}), keep_refresh_token=False)

    def _initiate(self, flow: str, parameters: dict) -> dict:
        who = f"user {self._username}" if self._username else "the refresh token"
        try:
            response = self._client.initiate_auth(ClientId=self._client_id, AuthFlow=flow, AuthParameters=parameters)
        except ClientError as e:
            error = e.response.get("Error", {})
            hint = " Get a new refresh token (sign in again)." if flow == "REFRESH_TOKEN_AUTH" and error.get("Code") == "NotAuthorizedException" else ""
            raise MlflowGateCredentialsError(f"mlflow-gate-auth: Cognito refused the sign-in of {who} ({flow}): {error.get('Code', 'Error')}: {error.get('Message', '')}.{hint}") from e
        except BotoCoreError as e:
            raise MlflowGateCredentialsError(f"mlflow-gate-auth: cannot reach Cognito to sign in {who}: {e}") from e
        result = response.get("AuthenticationResult")
        if not result or not result.get("AccessToken"):
            challenge = response.get("ChallengeName", "no tokens")
            raise MlflowGateCredentialsError(f"mlflow-gate-auth: Cognito answered the sign-in of {who} with {challenge}; finish it in the MLflow UI (e.g. set a new password), then retry.")
        return result

    def _store(self, result: dict, keep_refresh_token: bool):
        lifetime = float(result.get("ExpiresIn") or 3600)
        self._access_token = result["AccessToken"]
        self._renew_at = self._clock() + lifetime - min(_RENEW_BEFORE_SECONDS, lifetime * _RENEW_FRACTION)
        if not keep_refresh_token and result.get("RefreshToken"):
            self._refresh_token = result["RefreshToken"]


def cognito_token_source(config: GateAuthConfig, session: Optional[botocore.session.Session] = None) -> CognitoTokenSource:
    """A token source for the configured user pool client; nothing is sent until the first request."""
    session = session or botocore.session.Session()
    region = config.region or "us-east-1"
    endpoint = config.cognito_endpoint or f"https://cognito-idp.{region}.amazonaws.com/"
    # InitiateAuth takes no AWS signature: no AWS credentials are needed or sent.
    client = session.create_client("cognito-idp", region_name=region, endpoint_url=endpoint, config=Config(signature_version=UNSIGNED, retries={"max_attempts": 3, "mode": "standard"}))
    return CognitoTokenSource(client, config.cognito_client_id, config.cognito_username, config.cognito_password, config.cognito_refresh_token)


Target = Tuple[Tuple[str, str, int], str]


def target_of(uri: str) -> Optional[Target]:
    """(origin, base path without a trailing /) of a tracking URI; None for a non-http URI."""
    origin = origin_of(uri)
    return None if origin is None else (origin, urlsplit(uri).path.rstrip("/"))


class GateBearerAuth(AuthBase):
    """Sends the SDK's requests to the tracking server on its UI routes with the user's access token;
    leaves requests to any other host or path untouched."""

    def __init__(self, token: Callable[[], str], targets: Iterable[Target], on_refused: Optional[Callable[[], None]] = None):
        self._token = token
        self._targets = frozenset(targets)
        self._on_refused = on_refused

    def __call__(self, r):
        origin = origin_of(r.url)
        parts = urlsplit(r.url)
        # Only below the tracking URI's path (an API stage such as /prod): the token goes nowhere else.
        bases = [base for o, base in self._targets if o == origin and parts.path.startswith(f"{base}/")]
        if not bases:
            return r
        base = max(bases, key=len)
        if parts.path.startswith(f"{base}/api/"):
            r.url = urlunsplit(parts._replace(path=f"{base}/ajax-api/{parts.path[len(base) + 5:]}"))
        r.headers["Authorization"] = f"Bearer {self._token()}"
        if self._on_refused is not None:
            r.register_hook("response", self._watch_for_refusal)
        r.register_hook("response", name_gateway_refusal)
        return r

    def _watch_for_refusal(self, response, **kwargs):
        # 401: the authorizer refused the token (expired early, revoked): renew it for the next request.
        if response.status_code == 401:
            self._on_refused()
        return response
