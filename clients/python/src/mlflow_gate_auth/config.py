"""The plugin's configuration, read from the environment in one place and validated at once."""

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional
from urllib.parse import urlsplit

from mlflow_gate_auth.errors import MlflowGateConfigError

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
ROLE_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
COGNITO_CLIENT_ID = re.compile(r"^[\w+]{1,128}$")
#: STS's bounds for DurationSeconds (the role's MaxSessionDuration may be lower).
DURATION_RANGE = (900, 43200)
MODES = ("sigv4", "bearer")


@dataclass(frozen=True)
class GateAuthConfig:
    """What the signer needs; hashable, so one signer is kept per distinct configuration."""

    #: "sigv4" (AWS credentials, the SDK routes /api/...) or "bearer" (a Cognito user, the UI routes /ajax-api/...).
    mode: str = "sigv4"
    #: MLFLOW_GATE_REGION, else AWS_REGION, else AWS_DEFAULT_REGION; None: the profile's region.
    region: Optional[str] = None
    #: AWS_PROFILE, only to tell configurations apart (botocore reads it itself).
    profile: Optional[str] = None
    role_arn: Optional[str] = None
    external_id: Optional[str] = None
    #: None: the signer picks one (the same for the life of the process).
    role_session_name: Optional[str] = None
    #: None: the role's default (one hour, or its maximum if lower).
    duration_seconds: Optional[int] = None
    cognito_client_id: Optional[str] = None
    #: None: https://cognito-idp.<region>.amazonaws.com/
    cognito_endpoint: Optional[str] = None
    cognito_username: Optional[str] = None
    cognito_password: Optional[str] = field(default=None, repr=False)
    cognito_refresh_token: Optional[str] = field(default=None, repr=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_config(env: Mapping[str, str]) -> GateAuthConfig:
    """Reads MLFLOW_GATE_* (and the AWS region variables); raises MlflowGateConfigError listing every problem."""

    def get(name):
        value = env.get(name, "").strip()
        return value or None

    mode = (get("MLFLOW_GATE_AUTH_MODE") or "sigv4").lower()
    role_arn = get("MLFLOW_GATE_ASSUME_ROLE_ARN")
    external_id = get("MLFLOW_GATE_EXTERNAL_ID")
    session_name = get("MLFLOW_GATE_ROLE_SESSION_NAME")
    raw_duration = get("MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS")
    region = get("MLFLOW_GATE_REGION") or get("AWS_REGION") or get("AWS_DEFAULT_REGION")
    client_id = get("MLFLOW_GATE_COGNITO_CLIENT_ID")
    endpoint = get("MLFLOW_GATE_COGNITO_ENDPOINT")
    username = get("MLFLOW_GATE_COGNITO_USERNAME")
    # A password may hold spaces at either end: taken as given.
    password = env.get("MLFLOW_GATE_COGNITO_PASSWORD") or None
    refresh_token = get("MLFLOW_GATE_COGNITO_REFRESH_TOKEN")
    problems = []
    if mode == "bearer" and username is None and password is None and refresh_token is None:
        # No password or token given: the sign-in `mlflow-gate login` saved, for this app client (or the only one).
        saved, problem = _saved_login(env, client_id)
        if problem is not None:
            problems.append(problem)
        elif saved is not None:
            client_id = client_id or saved.get("clientId")
            refresh_token = saved.get("refreshToken")
            endpoint = endpoint or saved.get("endpoint")
            region = region or saved.get("region")
    if mode not in MODES:
        problems.append(f"MLFLOW_GATE_AUTH_MODE must be one of {', '.join(MODES)}, not '{mode[:50]}'.")
    if role_arn is not None and not ROLE_ARN.match(role_arn):
        problems.append(f"MLFLOW_GATE_ASSUME_ROLE_ARN must be an IAM role ARN (arn:aws:iam::123456789012:role/name), not '{role_arn[:200]}'.")
    if role_arn is None and (external_id is not None or session_name is not None or raw_duration is not None):
        problems.append("MLFLOW_GATE_EXTERNAL_ID, MLFLOW_GATE_ROLE_SESSION_NAME and MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS need MLFLOW_GATE_ASSUME_ROLE_ARN.")
    if external_id is not None and not EXTERNAL_ID.match(external_id):
        problems.append("MLFLOW_GATE_EXTERNAL_ID must be 2 to 1224 characters of letters, digits and +=,.@:/-_.")
    if session_name is not None and not ROLE_SESSION_NAME.match(session_name):
        problems.append(f"MLFLOW_GATE_ROLE_SESSION_NAME must be 2 to 64 characters of letters, digits and +=,.@-_, not '{session_name[:100]}'.")
    duration = None
    if raw_duration is not None:
        duration = int(raw_duration) if raw_duration.isdigit() else -1
        if not DURATION_RANGE[0] <= duration <= DURATION_RANGE[1]:
            problems.append(f"MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS must be an integer from {DURATION_RANGE[0]} to {DURATION_RANGE[1]} (STS's bounds), not '{raw_duration[:20]}'.")
    cognito_set = [name for name, value in (("MLFLOW_GATE_COGNITO_CLIENT_ID", client_id), ("MLFLOW_GATE_COGNITO_ENDPOINT", endpoint), ("MLFLOW_GATE_COGNITO_USERNAME", username), ("MLFLOW_GATE_COGNITO_PASSWORD", password), ("MLFLOW_GATE_COGNITO_REFRESH_TOKEN", refresh_token)) if value is not None]
    if mode == "bearer":
        problems.extend(_bearer_problems(role_arn, region, client_id, endpoint, username, password, refresh_token))
    elif cognito_set:
        problems.append(f"{', '.join(cognito_set)} need MLFLOW_GATE_AUTH_MODE=bearer.")
    if problems:
        raise MlflowGateConfigError(problems)
    return GateAuthConfig(
        mode=mode,
        region=region,
        profile=get("AWS_PROFILE"),
        role_arn=role_arn,
        external_id=external_id,
        role_session_name=session_name,
        duration_seconds=duration,
        cognito_client_id=client_id,
        cognito_endpoint=endpoint,
        cognito_username=username,
        cognito_password=password,
        cognito_refresh_token=refresh_token,
    )


def logins_file(env: Mapping[str, str]) -> str:
    """Where `mlflow-gate login` keeps refresh tokens: $XDG_CONFIG_HOME/mlflow-gate/logins.json, else ~/.config/..."""
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(base, "mlflow-gate", "logins.json")


def _saved_login(env: Mapping[str, str], client_id: Optional[str]):
    """The saved sign-in of the app client (or the only one saved), and a problem if the file cannot be trusted."""
    path = logins_file(env)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None, None
    if mode & 0o077:
        return None, f"{path} may be read by others: chmod 600 it, or sign in again (mlflow-gate login)."
    try:
        with open(path, encoding="utf-8") as f:
            logins = json.load(f).get("logins", {})
    except (OSError, ValueError, AttributeError) as e:
        return None, f"{path} cannot be read ({type(e).__name__}): remove it and sign in again (mlflow-gate login)."
    if not isinstance(logins, dict):
        return None, f"{path} holds no logins: remove it and sign in again (mlflow-gate login)."
    if client_id is not None:
        return logins.get(client_id), None
    if len(logins) == 1:
        return next(iter(logins.values())), None
    return None, None


def _bearer_problems(role_arn, region, client_id, endpoint, username, password, refresh_token):
    problems = []
    if role_arn is not None:
        problems.append("MLFLOW_GATE_ASSUME_ROLE_ARN is for MLFLOW_GATE_AUTH_MODE=sigv4; bearer mode signs in to Cognito instead.")
    if client_id is None:
        problems.append("MLFLOW_GATE_AUTH_MODE=bearer needs MLFLOW_GATE_COGNITO_CLIENT_ID (the user pool's app client id).")
    elif not COGNITO_CLIENT_ID.match(client_id):
        problems.append("MLFLOW_GATE_COGNITO_CLIENT_ID must be letters, digits, _ and +.")
    with_password = username is not None or password is not None
    if with_password and refresh_token is not None:
        problems.append("Set either MLFLOW_GATE_COGNITO_USERNAME and MLFLOW_GATE_COGNITO_PASSWORD, or MLFLOW_GATE_COGNITO_REFRESH_TOKEN, not both.")
    elif with_password and (username is None or password is None):
        problems.append("MLFLOW_GATE_COGNITO_USERNAME and MLFLOW_GATE_COGNITO_PASSWORD go together.")
    elif not with_password and refresh_token is None:
        problems.append("MLFLOW_GATE_AUTH_MODE=bearer needs a sign-in: run `mlflow-gate login USER` once, or set MLFLOW_GATE_COGNITO_USERNAME and MLFLOW_GATE_COGNITO_PASSWORD, or MLFLOW_GATE_COGNITO_REFRESH_TOKEN.")
    if endpoint is None and region is None:
        problems.append("MLFLOW_GATE_AUTH_MODE=bearer needs the user pool's region (MLFLOW_GATE_REGION) or MLFLOW_GATE_COGNITO_ENDPOINT.")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        # A password or token never crosses the network in clear: http only to this machine.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"MLFLOW_GATE_COGNITO_ENDPOINT must be an http(s) URL, not '{endpoint[:200]}'.")
        elif parts.scheme == "http" and not _is_loopback(parts.hostname):
            problems.append("MLFLOW_GATE_COGNITO_ENDPOINT may use http only on loopback (a local pool); use https.")
    return problems
