"""A requests auth that signs, with botocore's SigV4Auth, exactly the bytes it sends."""

import json
from typing import Callable, Iterable, Optional, Tuple
from urllib.parse import quote, unquote_to_bytes, urlsplit, urlunsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from requests.auth import AuthBase

from mlflow_gate_auth.credentials import NO_CREDENTIALS
from mlflow_gate_auth.errors import MlflowGateCredentialsError

SERVICE = "execute-api"
Origin = Tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTH_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
_AUTH_HEADER_NAMES = {name.lower() for name in _AUTH_HEADERS}
# API Gateway refuses with {"message": ...} and no error_code, which MLflow would report as INTERNAL_ERROR.
_GATEWAY_ERROR_CODES = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
#: API Gateway's answers to temporary credentials it no longer knows or that have expired.
STALE_CREDENTIAL_MESSAGES = frozenset({"The security token included in the request is invalid.", "The security token included in the request is expired"})


def origin_of(url: str) -> Optional[Origin]:
    """(scheme, host, port) of an http(s) URL; None for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        return scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number
        return None


def canonicalize_query(query: str) -> str:
    """The query with every key and value encoded as SigV4 canonicalizes it, order and repeated keys kept.

    `+` is read as a space and sent as %20, so that the query sent is the query signed and the one
    the gateway (and MLflow behind it) reads.
    """
    pairs = []
    for piece in query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            pairs.append(f"{_reencode(key)}={_reencode(value)}")
    return "&".join(pairs)


def _reencode(raw: str) -> str:
    return quote(unquote_to_bytes(raw.replace("+", " ")), safe="-_.~")


class GateSigV4Auth(AuthBase):
    """Signs requests to the given origins for execute-api; leaves requests to any other host untouched.

    `credentials` is called per request (botocore refreshes temporary credentials behind it).
    `on_stale_credentials` is called when the gateway says the credentials signed with are unknown
    or expired (an STS or gateway restart, a revoked session), so the next request renews them.
    """

    def __init__(self, credentials: Callable[[], Optional[ReadOnlyCredentials]], region: str, origins: Iterable[Origin], on_stale_credentials: Optional[Callable[[], None]] = None):
        self._on_stale_credentials = on_stale_credentials
        self._credentials = credentials
        self._region = region
        self._origins = frozenset(origins)

    def __call__(self, r):
        if origin_of(r.url) not in self._origins:
            return r
        parts = urlsplit(r.url)
        if parts.query:
            r.url = urlunsplit(parts._replace(query=canonicalize_query(parts.query)))
        payload = _payload_of(r)
        credentials = self._credentials()
        if credentials is None:
            raise MlflowGateCredentialsError(NO_CREDENTIALS)
        # Signed: host, x-amz-date, the token, content-type and any x-amz-* header, as boto3 signs; not
        # hop-by-hop or client headers a proxy may rewrite.
        signed = {k: v for k, v in r.headers.items() if k.lower() == "content-type" or (k.lower().startswith("x-amz-") and k.lower() not in _AUTH_HEADER_NAMES)}
        aws = AWSRequest(method=r.method, url=r.url, data=payload, headers=signed)
        SigV4Auth(credentials, SERVICE, self._region).add_auth(aws)
        for name in _AUTH_HEADERS:
            r.headers.pop(name, None)
            if aws.headers.get(name) is not None:
                r.headers[name] = aws.headers[name]
        if self._on_stale_credentials is not None:
            r.register_hook("response", self._watch_for_stale_credentials)
        r.register_hook("response", name_gateway_refusal)
        return r

    def _watch_for_stale_credentials(self, response, **kwargs):
        if response.status_code == 403 and _gateway_message(response) in STALE_CREDENTIAL_MESSAGES:
            self._on_stale_credentials()
        return response


def _gateway_message(response) -> Optional[str]:
    """API Gateway's own answer: {"message": ...}, or for an IAM denial {"Message": "User: <arn> is not
    authorized to perform: execute-api:Invoke on resource: <arn>"}; None for anything else (MLflow's)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or "error_code" in body:
        return None
    for key in ("message", "Message"):
        if isinstance(body.get(key), str):
            return body[key]
    return None


def _payload_of(r):
    """What to hash for r's body: bytes, or a seekable file botocore hashes by streaming and rewinds.

    A str, an unseekable file or an iterable (which requests would send chunked) becomes bytes sent
    with a Content-Length, so that the bytes hashed are the bytes sent.
    """
    body = r.body
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return _replace_body(r, body.encode("utf-8"))
    if hasattr(body, "read"):
        # botocore streams a binary file's hash and rewinds it; a text or unseekable file is read once.
        if _is_seekable(body) and isinstance(body.read(0), bytes):
            return body
        return _replace_body(r, _as_bytes(body.read()))
    return _replace_body(r, b"".join(_as_bytes(chunk) for chunk in body))


def _is_seekable(file) -> bool:
    try:
        return bool(file.seekable()) if hasattr(file, "seekable") else (file.tell() is not None)
    except (OSError, AttributeError, ValueError):
        return False


def _as_bytes(chunk) -> bytes:
    return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def _replace_body(r, data: bytes) -> bytes:
    r.body = data
    r.headers.pop("Transfer-Encoding", None)
    r.headers["Content-Length"] = str(len(data))
    return data


def name_gateway_refusal(response, **kwargs):
    """Gives the gateway's 401/403 (`message`, or `Message` for an IAM denial, which names the role and the
    action) an MLflow error_code, so MLflow reports `PERMISSION_DENIED: <the gateway's message>` (and HTTP
    403) instead of INTERNAL_ERROR."""
    code = _GATEWAY_ERROR_CODES.get(response.status_code)
    message = _gateway_message(response) if code is not None else None
    if message is not None:
        response._content = json.dumps({"error_code": code, "message": message}).encode("utf-8")
    return response
