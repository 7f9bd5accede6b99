"""GateSigV4Auth: what it signs, what it sends, and what it leaves alone. No network."""

import io
import json
import unittest

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from mlflow_gate_auth.auth import GateSigV4Auth, canonicalize_query, name_gateway_refusal, origin_of

GATEWAY = "http://127.0.0.1:8080"
KEYS = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)


def prepare(method, url, **kwargs):
    return requests.Request(method, url, **kwargs).prepare()


def signed(request, credentials=KEYS):
    return GateSigV4Auth(lambda: credentials, "us-east-1", [origin_of(GATEWAY)])(request)


def body_bytes(request):
    body = request.body
    if hasattr(body, "read"):
        position = body.tell()
        data = body.read()
        body.seek(position)
        return data
    return body if isinstance(body, bytes) else b""


def expected_signature(request, credentials=KEYS):
    """botocore's signature of exactly what would be sent: the URL, the signed headers, the body bytes."""
    authorization = request.headers["Authorization"]
    names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {n: request.headers[n] for n in names if n != "host"}
    aws = AWSRequest(method=request.method, url=request.url, data=body_bytes(request), headers=headers)
    aws.context["timestamp"] = request.headers["X-Amz-Date"]
    signer = SigV4Auth(credentials, "execute-api", "us-east-1")
    return signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)


def signature_of(request):
    return request.headers["Authorization"].split("Signature=")[1]


class CanonicalQueryTest(unittest.TestCase):
    def test_plus_is_a_space_sent_as_percent_20(self):
        self.assertEqual(canonicalize_query("filter=tag.%60mlflow.prompt.is_prompt%60+%21%3D+%27true%27"), "filter=tag.%60mlflow.prompt.is_prompt%60%20%21%3D%20%27true%27")

    def test_repeated_keys_and_their_order_are_kept(self):
        self.assertEqual(canonicalize_query("run_id=b&run_id=a&k=v"), "run_id=b&run_id=a&k=v")

    def test_reserved_characters_are_encoded_and_unreserved_kept(self):
        self.assertEqual(canonicalize_query("path=a/b c~d_e.f-g&flag"), "path=a%2Fb%20c~d_e.f-g&flag=")


class SigningTest(unittest.TestCase):
    def test_a_get_with_a_space_and_a_repeated_key_is_sent_as_signed(self):
        r = signed(prepare("GET", f"{GATEWAY}/api/2.0/mlflow/x", params=[("q", "a b"), ("q", "c")]))
        self.assertEqual(r.url, f"{GATEWAY}/api/2.0/mlflow/x?q=a%20b&q=c")
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_json_bytes_body_is_hashed(self):
        r = signed(prepare("POST", f"{GATEWAY}/api/2.0/mlflow/runs/create", json={"experiment_id": "1"}))
        self.assertIn("content-type", r.headers["Authorization"])
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_a_str_body_is_sent_as_the_utf8_bytes_signed(self):
        r = signed(prepare("POST", f"{GATEWAY}/api/x", data="héllo"))
        self.assertEqual(r.body, "héllo".encode())
        self.assertEqual(r.headers["Content-Length"], str(len("héllo".encode())))
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_a_file_body_is_hashed_from_its_position_and_rewound(self):
        file = io.BytesIO(b"skip" + bytes(range(256)) * 5000)
        file.seek(4)
        r = signed(prepare("PUT", f"{GATEWAY}/api/2.0/mlflow-artifacts/artifacts/a.bin", data=file))
        self.assertIs(r.body, file)
        self.assertEqual(file.tell(), 4)
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_a_text_file_body_is_sent_as_the_utf8_bytes_signed(self):
        r = signed(prepare("PUT", f"{GATEWAY}/api/x", data=io.StringIO("héllo")))
        self.assertEqual(r.body, "héllo".encode())
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_a_generator_body_is_buffered_and_sent_with_a_length(self):
        r = signed(prepare("PUT", f"{GATEWAY}/api/x", data=(c for c in [b"ab", "cd", b"ef"])))
        self.assertEqual(r.body, b"abcdef")
        self.assertNotIn("Transfer-Encoding", r.headers)
        self.assertEqual(r.headers["Content-Length"], "6")
        self.assertEqual(signature_of(r), expected_signature(r))

    def test_credentials_are_read_per_request(self):
        rotating = iter([KEYS, ReadOnlyCredentials("AKIDSECOND", "secret2", "session-token")])
        auth = GateSigV4Auth(lambda: next(rotating), "us-east-1", [origin_of(GATEWAY)])
        first = auth(prepare("GET", f"{GATEWAY}/api/x"))
        second = auth(prepare("GET", f"{GATEWAY}/api/x"))
        self.assertIn("Credential=AKIDEXAMPLE/", first.headers["Authorization"])
        self.assertNotIn("X-Amz-Security-Token", first.headers)
        self.assertIn("Credential=AKIDSECOND/", second.headers["Authorization"])
        self.assertEqual(second.headers["X-Amz-Security-Token"], "session-token")
        self.assertIn("x-amz-security-token", second.headers["Authorization"])

    def test_hop_by_hop_and_client_headers_are_not_signed(self):
        r = signed(prepare("GET", f"{GATEWAY}/api/x", headers={"Connection": "keep-alive", "User-Agent": "mlflow", "Accept": "*/*", "X-Amz-Meta": "1"}))
        names = r.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
        self.assertEqual(names, "host;x-amz-date;x-amz-meta")

    def test_no_credentials_is_a_clear_error(self):
        from mlflow_gate_auth.errors import MlflowGateCredentialsError

        with self.assertRaisesRegex(MlflowGateCredentialsError, "AWS_PROFILE.*AWS_ACCESS_KEY_ID"):
            signed(prepare("GET", f"{GATEWAY}/api/x"), credentials=None)


class OtherHostsTest(unittest.TestCase):
    def test_requests_to_other_hosts_are_not_signed(self):
        for url in ["http://127.0.0.1:9999/api/x?q=a+b", "https://127.0.0.1:8080/api/x", "http://example.com/api/x", "https://bucket.s3.amazonaws.com/k"]:
            with self.subTest(url=url):
                r = signed(prepare("PUT", url, data=b"secret"))
                self.assertNotIn("Authorization", r.headers)
                self.assertNotIn("X-Amz-Date", r.headers)
                self.assertEqual(r.url, prepare("PUT", url).url)

    def test_default_ports_are_the_same_origin(self):
        self.assertEqual(origin_of("https://Gw.example.com/x"), origin_of("https://gw.example.com:443/y"))
        self.assertIsNone(origin_of("file:///tmp/mlruns"))


class GatewayRefusalTest(unittest.TestCase):
    def response(self, status, body):
        r = requests.Response()
        r.status_code = status
        r._content = body
        return r

    def test_a_refused_session_token_asks_for_new_credentials_and_other_refusals_do_not(self):
        stale = []
        auth = GateSigV4Auth(lambda: KEYS, "us-east-1", [origin_of(GATEWAY)], on_stale_credentials=lambda: stale.append(1))
        request = auth(prepare("GET", f"{GATEWAY}/api/x"))
        for status, message in [(403, "User is not authorized to access this resource"), (401, "The security token included in the request is invalid."), (403, "The security token included in the request is invalid."), (403, "The security token included in the request is expired")]:
            request.hooks["response"][0](self.response(status, json.dumps({"message": message}).encode()))
        self.assertEqual(len(stale), 2)

    def test_a_gateway_403_gets_mlflows_permission_denied_code(self):
        r = name_gateway_refusal(self.response(403, b'{"message":"User is not authorized to access this resource"}'))
        self.assertEqual(json.loads(r.content), {"error_code": "PERMISSION_DENIED", "message": "User is not authorized to access this resource"})

    def test_an_iam_denial_in_aws_wording_gets_permission_denied_naming_the_role_and_action(self):
        denial = "User: arn:aws:sts::123456789012:assumed-role/MlflowReader/s1 is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/api/2.0/mlflow/experiments/create"
        r = name_gateway_refusal(self.response(403, json.dumps({"Message": denial}).encode()))
        self.assertEqual(json.loads(r.content), {"error_code": "PERMISSION_DENIED", "message": denial})

    def test_a_stale_session_is_seen_in_either_key(self):
        stale = []
        auth = GateSigV4Auth(lambda: KEYS, "us-east-1", [origin_of(GATEWAY)], on_stale_credentials=lambda: stale.append(1))
        request = auth(prepare("GET", f"{GATEWAY}/api/x"))
        request.hooks["response"][0](self.response(403, b'{"Message":"The security token included in the request is expired"}'))
        self.assertEqual(stale, [1])

    def test_mlflows_own_errors_and_other_statuses_are_left_alone(self):
        own = b'{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"x"}'
        self.assertEqual(name_gateway_refusal(self.response(403, own)).content, own)
        self.assertEqual(name_gateway_refusal(self.response(404, b'{"message":"x"}')).content, b'{"message":"x"}')
        self.assertEqual(name_gateway_refusal(self.response(401, b"not json")).content, b"not json")


if __name__ == "__main__":
    unittest.main()
