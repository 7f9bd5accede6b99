"""Every error the plugin raises. They are MlflowExceptions, so MLflow shows their message as is."""

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, UNAUTHENTICATED


class MlflowGateAuthError(MlflowException):
    """Base class of the plugin's errors."""


class MlflowGateConfigError(MlflowGateAuthError):
    """The MLFLOW_GATE_* environment is invalid; the message lists every problem at once."""

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("mlflow-gate-auth: invalid configuration: " + " ".join(self.problems), error_code=INVALID_PARAMETER_VALUE)


class MlflowGateCredentialsError(MlflowGateAuthError):
    """No AWS credentials (or no region) could be found to sign with."""

    def __init__(self, message):
        super().__init__(message, error_code=UNAUTHENTICATED)
