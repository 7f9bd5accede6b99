"""Credentials and region from botocore's default chain, optionally through an assumed role."""

import time
from dataclasses import dataclass
from typing import Optional

import botocore.session
from botocore.credentials import Credentials, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from dateutil.parser import parse as parse_datetime

from mlflow_gate_auth.config import GateAuthConfig
from mlflow_gate_auth.errors import MlflowGateCredentialsError

NO_CREDENTIALS = (
    "mlflow-gate-auth found no AWS credentials to sign MLflow requests with. Set AWS_PROFILE to a profile of "
    "~/.aws/credentials or ~/.aws/config (or of AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), or set "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or run where a "
    "container or instance role is available."
)
NO_REGION = (
    "mlflow-gate-auth needs the gateway's AWS region: set MLFLOW_GATE_REGION (or AWS_REGION / AWS_DEFAULT_REGION), "
    "or a region in the AWS profile."
)
#: One default session name per process, so that the role is assumed once and renewed, not per request.
DEFAULT_ROLE_SESSION_NAME = f"mlflow-gate-auth-{int(time.time())}"


@dataclass(frozen=True)
class SigningIdentity:
    """A credentials object botocore refreshes as needed (read per request) and the region to sign for."""

    credentials: Credentials
    region: str


def load_signing_identity(config: GateAuthConfig, session: Optional[botocore.session.Session] = None) -> SigningIdentity:
    """Resolves credentials (no network call for an assumed role: it is assumed on first use) and the region."""
    session = session or botocore.session.Session()
    try:
        region = config.region or session.get_config_variable("region")
        source = session.get_credentials()
    except BotoCoreError as e:  # e.g. ProfileNotFound, a broken config file
        raise MlflowGateCredentialsError(f"mlflow-gate-auth could not load AWS credentials: {e}") from e
    if source is None:
        raise MlflowGateCredentialsError(NO_CREDENTIALS)
    if not region:
        raise MlflowGateCredentialsError(NO_REGION)
    if config.role_arn is None:
        return SigningIdentity(source, region)
    return SigningIdentity(assume_role_credentials(session, source, config, region), region)


#: botocore's refresh windows (15 min advisory, 10 min mandatory), scaled down for shorter sessions.
_ADVISORY_REFRESH_SECONDS = 15 * 60
_MANDATORY_REFRESH_SECONDS = 10 * 60


class AssumedRoleCredentials(DeferredRefreshableCredentials):
    """Credentials of an assumed role, fetched on first use and renewed before they expire.

    botocore renews 15 minutes (advisory) and 10 minutes (mandatory) before expiry; a session
    shorter than that would be renewed on every request, so the windows are a third and a sixth of
    the session's lifetime when that is less. A failed advisory renewal keeps the current
    credentials (botocore logs it); a failed mandatory one raises.
    """

    def _set_from_data(self, data):
        super()._set_from_data(data)
        lifetime = (parse_datetime(data["expiry_time"]) - self._time_fetcher()).total_seconds()
        self._advisory_refresh_timeout = min(_ADVISORY_REFRESH_SECONDS, max(1, lifetime / 3))
        self._mandatory_refresh_timeout = min(_MANDATORY_REFRESH_SECONDS, max(1, lifetime / 6))

    def invalidate(self):
        """Forgets the current session: the next use assumes the role again (mandatory refresh)."""
        with self._refresh_lock:
            if self._expiry_time is not None:
                self._expiry_time = self._time_fetcher()


def assume_role_credentials(session, source, config: GateAuthConfig, region: str) -> AssumedRoleCredentials:
    """Credentials of config.role_arn, assumed with `source` through STS on first use and renewed before expiry.

    STS is reached as botocore configures it for the profile: the region's endpoint, or an
    `endpoint_url` for sts (AWS_ENDPOINT_URL_STS, a `services` section of the AWS config).
    """
    kwargs = {"RoleArn": config.role_arn, "RoleSessionName": config.role_session_name or DEFAULT_ROLE_SESSION_NAME}
    if config.external_id is not None:
        kwargs["ExternalId"] = config.external_id
    if config.duration_seconds is not None:
        kwargs["DurationSeconds"] = config.duration_seconds

    def fetch():
        # The source may itself be temporary (a SageMaker execution role): read it afresh each time.
        frozen = source.get_frozen_credentials()
        try:
            sts = session.create_client("sts", region_name=region, aws_access_key_id=frozen.access_key, aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token)
            response = sts.assume_role(**kwargs)
        except ClientError as e:
            error = e.response.get("Error", {})
            raise MlflowGateCredentialsError(
                f"mlflow-gate-auth could not assume the role {config.role_arn}: {error.get('Code', 'Error')}: {error.get('Message', '')}"
                + (" (check the role's trust policy, the ExternalId and the caller's sts:AssumeRole permission)" if error.get("Code") == "AccessDenied" else "")
            ) from e
        except BotoCoreError as e:
            raise MlflowGateCredentialsError(f"mlflow-gate-auth could not assume the role {config.role_arn}: {e}") from e
        c = response["Credentials"]
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"], "expiry_time": c["Expiration"].isoformat()}

    return AssumedRoleCredentials(refresh_using=fetch, method="assume-role")
