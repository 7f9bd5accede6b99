"""Calls the local STS with boto3 as the AWS profile (or keys) in the environment; prints one JSON result.

argv[1]: {"op": "assume_role" | "get_caller_identity", "kwargs": {...}}. The STS endpoint comes from
the profile's `services` section of the generated AWS config, as for any boto3 user.
Output: {"ok": true, "value": {...}} or {"ok": false, "code": str, "message": str, "status": int}.
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError


def main():
    request = json.loads(sys.argv[1])
    sts = boto3.Session().client("sts")
    try:
        value = getattr(sts, request["op"])(**request.get("kwargs", {}))
    except ClientError as e:
        error = e.response["Error"]
        json.dump({"ok": False, "code": error.get("Code"), "message": error.get("Message"), "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}, sys.stdout)
        return
    value.pop("ResponseMetadata", None)
    json.dump({"ok": True, "value": value}, sys.stdout, default=lambda v: v.isoformat())


if __name__ == "__main__":
    main()
