"""parse_config: where the region comes from, and every bad MLFLOW_GATE_* value reported at once."""

import json
import os
import shutil
import tempfile
import unittest

from mlflow_gate_auth.config import parse_config
from mlflow_gate_auth.errors import MlflowGateConfigError


class ConfigTest(unittest.TestCase):
    def test_region_comes_from_mlflow_gate_region_first(self):
        self.assertEqual(parse_config({"MLFLOW_GATE_REGION": "eu-west-1", "AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-2"}).region, "eu-west-1")
        self.assertEqual(parse_config({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-2"}).region, "us-east-2")
        self.assertEqual(parse_config({"AWS_DEFAULT_REGION": "us-west-2"}).region, "us-west-2")
        self.assertIsNone(parse_config({}).region)

    def test_every_problem_is_reported_at_once(self):
        with self.assertRaises(MlflowGateConfigError) as caught:
            parse_config({"MLFLOW_GATE_ASSUME_ROLE_ARN": "mlflow-reader", "MLFLOW_GATE_EXTERNAL_ID": "x", "MLFLOW_GATE_ROLE_SESSION_NAME": "bad name"})
        self.assertEqual(len(caught.exception.problems), 3)
        self.assertIn("MLFLOW_GATE_ASSUME_ROLE_ARN must be an IAM role ARN", caught.exception.message)

    def test_external_id_without_a_role_is_refused(self):
        with self.assertRaisesRegex(MlflowGateConfigError, "need MLFLOW_GATE_ASSUME_ROLE_ARN"):
            parse_config({"MLFLOW_GATE_EXTERNAL_ID": "abc123"})


    def test_duration_within_sts_bounds(self):
        role = {"MLFLOW_GATE_ASSUME_ROLE_ARN": "arn:aws:iam::123456789012:role/r"}
        self.assertEqual(parse_config({**role, "MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS": "900"}).duration_seconds, 900)
        with self.assertRaisesRegex(MlflowGateConfigError, "from 900 to 43200"):
            parse_config({**role, "MLFLOW_GATE_ASSUME_ROLE_DURATION_SECONDS": "60"})


class BearerConfigTest(unittest.TestCase):
    BASE = {"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_REGION": "eu-west-1"}

    def test_username_and_password_or_a_refresh_token(self):
        c = parse_config({**self.BASE, "MLFLOW_GATE_COGNITO_USERNAME": "reader", "MLFLOW_GATE_COGNITO_PASSWORD": " p w "})
        self.assertEqual((c.mode, c.cognito_username, c.cognito_password), ("bearer", "reader", " p w "))
        self.assertNotIn("p w", repr(c))
        self.assertEqual(parse_config({**self.BASE, "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "rt"}).cognito_refresh_token, "rt")

    def test_every_bearer_problem_is_reported_at_once(self):
        with self.assertRaises(MlflowGateConfigError) as caught:
            parse_config({"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_USERNAME": "reader", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://cognito.example.com:9229", "MLFLOW_GATE_ASSUME_ROLE_ARN": "arn:aws:iam::123456789012:role/r"})
        message = caught.exception.message
        for part in ["MLFLOW_GATE_ASSUME_ROLE_ARN is for MLFLOW_GATE_AUTH_MODE=sigv4", "needs MLFLOW_GATE_COGNITO_CLIENT_ID", "USERNAME and MLFLOW_GATE_COGNITO_PASSWORD go together", "http only on loopback"]:
            self.assertIn(part, message)

    def test_a_local_pool_over_http_on_loopback_is_fine(self):
        self.assertEqual(parse_config({**self.BASE, "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "rt", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://127.0.0.1:9229"}).cognito_endpoint, "http://127.0.0.1:9229")

    def test_cognito_settings_without_bearer_mode_and_unknown_modes_are_refused(self):
        with self.assertRaisesRegex(MlflowGateConfigError, "MLFLOW_GATE_COGNITO_USERNAME need MLFLOW_GATE_AUTH_MODE=bearer"):
            parse_config({"MLFLOW_GATE_COGNITO_USERNAME": "reader"})
        with self.assertRaisesRegex(MlflowGateConfigError, "MLFLOW_GATE_AUTH_MODE must be one of sigv4, bearer"):
            parse_config({"MLFLOW_GATE_AUTH_MODE": "basic"})


class SavedLoginTest(unittest.TestCase):
    """The sign-in `mlflow-gate login` saved ($XDG_CONFIG_HOME/mlflow-gate/logins.json), used when no password or token is set."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.env = {"MLFLOW_GATE_AUTH_MODE": "bearer", "XDG_CONFIG_HOME": self.dir}
        self.file = os.path.join(self.dir, "mlflow-gate", "logins.json")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def save(self, logins, mode=0o600):
        os.makedirs(os.path.dirname(self.file), exist_ok=True)
        with open(self.file, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "logins": logins}, f)
        os.chmod(self.file, mode)

    LOCAL = {"username": "reader", "userPoolId": "local_1", "clientId": "abc123", "region": "us-east-1", "endpoint": "http://127.0.0.1:9229", "refreshToken": "rt-local"}

    def test_the_saved_refresh_token_endpoint_and_region_of_the_app_client_or_of_the_only_one(self):
        self.save({"abc123": self.LOCAL})
        for env in ({**self.env, "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123"}, self.env):
            c = parse_config(env)
            self.assertEqual((c.cognito_client_id, c.cognito_refresh_token, c.cognito_endpoint, c.region), ("abc123", "rt-local", "http://127.0.0.1:9229", "us-east-1"))
            self.assertNotIn("rt-local", repr(c))

    def test_a_password_set_wins_and_the_file_is_not_read(self):
        self.save({"abc123": self.LOCAL}, mode=0o644)
        c = parse_config({**self.env, "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_REGION": "us-east-1", "MLFLOW_GATE_COGNITO_USERNAME": "u", "MLFLOW_GATE_COGNITO_PASSWORD": "p"})
        self.assertIsNone(c.cognito_refresh_token)

    def test_a_file_others_may_read_is_refused_and_no_sign_in_names_the_command(self):
        self.save({"abc123": self.LOCAL}, mode=0o644)
        with self.assertRaisesRegex(MlflowGateConfigError, "may be read by others: chmod 600 it"):
            parse_config(self.env)
        os.remove(self.file)
        with self.assertRaisesRegex(MlflowGateConfigError, "run `mlflow-gate login USER` once"):
            parse_config({**self.env, "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_REGION": "us-east-1"})


if __name__ == "__main__":
    unittest.main()
