"""Large artifacts: the plugin makes MLflow send files of 8 MiB and more in parts to presigned S3 URLs."""

import os
import unittest
from unittest import mock

from mlflow_gate_auth import large_artifacts
from mlflow_gate_auth.large_artifacts import (
    API_PAYLOAD_LIMIT,
    MULTIPART_UPLOAD_MINIMUM,
    apply_large_artifact_settings,
    large_artifact_settings,
)

KEYS_ENV = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "MLFLOW_GATE_REGION": "us-east-1"}


class SettingsTest(unittest.TestCase):
    def test_the_threshold_is_under_the_apis_limit(self):
        self.assertLess(MULTIPART_UPLOAD_MINIMUM, API_PAYLOAD_LIMIT)
        # S3's smallest part (5 MiB) is below it, so a file at the threshold is one valid part.
        self.assertGreaterEqual(MULTIPART_UPLOAD_MINIMUM, 5 * 1024 * 1024)

    def test_unset_gets_the_plugins_threshold(self):
        self.assertEqual(large_artifact_settings({}), ({"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": str(MULTIPART_UPLOAD_MINIMUM)}, []))

    def test_a_lower_value_of_the_user_is_kept_silently(self):
        self.assertEqual(large_artifact_settings({"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": "6000000"}), ({}, []))

    def test_a_value_at_or_over_the_limit_or_not_a_number_is_kept_with_a_warning(self):
        for raw in (str(API_PAYLOAD_LIMIT), "524288000", "10MB"):
            settings, warnings = large_artifact_settings({"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": raw})
            self.assertEqual(settings, {})
            self.assertEqual(len(warnings), 1)
            self.assertIn("refuses bodies over 10 MB", warnings[0])

    def test_proxied_multipart_upload_turned_off_is_warned_about(self):
        _, warnings = large_artifact_settings({"MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": "false"})
        self.assertEqual(len(warnings), 1)
        self.assertIn("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD is off", warnings[0])


class ApplyTest(unittest.TestCase):
    def setUp(self):
        large_artifacts._applied = False

    def tearDown(self):
        large_artifacts._applied = False

    def test_never_overrides_the_user_and_runs_once(self):
        env = {"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": "6000000"}
        apply_large_artifact_settings(env)
        self.assertEqual(env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"], "6000000")
        other = {}
        apply_large_artifact_settings(other)
        self.assertEqual(other, {})

    def test_warnings_are_logged(self):
        with self.assertLogs("mlflow_gate_auth.large_artifacts", level="WARNING") as logs:
            apply_large_artifact_settings({"MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE": "524288000"})
        self.assertIn("524288000", logs.output[0])

    def test_mlflow_reads_the_threshold_once_the_plugin_gave_its_first_auth(self):
        # MLflow reads the variable when it decides how to upload, after the request that found the run.
        from mlflow.environment_variables import MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE
        from mlflow.tracking.request_auth.registry import fetch_auth

        with mock.patch.dict(os.environ, {**KEYS_ENV, "MLFLOW_TRACKING_URI": "https://mlflow.example.com/"}, clear=True):
            self.assertEqual(MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE.get(), 500 * 1024 * 1024)
            fetch_auth("mlflow-gate")
            self.assertEqual(MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE.get(), MULTIPART_UPLOAD_MINIMUM)


if __name__ == "__main__":
    unittest.main()
