"""Large artifacts travel to and from S3 with presigned URLs, never through the API's 10 MB limit.

API Gateway refuses a request body over 10 MB (the quota cannot be raised), so an artifact upload of
that size through the API fails. MLflow's proxied multipart upload sends such a file in parts to
presigned S3 URLs that the tracking server hands out (`mlflow-artifacts/mpu/create`, which the gateway
allows only to groups that may write), and its proxied multipart download reads through a presigned
URL (`mlflow-artifacts/presigned`). MLflow turns both on by itself when the server stores artifacts in
S3 (its /server-info), but uploads in parts only from 500 MB: the plugin lowers that threshold.
"""

import logging

#: API Gateway's payload limit of a REST API (requests and buffered responses).
API_PAYLOAD_LIMIT = 10 * 1024 * 1024

#: Files of this size or more are uploaded in parts to presigned S3 URLs: under the API's limit, with
#: room for the request's headers and MLflow's own fields.
MULTIPART_UPLOAD_MINIMUM = 8 * 1024 * 1024

UPLOAD_MINIMUM_VARIABLE = "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"
PROXY_UPLOAD_VARIABLE = "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"

_logger = logging.getLogger(__name__)


def large_artifact_settings(environ):
    """What to add to the environment so that large files go to S3, and warnings about the user's own settings."""
    settings, warnings = {}, []
    raw = environ.get(UPLOAD_MINIMUM_VARIABLE, "").strip()
    if raw == "":
        settings[UPLOAD_MINIMUM_VARIABLE] = str(MULTIPART_UPLOAD_MINIMUM)
    elif not raw.isdigit() or int(raw) >= API_PAYLOAD_LIMIT:
        warnings.append(
            f"{UPLOAD_MINIMUM_VARIABLE}={raw}: files from {API_PAYLOAD_LIMIT} bytes up to it are sent through the API, "
            f"which refuses bodies over 10 MB; unset it (the plugin uses {MULTIPART_UPLOAD_MINIMUM}) or set it lower"
        )
    if environ.get(PROXY_UPLOAD_VARIABLE, "").strip().lower() in ("false", "0"):
        warnings.append(
            f"{PROXY_UPLOAD_VARIABLE} is off: artifacts over 10 MB are sent through the API, which refuses them; unset it"
        )
    return settings, warnings


_applied = False


def apply_large_artifact_settings(environ):
    """Once per process: sets what large_artifact_settings asks for (never overriding the user) and logs its warnings."""
    global _applied
    if _applied:
        return
    _applied = True
    settings, warnings = large_artifact_settings(environ)
    for key, value in settings.items():
        environ.setdefault(key, value)
    for warning in warnings:
        _logger.warning("mlflow-gate: %s", warning)
