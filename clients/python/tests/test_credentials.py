"""load_signing_identity: botocore's chain, clear errors, role assumption (STS stubbed: no network)."""

import datetime
import os
import unittest
from unittest import mock

import botocore.session
from botocore.stub import Stubber

from mlflow_gate_auth.config import GateAuthConfig, parse_config
from mlflow_gate_auth.credentials import AssumedRoleCredentials, load_signing_identity
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

    def test_a_role_is_assumed_on_first_use_not_at_construction(self):
        with mock.patch.dict(os.environ, KEYS_ENV, clear=True):
            session = botocore.session.Session()
            with mock.patch.object(session, "create_client", side_effect=AssertionError("no STS call at construction")):
                identity = load_signing_identity(parse_config({"MLFLOW_GATE_REGION": "eu-west-1", "MLFLOW_GATE_ASSUME_ROLE_ARN": ROLE}), session)
        self.assertIsInstance(identity.credentials, AssumedRoleCredentials)
        self.assertEqual(identity.credentials.method, "assume-role")


def stubbed_sts():
    client = botocore.session.Session().create_client("sts", region_name="eu-west-1", aws_access_key_id="AKIDSTUB", aws_secret_access_key="stub")
    return client, Stubber(client)


def sts_answer(key, seconds):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "secret-" + key, "SessionToken": "token-" + key, "Expiration": expiration}, "AssumedRoleUser": {"Arn": ROLE, "AssumedRoleId": "AROAEXAMPLE:ci-job"}}


class AssumedRoleTest(unittest.TestCase):
    """Role assumption against botocore's Stubber (no network): parameters, renewal windows, errors."""

    def identity(self, client, env):
        with mock.patch.dict(os.environ, KEYS_ENV, clear=True):
            session = botocore.session.Session()
            identity = load_signing_identity(parse_config({"MLFLOW_GATE_REGION": "eu-west-1", "MLFLOW_GATE_ASSUME_ROLE_ARN": ROLE, **env}), session)
        self.created = []

        def create_client(service, **kwargs):
            self.created.append((service, kwargs))
            return client

        session.create_client = create_client
        return identity

    def test_assumes_with_the_source_keys_and_the_configured_parameters(self):
        client, stub = stubbed_sts()
        stub.add_response("assume_role", sts_answer("ASIAFIRST0000000", 3600), {"RoleArn": ROLE, "RoleSessionName": "ci-job", "ExternalId": "ext-123", "DurationSeconds": 900})
        identity = self.identity(client, {"MLFLOW_GATE_EXTERNAL_ID": "ext-123", "MLFLOW_GATE_ROLE_SESSION_NAME": "ci-job", "MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS": "900"})
        with stub:
            frozen = identity.credentials.get_frozen_credentials()
            again = identity.credentials.get_frozen_credentials()
        stub.assert_no_pending_responses()
        self.assertEqual((frozen.access_key, frozen.token), ("ASIAFIRST0000000", "token-ASIAFIRST0000000"))
        self.assertEqual(again, frozen)
        self.assertEqual(self.created, [("sts", {"region_name": "eu-west-1", "aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret", "aws_session_token": None})])
        # An hour-long session keeps botocore's windows: renewal 15 (advisory) and 10 (mandatory) minutes before expiry.
        self.assertEqual(identity.credentials._advisory_refresh_timeout, 900)
        self.assertAlmostEqual(identity.credentials._mandatory_refresh_timeout, 600, delta=1)

    def test_a_short_session_is_renewed_before_it_expires_not_on_every_request(self):
        client, stub = stubbed_sts()
        stub.add_response("assume_role", sts_answer("ASIAFIRST0000000", 60))
        stub.add_response("assume_role", sts_answer("ASIASECOND000000", 60))
        identity = self.identity(client, {})
        credentials = identity.credentials
        with stub:
            self.assertEqual(credentials.get_frozen_credentials().access_key, "ASIAFIRST0000000")
            # A third of 60 s before expiry (advisory), a sixth (mandatory).
            self.assertAlmostEqual(credentials._advisory_refresh_timeout, 20, delta=1)
            self.assertAlmostEqual(credentials._mandatory_refresh_timeout, 10, delta=1)
            # 30 s in: still the first session, no STS call (the stub would fail on an unexpected one).
            start = datetime.datetime.now(datetime.timezone.utc)
            credentials._time_fetcher = lambda: start + datetime.timedelta(seconds=30)
            self.assertEqual(credentials.get_frozen_credentials().access_key, "ASIAFIRST0000000")
            # 52 s in: inside the mandatory window, renewed before expiry.
            credentials._time_fetcher = lambda: start + datetime.timedelta(seconds=52)
            self.assertEqual(credentials.get_frozen_credentials().access_key, "ASIASECOND000000")
        stub.assert_no_pending_responses()

    def test_invalidated_credentials_are_assumed_again_on_next_use(self):
        client, stub = stubbed_sts()
        stub.add_response("assume_role", sts_answer("ASIAFIRST0000000", 3600))
        stub.add_response("assume_role", sts_answer("ASIASECOND000000", 3600))
        credentials = self.identity(client, {}).credentials
        with stub:
            self.assertEqual(credentials.get_frozen_credentials().access_key, "ASIAFIRST0000000")
            credentials.invalidate()
            self.assertEqual(credentials.get_frozen_credentials().access_key, "ASIASECOND000000")
        stub.assert_no_pending_responses()

    def test_access_denied_names_the_role_and_what_to_check(self):
        client, stub = stubbed_sts()
        stub.add_client_error("assume_role", service_error_code="AccessDenied", service_message=f"User: arn:aws:iam::123456789012:user/ds is not authorized to perform: sts:AssumeRole on resource: {ROLE}", http_status_code=403)
        identity = self.identity(client, {})
        with stub, self.assertRaises(MlflowGateCredentialsError) as caught:
            identity.credentials.get_frozen_credentials()
        self.assertIn(f"could not assume the role {ROLE}: AccessDenied: User: arn:aws:iam::123456789012:user/ds is not authorized", caught.exception.message)
        self.assertIn("trust policy, the ExternalId", caught.exception.message)


if __name__ == "__main__":
    unittest.main()
