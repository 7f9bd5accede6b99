"""Sends one request signed with botocore's SigV4Auth (which hashes the real body) as the AWS profile
in the environment; prints {"status": int, "body": str}. argv: METHOD URL [BODY]."""

import json
import os
import sys

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


def main():
    method, url = sys.argv[1], sys.argv[2]
    body = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    session = boto3.Session()
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/octet-stream"})
    SigV4Auth(session.get_credentials(), "execute-api", session.region_name or os.environ.get("AWS_REGION", "us-east-1")).add_auth(request)
    prepared = request.prepare()
    response = requests.request(method, prepared.url, headers=dict(prepared.headers), data=body, timeout=60)
    json.dump({"status": response.status_code, "body": response.text}, sys.stdout)


if __name__ == "__main__":
    main()
