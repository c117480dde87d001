"""The app contract: what a preview's container is given and what it must do. Written once, here.

terraform/preview (its variable defaults and the task's environment and secrets), docker-compose.yml,
docs/local.md and examples/app follow it; tests/core/test_contract.py fails when one of them drifts.

The database settings are libpq's own variables plus DATABASE_URL. DATABASE_URL never holds the
password: on AWS the password reaches the task only by `valueFrom` from Secrets Manager, when ECS starts
the task, so composing it into a URL would put it into the task definition and Terraform's state. libpq,
and every driver built on it (psycopg, the pg gem, node-postgres, ...), takes the password from
PGPASSWORD when the URL has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# The port the app listens on, also given to it as $PORT. A repository may choose another (`app.port`),
# within these bounds: the container is not root, so it cannot bind a port below 1024.
PORT = 8080
PORT_VARIABLE = "PORT"
MIN_PORT = 1024
MAX_PORT = 65535

# The numeric user and group the container runs as (never root; numeric, so a check needs no /etc/passwd).
UID = 10001
GID = 10001
USER = f"{UID}:{GID}"

# The root filesystem is read-only; the app may write only below these paths (empty scratch space).
READ_ONLY_ROOT_FILESYSTEM = True
WRITABLE_PATHS = ("/tmp",)  # noqa: S108 - a path inside the container, not a file of this process

# GET on this path answers 200 while the app can serve (its database answers), else 503; the load
# balancer's health check, prenv's readiness check and the compose health check all ask it.
HEALTH_PATH = "/healthz"
HEALTHY_STATUS = 200
UNHEALTHY_STATUS = 503

# The preview task's containers: the app, and the steps that run before it from the same image with the
# same environment and secrets (config hooks.migrate, hooks.seed), in this order. Each step must exit 0
# before the next starts, and the app starts only after the last (ECS `dependsOn` ... `SUCCESS`).
APP_CONTAINER = "app"
MIGRATE_STEP = "migrate"
SEED_STEP = "seed"
INIT_STEPS = (MIGRATE_STEP, SEED_STEP)

# The app stops cleanly on this signal (ECS and compose send it first, then kill after a grace period).
STOP_SIGNAL = "SIGTERM"

# How a secret reaches the container: an environment variable that the platform fills from Secrets
# Manager when the task starts (ECS task definition `secrets`, `valueFrom` = secret ARN and JSON key).
# Never a plain `environment` value, never in Terraform's state, never in the image. Locally: from .env.
SECRET_DELIVERY = "ECS secrets valueFrom Secrets Manager (locally: .env)"  # noqa: S105 - says how, holds none


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    secret: bool = False  # delivered as SECRET_DELIVERY says, never as a plain value


DATABASE_VARIABLES = (
    Variable("PGHOST", "the database server's host name"),
    Variable("PGPORT", "the database server's port"),
    Variable("PGDATABASE", "the database name"),
    Variable("PGUSER", "the role the app logs in as"),
    Variable("PGPASSWORD", "that role's password", secret=True),
    Variable(
        "DATABASE_URL",
        "postgresql://PGUSER@PGHOST:PGPORT/PGDATABASE: the same settings as one URL, without the password",
    ),
)
DATABASE_VARIABLE_NAMES = tuple(variable.name for variable in DATABASE_VARIABLES)
SECRET_VARIABLE_NAMES = tuple(variable.name for variable in DATABASE_VARIABLES if variable.secret)
# The pair that says where the server is (a local stand-in maps both together).
HOST_VARIABLE = "PGHOST"
PORT_OF_HOST_VARIABLE = "PGPORT"
# libpq settings an app may read when they are set; the platform does not set them.
OPTIONAL_DATABASE_VARIABLES = ("PGSSLMODE",)


# Set by the platform (here and in the preview root's task): a repository's own environment
# (`app.environment`) may not set these.
PRENV_VARIABLES = ("PRENV_PR", "PRENV_HEAD_SHA")  # the PR number and the commit deployed
PLATFORM_PREFIX = "PRENV_"
PLATFORM_VARIABLES = (*DATABASE_VARIABLE_NAMES, PORT_VARIABLE, *PRENV_VARIABLES)

# The settings a repository may change (`.github/prenv.yml`, section `app`) and the variables of the
# preview root that receive them: terraform/preview declares each one.
ROOT_VARIABLES = {"port": "container_port", "health_path": "health_check_path", "environment": "environment"}

# The image a preview runs when it is given none: a stand-in that keeps the contract (it listens on
# $PORT, answers HEALTH_PATH with 200, writes only below /tmp, runs as any user) and says on its page
# that the preview has no image of its own yet. terraform/preview runs it with PLACEHOLDER_COMMAND.
PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/busybox:1.37"


def root_variables(port: int, health_path: str, environment: Mapping[str, str]) -> dict[str, Any]:
    """The root's variables for a repository's `app` settings (ROOT_VARIABLES)."""
    values = {"port": port, "health_path": health_path, "environment": dict(environment)}
    return {ROOT_VARIABLES[setting]: value for setting, value in values.items()}


def database_url(*, user: str, host: str, port: int | str, database: str) -> str:
    """DATABASE_URL for these settings: no password (see the module's docstring)."""
    return f"postgresql://{quote(user, safe='')}@{host}:{port}/{quote(database, safe='')}"
