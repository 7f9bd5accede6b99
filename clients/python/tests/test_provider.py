"""MlflowGateAuthProvider: found by MLflow under MLFLOW_TRACKING_AUTH=mlflow-gate, signing only the tracking host."""

import os
import unittest
from unittest import mock

from mlflow_gate_auth.auth import GateSigV4Auth

KEYS_ENV = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


class ProviderTest(unittest.TestCase):
    def test_mlflow_finds_the_plugin_by_name_and_it_signs_only_the_tracking_host(self):
        from mlflow.tracking.request_auth.registry import fetch_auth

        with mock.patch.dict(os.environ, {**KEYS_ENV, "MLFLOW_GATE_REGION": "us-east-1", "MLFLOW_TRACKING_URI": "https://mlflow.example.com/"}, clear=True):
            auth = fetch_auth("mlflow-gate")
        self.assertIsInstance(auth, GateSigV4Auth)
        self.assertEqual(auth._origins, {("https", "mlflow.example.com", 443)})


    def test_a_client_built_for_another_server_gets_that_servers_credentials(self):
        # What MLflow does for MlflowClient(tracking_uri=...): rest_utils.http_request(host_creds, ...) asks
        # fetch_auth for the auth, with the client's own host in host_creds.
        from mlflow.tracking.request_auth.registry import fetch_auth
        from mlflow.utils.rest_utils import MlflowHostCreds

        def http_request(host_creds):
            return fetch_auth(host_creds.auth)

        with mock.patch.dict(os.environ, {**KEYS_ENV, "MLFLOW_GATE_REGION": "us-east-1"}, clear=True):
            auth = http_request(MlflowHostCreds("https://gateway.example.com/prod", auth="mlflow-gate"))
        self.assertIsInstance(auth, GateSigV4Auth)
        self.assertIn(("https", "gateway.example.com", 443), auth._origins)

    def test_an_artifact_repositorys_credentials_name_the_server_below_its_api_paths(self):
        from mlflow.tracking.request_auth.registry import fetch_auth
        from mlflow.utils.rest_utils import MlflowHostCreds

        from mlflow_gate_auth.bearer import GateBearerAuth

        def http_request(host_creds):
            return fetch_auth(host_creds.auth)

        env = {"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "rt", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://127.0.0.1:1"}
        with mock.patch.dict(os.environ, env, clear=True):
            auth = http_request(MlflowHostCreds("https://gateway.example.com/prod/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts", auth="mlflow-gate"))
        self.assertIsInstance(auth, GateBearerAuth)
        self.assertIn((("https", "gateway.example.com", 443), "/prod"), auth._targets)

    def test_an_artifact_repositorys_credentials_in_a_team_keep_the_teams_path_even_a_team_named_api(self):
        from mlflow.tracking.request_auth.registry import fetch_auth
        from mlflow.utils.rest_utils import MlflowHostCreds

        def http_request(host_creds):
            return fetch_auth(host_creds.auth)

        env = {"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "rt", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://127.0.0.1:1"}
        origin = ("https", "gateway.example.com", 443)
        for team in ("team-a", "api", "ajax-api"):
            # An artifact path, and the base of the multipart and presigned routes (the URI before /mlflow-artifacts/).
            for host in (f"https://gateway.example.com/prod/ws/{team}/api/2.0/mlflow-artifacts/artifacts/workspaces/{team}/1/abc/artifacts", f"https://gateway.example.com/prod/ws/{team}/api/2.0"):
                with self.subTest(host=host), mock.patch.dict(os.environ, env, clear=True):
                    auth = http_request(MlflowHostCreds(host, auth="mlflow-gate"))
                    self.assertIn((origin, f"/prod/ws/{team}"), auth._targets)

    def test_bearer_mode_gives_a_bearer_auth_for_the_tracking_uri_without_signing_in_yet(self):
        from mlflow.tracking.request_auth.registry import fetch_auth

        from mlflow_gate_auth.bearer import GateBearerAuth

        env = {"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "rt", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://127.0.0.1:1", "MLFLOW_TRACKING_URI": "https://mlflow.example.com/prod/"}
        with mock.patch.dict(os.environ, env, clear=True):
            auth = fetch_auth("mlflow-gate")
        self.assertIsInstance(auth, GateBearerAuth)
        self.assertEqual(auth._targets, {(("https", "mlflow.example.com", 443), "/prod")})

    def test_bearer_mode_refuses_a_plain_http_tracking_uri_off_this_machine_and_allows_loopback(self):
        from mlflow.tracking.request_auth.registry import fetch_auth

        from mlflow_gate_auth.bearer import GateBearerAuth
        from mlflow_gate_auth.errors import MlflowGateConfigError

        env = {"MLFLOW_GATE_AUTH_MODE": "bearer", "MLFLOW_GATE_COGNITO_CLIENT_ID": "abc123", "MLFLOW_GATE_COGNITO_REFRESH_TOKEN": "secret-rt", "MLFLOW_GATE_COGNITO_ENDPOINT": "http://127.0.0.1:1"}
        with mock.patch.dict(os.environ, {**env, "MLFLOW_TRACKING_URI": "http://mlflow.example.com/prod"}, clear=True):
            with self.assertRaises(MlflowGateConfigError) as refused:
                fetch_auth("mlflow-gate")
        self.assertIn("http://mlflow.example.com must use https", str(refused.exception))
        self.assertNotIn("secret-rt", str(refused.exception))
        with mock.patch.dict(os.environ, {**env, "MLFLOW_TRACKING_URI": "http://127.0.0.1:8080"}, clear=True):
            self.assertIsInstance(fetch_auth("mlflow-gate"), GateBearerAuth)


if __name__ == "__main__":
    unittest.main()
