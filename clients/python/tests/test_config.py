"""parse_config: where the region comes from, and every bad MLFLOW_GATE_* value reported at once."""

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


if __name__ == "__main__":
    unittest.main()
