"""load_signing_identity: botocore's chain, clear errors, role assumption (construction only: no STS call)."""

import os
import unittest
from unittest import mock

import botocore.session
from botocore.credentials import DeferredRefreshableCredentials

from mlflow_gate_auth.config import GateAuthConfig, parse_config
from mlflow_gate_auth.credentials import load_signing_identity
from mlflow_gate_auth.errors import MlflowGateCredentialsError

ROLE = "arn:aws:iam::123456789012:role/mlflow-reader"
# No profile, no keys, no container or instance role: botocore's chain finds nothing.
EMPTY_AWS_ENV = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"}
KEYS_ENV = {**EMPTY_AWS_ENV, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


class CredentialsTest(unittest.TestCase):
    def test_no_credentials_names_what_to_set(self):
        with mock.patch.dict(os.environ, EMPTY_AWS_ENV, clear=True):
            with self.assertRaisesRegex(MlflowGateCredentialsError, "AWS_PROFILE.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
                load_signing_identity(GateAuthConfig(region="us-east-1"), botocore.session.Session())

    def test_an_unknown_profile_is_a_clear_error(self):
        with mock.patch.dict(os.environ, {**EMPTY_AWS_ENV, "AWS_PROFILE": "nope"}, clear=True):
            with self.assertRaisesRegex(MlflowGateCredentialsError, "could not load AWS credentials: .*nope"):
                load_signing_identity(GateAuthConfig(region="us-east-1"), botocore.session.Session())

    def test_no_region_names_what_to_set(self):
        with mock.patch.dict(os.environ, KEYS_ENV, clear=True):
            with self.assertRaisesRegex(MlflowGateCredentialsError, "MLFLOW_GATE_REGION"):
                load_signing_identity(GateAuthConfig(), botocore.session.Session())

    def test_env_keys_sign_in_the_configured_region(self):
        with mock.patch.dict(os.environ, KEYS_ENV, clear=True):
            identity = load_signing_identity(parse_config({"MLFLOW_GATE_REGION": "eu-west-1"}), botocore.session.Session())
        self.assertEqual(identity.region, "eu-west-1")
        self.assertEqual(identity.credentials.get_frozen_credentials().access_key, "AKIDEXAMPLE")

    def test_a_role_is_assumed_lazily_with_refreshable_credentials(self):
        with mock.patch.dict(os.environ, KEYS_ENV, clear=True):
            session = botocore.session.Session()
            with mock.patch.object(session, "create_client", side_effect=AssertionError("no STS call at construction")):
                config = parse_config({"MLFLOW_GATE_REGION": "eu-west-1", "MLFLOW_GATE_ASSUME_ROLE_ARN": ROLE, "MLFLOW_GATE_EXTERNAL_ID": "ext-123", "MLFLOW_GATE_ROLE_SESSION_NAME": "ci-job"})
                identity = load_signing_identity(config, session)
        self.assertIsInstance(identity.credentials, DeferredRefreshableCredentials)
        self.assertEqual(identity.credentials.method, "assume-role")
        fetcher = identity.credentials._refresh_using.__self__
        self.assertEqual(fetcher._role_arn, ROLE)
        self.assertEqual(fetcher._assume_kwargs, {"RoleArn": ROLE, "RoleSessionName": "ci-job", "ExternalId": "ext-123"})
        self.assertEqual(fetcher._source_credentials.access_key, "AKIDEXAMPLE")


if __name__ == "__main__":
    unittest.main()
