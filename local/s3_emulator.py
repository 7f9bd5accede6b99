"""The local stack's S3: moto's S3 server on a loopback port, one bucket kept as plain files.

moto keeps its objects in memory. This program runs moto's own server application and, after every
request that can change an object, writes the bucket's new and changed objects under
`<dir>/<bucket>/<key>` (written aside, then renamed into place) and removes the deleted ones, before
the client gets its answer. At start it loads those files back, so artifacts survive a restart as
MLflow's database does. Keys that are not a plain relative path are served but not kept (and named
on stderr).

Usage: python s3_emulator.py --host 127.0.0.1 --port 0 --dir DIR --bucket NAME
Prints one JSON line on stdout when it listens: {"event": "ready", "endpoint": ..., "objects": N, "bytes": N}.
"""

import argparse
import json
import logging
import os
import shutil
import sys
import threading

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3.models import s3_backends
from werkzeug.serving import make_server

#: A file being written: never loaded, removed at start.
TMP_PREFIX = ".s3-emulator-tmp-"
#: S3's part upload and the start of a multipart upload change no object: no sync after them.
_NO_CHANGE = ("uploadId", "uploads")


def warn(message):
    sys.stderr.write(f"s3-emulator: {message}\n")
    sys.stderr.flush()


def key_path(root, key):
    """The file of `key` under `root`, or None when the key is not a plain relative path."""
    parts = key.split("/")
    if any(p in ("", ".", "..") or p.startswith(TMP_PREFIX) or "\0" in p or "\\" in p for p in parts):
        return None
    return os.path.join(root, *parts)


def changes_objects(environ):
    method = environ.get("REQUEST_METHOD", "")
    if method not in ("PUT", "POST", "DELETE"):
        return False
    query = environ.get("QUERY_STRING", "")
    names = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
    # CompleteMultipartUpload is a POST with uploadId: it changes an object.
    return not (names & set(_NO_CHANGE)) or (method == "POST" and "uploadId" in names)


class BucketFiles:
    """One bucket of moto's backend mirrored to a directory."""

    def __init__(self, backend, bucket, root):
        self.backend = backend
        self.bucket = bucket
        self.root = root
        self.kept = {}  # key -> etag of what the directory holds
        self.unkept = {}  # key -> etag of an object named on stderr as not kept
        self.lock = threading.Lock()

    def load(self):
        os.makedirs(self.root, exist_ok=True)
        objects = size = 0
        for directory, _, files in os.walk(self.root):
            for name in files:
                path = os.path.join(directory, name)
                if name.startswith(TMP_PREFIX):
                    os.remove(path)
                    continue
                key = os.path.relpath(path, self.root).replace(os.sep, "/")
                if key_path(self.root, key) != path:
                    warn(f"file {path!r} is not loaded: its name is not a key this emulator would keep")
                    continue
                with open(path, "rb") as f:
                    value = f.read()
                stored = self.backend.put_object(self.bucket, key, value)
                self.kept[key] = stored.etag
                objects += 1
                size += len(value)
        return objects, size

    def _latest(self):
        """The bucket's current objects; a delete marker (versioning) or a deleted bucket holds none."""
        try:
            keys = self.backend.get_bucket(self.bucket).keys
        except Exception:
            return {}
        latest = {name: keys[name] for name in list(keys.keys())}
        return {name: k for name, k in latest.items() if hasattr(k, "_value_buffer") and hasattr(k, "etag")}

    def sync(self):
        with self.lock:
            latest = self._latest()
            for key, fake_key in latest.items():
                if fake_key.etag in (self.kept.get(key), self.unkept.get(key)):
                    continue
                path = key_path(self.root, key)
                if path is None:
                    warn(f"object {key!r} is served but not kept on disk: its key is not a plain relative path")
                    self.unkept[key] = fake_key.etag
                    continue
                try:
                    self._write(path, fake_key)
                    self.kept[key] = fake_key.etag
                    self.unkept.pop(key, None)
                except OSError as e:
                    warn(f"cannot keep object {key!r} on disk: {e}")
                    self.unkept[key] = fake_key.etag
            for key in [k for k in self.unkept if k not in latest]:
                del self.unkept[key]
            for key in [k for k in self.kept if k not in latest]:
                path = key_path(self.root, key)
                try:
                    os.remove(path)
                    self._prune(os.path.dirname(path))
                except FileNotFoundError:
                    pass
                except OSError as e:
                    warn(f"cannot remove deleted object {key!r} from disk: {e}")
                    continue
                del self.kept[key]

    def _write(self, path, fake_key):
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f"{TMP_PREFIX}{threading.get_ident()}")
        try:
            with fake_key.lock, open(tmp, "wb") as out:
                buffer = fake_key._value_buffer
                buffer.seek(0)
                shutil.copyfileobj(buffer, out, 1024 * 1024)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _prune(self, directory):
        while os.path.abspath(directory) != os.path.abspath(self.root):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)


class PersistingApp:
    """moto's WSGI application; after a request that may have changed an object, the bucket is synced."""

    def __init__(self, app, files):
        self.app = app
        self.files = files

    def __call__(self, environ, start_response):
        result = self.app(environ, start_response)
        if not changes_objects(environ):
            return result
        try:
            body = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        try:
            self.files.sync()
        except Exception as e:  # keeping files must never change what S3 answered
            warn(f"cannot keep the bucket's files after {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}: {e!r}")
        return body


def main(argv):
    parser = argparse.ArgumentParser(description="moto's S3 on loopback, one bucket kept as files")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)

    # One line per request on stderr would drown the stack's own log.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(args.bucket, args.region)
    files = BucketFiles(backend, args.bucket, os.path.join(args.dir, args.bucket))
    objects, size = files.load()

    server = make_server(
        args.host,
        args.port,
        PersistingApp(DomainDispatcherApplication(create_backend_app), files),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    host, port = server.server_address[:2]
    print(
        json.dumps({"event": "ready", "endpoint": f"http://{host}:{port}", "objects": objects, "bytes": size}),
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
