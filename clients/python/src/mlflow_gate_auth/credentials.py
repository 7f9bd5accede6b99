"""Credentials and region from botocore's default chain, optionally through an assumed role."""

import functools
import time
from dataclasses import dataclass
from typing import Optional

import botocore.session
from botocore.credentials import AssumeRoleCredentialFetcher, Credentials, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError

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


def assume_role_credentials(session, source, config: GateAuthConfig, region: str) -> DeferredRefreshableCredentials:
    """Credentials of config.role_arn, assumed with `source` through the region's STS on first use and renewed before expiry."""
    extra_args = {"RoleSessionName": config.role_session_name or DEFAULT_ROLE_SESSION_NAME}
    if config.external_id is not None:
        extra_args["ExternalId"] = config.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=functools.partial(session.create_client, region_name=region),
        source_credentials=source,
        role_arn=config.role_arn,
        extra_args=extra_args,
    )
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")
