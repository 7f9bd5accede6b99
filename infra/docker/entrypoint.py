"""Starts MLflow with its PostgreSQL backend store URI assembled here, inside the container.

ECS injects DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME from the database's Secrets Manager
secret. The URI carries the password, so it reaches MLflow through MLFLOW_BACKEND_STORE_URI (the
variable behind `mlflow server --backend-store-uri`): never a command line, never a log line.

Before MLflow starts, the database must accept a TCP connection: a cluster still starting (a first
deploy, a resume) is waited for, every 2 s for at most DB_WAIT_SECONDS (default 120; 0 skips the
wait), then the task exits 69 and ECS starts another.

`entrypoint.py db-upgrade` (the one-off task of a schema upgrade) upgrades the database's schema to the
image's MLflow, as `mlflow db upgrade` does, in this process: the URI never becomes a command line.
"""

import os
import re
import socket
import sys
import time
from urllib.parse import quote

REQUIRED = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME")
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
SSL_MODES = ("require", "verify-ca", "verify-full")


DEFAULT_WAIT_SECONDS = 120
MAX_WAIT_SECONDS = 900
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
    os.execvp("mlflow", ["mlflow", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
