"""The timed half of `npm run bench:artifacts`: one transfer of a file, printed as JSON {"seconds": ...}.

sdk-upload RUN_ID FILE      MlflowClient.log_artifact (the environment selects the plugin and a profile)
sdk-download RUN_ID DEST    MlflowClient.download_artifacts of the file logged above
plain-upload URL FILE       boto3's upload_file straight to the S3 emulator (its default transfer settings)
plain-download URL DEST     boto3's download_file of that object
"""

import json
import os
import sys
import time

BUCKET_KEY = ("mlflow-gate-artifacts", "bench/plain-copy.bin")


def main(op, target, path):
    if op.startswith("sdk-"):
        from mlflow import MlflowClient

        client = MlflowClient()
        began = time.monotonic()
        if op == "sdk-upload":
            client.log_artifact(target, path, "bench")
        else:
            client.download_artifacts(target, f"bench/{os.path.basename(path)}", os.path.dirname(path))
    else:
        import boto3

        s3 = boto3.client("s3", endpoint_url=target, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
        began = time.monotonic()
        if op == "plain-upload":
            s3.upload_file(path, *BUCKET_KEY)
        else:
            s3.download_file(*BUCKET_KEY, path)
    print(json.dumps({"seconds": time.monotonic() - began}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
