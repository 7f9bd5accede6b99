"""Signs requests with the real Python SigV4 signers and prints what would go on the wire, without sending.

Reads a JSON list of cases on stdin; writes a JSON list of results on stdout, one per case, in order:
  case:   {"id", "signer": "botocore" | "requests-auth-aws-sigv4", "method", "url",
           "params": [[key, value], ...] | null, "headers": {name: value} | null,
           "body_b64": str | null, "json": any | null, "access_key", "secret_key", "token": str | null,
           "timestamp": "yyyymmddThhmmssZ", "region", "service"}
  result: {"id", "method", "url", "headers": [[name, value], ...], "body_b64"} or {"id", "error"}

botocore: AWSRequest + SigV4Auth.add_auth, then prepare() (what boto3-based clients send).
requests-auth-aws-sigv4: the AWSSigV4 auth object MLflow uses when MLFLOW_TRACKING_AWS_SIGV4=true,
applied by a requests Session as MLflow's http_request does. Both clocks are pinned to `timestamp`.
"""

import base64
import datetime
import json
import sys
import traceback
import types

import botocore.auth
import requests
import requests_auth_aws_sigv4
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def pinned(timestamp):
    return datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")


def body_of(case):
    return base64.b64decode(case["body_b64"]) if case.get("body_b64") is not None else None


def wire_headers(headers, url):
    items = [[name, value if isinstance(value, str) else value.decode("latin-1")] for name, value in headers.items()]
    # The HTTP client adds Host when the signer did not (botocore signs the same value it would send).
    if not any(name.lower() == "host" for name, _ in items):
        items.insert(0, ["Host", botocore.auth._host_from_url(url)])
    return items


def encode_body(body):
    if body is None:
        return None
    return base64.b64encode(body if isinstance(body, bytes) else body.encode("utf-8")).decode("ascii")


def sign_botocore(case):
    botocore.auth.get_current_datetime = lambda *args, **kwargs: pinned(case["timestamp"])
    request = AWSRequest(
        method=case["method"],
        url=case["url"],
        data=body_of(case),
        headers=case.get("headers") or {},
        params=[tuple(p) for p in case["params"]] if case.get("params") else None,
    )
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    prepared = request.prepare()
    return {"method": prepared.method, "url": prepared.url, "headers": wire_headers(prepared.headers, prepared.url), "body_b64": encode_body(prepared.body)}


class _PinnedDatetime(datetime.datetime):
    at = None

    @classmethod
    def utcnow(cls):
        return cls.at


def sign_requests_auth(case):
    _PinnedDatetime.at = pinned(case["timestamp"])
    requests_auth_aws_sigv4.datetime = types.SimpleNamespace(datetime=_PinnedDatetime)
    auth = requests_auth_aws_sigv4.AWSSigV4(
        case["service"],
        region=case["region"],
        aws_access_key_id=case["access_key"],
        aws_secret_access_key=case["secret_key"],
        aws_session_token=case.get("token"),
    )
    request = requests.Request(
        case["method"],
        case["url"],
        params=[tuple(p) for p in case["params"]] if case.get("params") else None,
        data=body_of(case),
        json=case.get("json"),
        headers=case.get("headers") or {},
        auth=auth,
    )
    prepared = requests.Session().prepare_request(request)
    return {"method": prepared.method, "url": prepared.url, "headers": wire_headers(prepared.headers, prepared.url), "body_b64": encode_body(prepared.body)}


SIGNERS = {"botocore": sign_botocore, "requests-auth-aws-sigv4": sign_requests_auth}


def main():
    results = []
    for case in json.load(sys.stdin):
        try:
            results.append({"id": case["id"], **SIGNERS[case["signer"]](case)})
        except Exception:  # reported per case so one bad case does not hide the others
            results.append({"id": case["id"], "error": traceback.format_exc()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
