"""Starts MLflow with its PostgreSQL backend store URI assembled here, inside the container.

ECS injects DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME from the database's Secrets Manager
secret. The URI carries the password, so it reaches MLflow through MLFLOW_BACKEND_STORE_URI (the
variable behind `mlflow server --backend-store-uri`): never a command line, never a log line.

Before MLflow starts, the database must accept a TCP connection: a cluster still starting (a first
deploy, a resume) is waited for, every 2 s for at most DB_WAIT_SECONDS (default 120; 0 skips the
wait), then the task exits 69 and ECS starts another.

`entrypoint.py db-upgrade` (the one-off task of a schema upgrade) upgrades the database's schema to the
image's MLflow, as `mlflow db upgrade` does, in this process: the URI never becomes a command line.

With team files the stack sets MLFLOW_GATE_WORKSPACES (team names, comma-separated): `mlflow server` then
runs with `--enable-workspaces` (the workspaces live in the same database) as a child of this process, which
forwards SIGTERM to it and, once MLflow answers /health, creates each team's workspace that MLflow does not
have yet: one log line per workspace created, none on a restart. A workspace MLflow refuses to create stops
MLflow and the task (exit 69) with a line saying why; `default` always exists and is never created.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote

REQUIRED = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME")
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
SSL_MODES = ("require", "verify-ca", "verify-full")


DEFAULT_WAIT_SECONDS = 120
MAX_WAIT_SECONDS = 900
WORKSPACES_ENV = "MLFLOW_GATE_WORKSPACES"
# MLflow's workspace API (3.10+, `mlflow server --enable-workspaces`); local/mlflow-workspaces.ts uses the same.
WORKSPACES_PATH = "/api/3.0/mlflow/workspaces"
DEFAULT_WORKSPACE = "default"
# How long MLflow may take to answer /health (a first start creates its schema): MLFLOW_READY_SECONDS.
DEFAULT_READY_SECONDS = 300
EX_USAGE = 64
EX_UNAVAILABLE = 69


def say(message: str) -> None:
    # Messages name variables, never their values.
    print(f"mlflow-entrypoint: {message}", file=sys.stderr, flush=True)


def fail(message: str, code: int = EX_USAGE) -> None:
    say(message)
    sys.exit(code)


def wait_seconds(env) -> int:
    value = env.get("DB_WAIT_SECONDS", str(DEFAULT_WAIT_SECONDS))
    if not value.isdigit() or int(value) > MAX_WAIT_SECONDS:
        fail(f"DB_WAIT_SECONDS must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}")
    return int(value)


def wait_for_database(
    host: str, port: int, seconds: int, connect=socket.create_connection, sleep=time.sleep, clock=time.monotonic
) -> None:
    """Returns once DB_HOST:DB_PORT accepts a connection; exits 69 when it has not within `seconds`."""
    if seconds == 0:
        return
    deadline = clock() + seconds
    attempt = 0
    while True:
        attempt += 1
        try:
            with connect((host, port), timeout=3):
                if attempt > 1:
                    say(f"the database accepts connections (attempt {attempt})")
                return
        except OSError as e:
            left = deadline - clock()
            if left <= 0:
                fail(
                    f"the database (DB_HOST:DB_PORT) accepted no connection within {seconds} s, {attempt} attempts, last {type(e).__name__}",
                    EX_UNAVAILABLE,
                )
            say(f"waiting for the database (DB_HOST:DB_PORT): attempt {attempt}, {type(e).__name__}; {int(left)} s left")
            sleep(min(2.0, left))


def backend_store_uri(env) -> str:
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        fail(f"missing database settings: {', '.join(missing)} (the task definition injects them from Secrets Manager)")
    host, port = env["DB_HOST"], env["DB_PORT"]
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
        fail("DB_HOST is not a host name")
    if not port.isdigit():
        fail("DB_PORT is not a port number")
    sslmode = env.get("DB_SSLMODE", "verify-full")
    if sslmode not in SSL_MODES:
        fail(f"DB_SSLMODE must be one of {', '.join(SSL_MODES)}")
    query = f"sslmode={sslmode}"
    if sslmode != "require":
        query += f"&sslrootcert={quote(RDS_CA_BUNDLE)}"
    user, password, name = (quote(env[k], safe="") for k in ("DB_USER", "DB_PASSWORD", "DB_NAME"))
    # The driver is named: SQLAlchemy's default for plain postgresql:// changed (psycopg2 to psycopg 3 in 2.1).
    return f"postgresql+psycopg://{user}:{password}@{host}:{port}/{name}?{query}"


def allowed_hosts(value: str) -> str:
    # MLflow compares Host headers case-sensitively; ELB DNS names keep the case of the load
    # balancer's name while clients may lower-case them, so accept both spellings.
    hosts = [h.strip() for h in value.split(",") if h.strip()]
    return ",".join(dict.fromkeys(hosts + [h.lower() for h in hosts]))


def upgrade_database(uri: str) -> str:
    """Upgrades (or creates) MLflow's schema at `uri`, as `mlflow db upgrade` does; returns its revision."""
    import mlflow.db
    import mlflow.store.db.utils as db_utils

    mlflow.db.upgrade.callback(uri)
    return db_utils._get_schema_version(db_utils.create_sqlalchemy_engine_with_retry(uri))


class WorkspaceSetupError(Exception):
    """The team workspaces could not be made ready: the task stops rather than serve without them."""


def workspace_names(value: str) -> list:
    """The team names of MLFLOW_GATE_WORKSPACES, each once, `default` left out (MLflow always has it).

    The names were checked against MLflow's rule when the team files were loaded; MLflow checks them again.
    """
    names = [n.strip() for n in value.split(",") if n.strip()]
    return [n for n in dict.fromkeys(names) if n != DEFAULT_WORKSPACE]


def server_url(argv) -> str:
    """Where `mlflow server <argv>` listens, as this process reaches it (loopback for a wildcard host)."""
    options = {"--host": "127.0.0.1", "--port": "5000"}
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in options:
            options[name] = value if eq else (argv[i + 1] if i + 1 < len(argv) else options[name])
    host = options["--host"]
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{options['--port']}"


def call_mlflow(url: str, method: str = "GET", body=None, timeout: float = 10.0):
    """(status, parsed JSON or text) of one request to MLflow; an HTTP error is an answer, not an exception."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def reason(body) -> str:
    """MLflow's refusal in one short line."""
    text = body.get("message", str(body)) if isinstance(body, dict) else str(body)
    return text.splitlines()[0][:300] if text else "(no message)"


def wait_until_ready(url: str, seconds: int, exited=lambda: None, sleep=time.sleep, clock=time.monotonic) -> None:
    """Returns once MLflow answers /health with 200; raises when it has exited (`exited()` gives its code) or not in time."""
    deadline = clock() + seconds
    while True:
        code = exited()
        if code is not None:
            raise WorkspaceSetupError(f"MLflow exited ({code}) before it answered /health")
        try:
            if call_mlflow(f"{url}/health", timeout=3)[0] == 200:
                return
        except OSError:
            pass
        if clock() >= deadline:
            raise WorkspaceSetupError(f"MLflow did not answer /health within {seconds} s")
        sleep(1.0)


def ensure_workspaces(url: str, names, log=say) -> list:
    """Creates each of `names` that MLflow does not have yet; returns those created.

    Idempotent: a restart creates nothing, and a workspace another task created meanwhile (MLflow's
    RESOURCE_ALREADY_EXISTS) counts as there. Anything else MLflow answers raises WorkspaceSetupError.
    """
    status, body = call_mlflow(f"{url}{WORKSPACES_PATH}")
    listed = body.get("workspaces") if isinstance(body, dict) else None
    if status != 200 or not isinstance(listed, list):
        raise WorkspaceSetupError(f"listing MLflow's workspaces answered {status}: {reason(body)}")
    existing = {w.get("name") for w in listed if isinstance(w, dict)}
    created = []
    for name in (n for n in names if n not in existing):
        status, body = call_mlflow(f"{url}{WORKSPACES_PATH}", "POST", {"name": name})
        if status == 201:
            created.append(name)
            log(f"created workspace {name}")
        elif not (isinstance(body, dict) and body.get("error_code") == "RESOURCE_ALREADY_EXISTS"):
            raise WorkspaceSetupError(f"MLflow refused to create workspace {name} ({status}): {reason(body)}")
    return created


def ready_seconds(env) -> int:
    value = env.get("MLFLOW_READY_SECONDS", str(DEFAULT_READY_SECONDS))
    if not value.isdigit() or int(value) == 0:
        fail("MLFLOW_READY_SECONDS must be a whole number of seconds above 0")
    return int(value)


def serve_with_workspaces(argv, names, env) -> None:
    """Runs `mlflow <argv> --enable-workspaces` as a child, creates the missing workspaces, and exits as MLflow does."""
    args = argv if "--enable-workspaces" in argv else [*argv, "--enable-workspaces"]
    seconds = ready_seconds(env)
    child = subprocess.Popen(["mlflow", *args], env=env)
    stopping = []

    def forward(signum, _frame):
        # ECS stops the task with SIGTERM (to this process, under the init process): MLflow gets it and drains.
        stopping.append(signum)
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    try:
        url = server_url(args)
        wait_until_ready(url, seconds, child.poll)
        created = ensure_workspaces(url, names)
        say(f"team workspaces ready: {', '.join(names) or 'none'} ({len(created)} created)")
    except WorkspaceSetupError as e:
        if stopping:
            sys.exit(exit_code(child.wait()))
        say(f"cannot set up the team workspaces, stopping: {e}")
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(EX_UNAVAILABLE)
    sys.exit(exit_code(child.wait()))


def exit_code(returncode: int) -> int:
    """A child's return code as a shell reports it: 128 + the signal that ended it."""
    return 128 - returncode if returncode < 0 else returncode


def main(argv) -> None:
    if any(arg == "--backend-store-uri" or arg.startswith("--backend-store-uri=") for arg in argv):
        fail("--backend-store-uri is assembled from the DB_* variables; do not pass it on the command line")
    env = os.environ
    env["MLFLOW_BACKEND_STORE_URI"] = backend_store_uri(env)
    wait_for_database(env["DB_HOST"], int(env["DB_PORT"]), wait_seconds(env))
    if argv == ["db-upgrade"]:
        revision = upgrade_database(env["MLFLOW_BACKEND_STORE_URI"])
        say(f"the database's schema is MLflow's current one (revision {revision})")
        return
    for name in REQUIRED:
        del env[name]
    if env.get("MLFLOW_SERVER_ALLOWED_HOSTS"):
        env["MLFLOW_SERVER_ALLOWED_HOSTS"] = allowed_hosts(env["MLFLOW_SERVER_ALLOWED_HOSTS"])
    if WORKSPACES_ENV in env and argv[:1] == ["server"]:
        serve_with_workspaces(argv, workspace_names(env.pop(WORKSPACES_ENV)), env)
    os.execvp("mlflow", ["mlflow", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
