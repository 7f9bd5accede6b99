"""Starts MLflow with its PostgreSQL backend store URI assembled here, inside the container.

ECS injects DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME from the database's Secrets Manager
secret. The URI carries the password, so it reaches MLflow through MLFLOW_BACKEND_STORE_URI (the
variable behind `mlflow server --backend-store-uri`): never a command line, never a log line.
"""

import os
import re
import sys
from urllib.parse import quote

REQUIRED = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME")
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"
SSL_MODES = ("require", "verify-ca", "verify-full")


def fail(message: str) -> None:
    # Messages name variables, never their values.
    print(f"mlflow-entrypoint: {message}", file=sys.stderr, flush=True)
    sys.exit(64)


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


def main(argv) -> None:
    if any(arg == "--backend-store-uri" or arg.startswith("--backend-store-uri=") for arg in argv):
        fail("--backend-store-uri is assembled from the DB_* variables; do not pass it on the command line")
    env = os.environ
    env["MLFLOW_BACKEND_STORE_URI"] = backend_store_uri(env)
    for name in REQUIRED:
        del env[name]
    if env.get("MLFLOW_SERVER_ALLOWED_HOSTS"):
        env["MLFLOW_SERVER_ALLOWED_HOSTS"] = allowed_hosts(env["MLFLOW_SERVER_ALLOWED_HOSTS"])
    os.execvp("mlflow", ["mlflow", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
