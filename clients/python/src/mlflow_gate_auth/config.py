"""The plugin's configuration, read from the environment in one place and validated at once."""

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from mlflow_gate_auth.errors import MlflowGateConfigError

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
ROLE_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


@dataclass(frozen=True)
class GateAuthConfig:
    """What the signer needs; hashable, so one signer is kept per distinct configuration."""

    #: MLFLOW_GATE_REGION, else AWS_REGION, else AWS_DEFAULT_REGION; None: the profile's region.
    region: Optional[str] = None
    #: AWS_PROFILE, only to tell configurations apart (botocore reads it itself).
    profile: Optional[str] = None
    role_arn: Optional[str] = None
    external_id: Optional[str] = None
    #: None: the signer picks one (the same for the life of the process).
    role_session_name: Optional[str] = None


def parse_config(env: Mapping[str, str]) -> GateAuthConfig:
    """Reads MLFLOW_GATE_* (and the AWS region variables); raises MlflowGateConfigError listing every problem."""

    def get(name):
        value = env.get(name, "").strip()
        return value or None

    role_arn = get("MLFLOW_GATE_ASSUME_ROLE_ARN")
    external_id = get("MLFLOW_GATE_EXTERNAL_ID")
    session_name = get("MLFLOW_GATE_ROLE_SESSION_NAME")
    problems = []
    if role_arn is not None and not ROLE_ARN.match(role_arn):
        problems.append(f"MLFLOW_GATE_ASSUME_ROLE_ARN must be an IAM role ARN (arn:aws:iam::123456789012:role/name), not '{role_arn[:200]}'.")
    if role_arn is None and (external_id is not None or session_name is not None):
        problems.append("MLFLOW_GATE_EXTERNAL_ID and MLFLOW_GATE_ROLE_SESSION_NAME need MLFLOW_GATE_ASSUME_ROLE_ARN.")
    if external_id is not None and not EXTERNAL_ID.match(external_id):
        problems.append("MLFLOW_GATE_EXTERNAL_ID must be 2 to 1224 characters of letters, digits and +=,.@:/-_.")
    if session_name is not None and not ROLE_SESSION_NAME.match(session_name):
        problems.append(f"MLFLOW_GATE_ROLE_SESSION_NAME must be 2 to 64 characters of letters, digits and +=,.@-_, not '{session_name[:100]}'.")
    if problems:
        raise MlflowGateConfigError(problems)
    return GateAuthConfig(
        region=get("MLFLOW_GATE_REGION") or get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
        profile=get("AWS_PROFILE"),
        role_arn=role_arn,
        external_id=external_id,
        role_session_name=session_name,
    )
