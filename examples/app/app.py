"""The example app: the default image of prenv previews and of the local compose stack.

A WSGI app on the standard library's threaded server, with three pages:

    /         the PR, the version, whether the database answers and its schema (HTML)
    /healthz  200 when the database answers, 503 otherwise (the ALB's and compose's health check)
    /metrics  Prometheus text: requests by method, path and status; request latency; database up

It follows the app contract (prenv/core/contract.py, docs/local.md): it listens on $PORT (8080), writes
nothing, stops on SIGTERM, and reads the database settings from libpq's variables PGHOST, PGPORT,
PGDATABASE, PGUSER, PGPASSWORD (and PGSSLMODE) and from DATABASE_URL, whose settings win where both
give one, as in libpq. DATABASE_URL carries no password: PGPASSWORD does, filled by ECS from Secrets
Manager. PGSSLMODE defaults to libpq's `prefer`: TLS where the server offers it (RDS for PostgreSQL 15
and later requires it), plain on the local compose database. APP_VERSION (else the first 12 characters
of PRENV_HEAD_SHA) and PRENV_PR label the page.

    python app.py                 serve on $PORT
    python app.py --healthcheck   ask the running server's /healthz; exit 0 or 1 (the HEALTHCHECK)
    python app.py migrate         apply the pending migrations (dbschema.py), then exit
    python app.py seed            load the seed data into a migrated database, then exit
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import dbschema
import psycopg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from psycopg.conninfo import conninfo_to_dict

PORT = 8080
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
PATHS = ("/", HEALTH_PATH, METRICS_PATH)  # metric labels: every other path counts as "other"

log = logging.getLogger("app")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class SettingsError(ValueError):
    """The environment holds database settings the app cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = ""
    port: int = 5432
    dbname: str = ""
    user: str = ""
    password: str = ""
    sslmode: str = "prefer"
    connect_timeout: int = 3
    pr: str = ""
    version: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"Settings(host={self.host!r}, port={self.port}, dbname={self.dbname!r}, user={self.user!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        # DATABASE_URL's settings win over PG* where both give one, as in libpq.
        url = _url_settings(env.get("DATABASE_URL", ""))

        def setting(key: str, name: str) -> str:
            return url.get(key) or env.get(name, "").strip()

        port = url.get("port")
        if port is not None and not port.isdigit():
            raise SettingsError("DATABASE_URL: the port must be a whole number between 1 and 65535")
        return cls(
            host=setting("host", "PGHOST"),
            port=_integer({"PGPORT": port or env.get("PGPORT", "")}, "PGPORT", 5432),
            dbname=setting("dbname", "PGDATABASE") or "postgres",
            user=setting("user", "PGUSER"),
            password=url.get("password") or env.get("PGPASSWORD", ""),
            sslmode=setting("sslmode", "PGSSLMODE") or "prefer",
            pr=env.get("PRENV_PR", "").strip(),
            version=(env.get("APP_VERSION") or env.get("PRENV_HEAD_SHA", "")[:12]).strip() or "dev",
        )


def _url_settings(url: str) -> dict[str, str]:
    """libpq's settings in DATABASE_URL (postgresql://USER@HOST:PORT/DATABASE); none when it is unset."""
    if not url.strip():
        return {}
    if not url.strip().startswith(("postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL must be a URL postgresql://USER@HOST:PORT/DATABASE")
    try:
        return {key: str(value) for key, value in conninfo_to_dict(url.strip()).items() if value is not None}
    except psycopg.ProgrammingError:  # its message may quote the URL, password and all: not shown
        raise SettingsError("DATABASE_URL is not a valid URL postgresql://USER@HOST:PORT/DATABASE") from None


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"{name} must be a whole number between 1 and 65535, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class DatabaseStatus:
    ok: bool
    detail: str  # the server version when ok, else why not (never a password)
    schema: str = ""  # dbschema.status(): the latest migration applied, or "not migrated"


def connect(settings: Settings) -> psycopg.Connection[Any]:
    """A connection with the settings (autocommit: migrations open their own transactions)."""
    return psycopg.connect(
        host=settings.host,
        port=settings.port,
        dbname=settings.dbname,
        user=settings.user or None,
        password=settings.password or None,
        sslmode=settings.sslmode,
        connect_timeout=settings.connect_timeout,
        application_name="prenv-example-app",
        autocommit=True,
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_database(settings: Settings) -> DatabaseStatus:
    """Connect and ask the server for its version: the database answers or it does not."""
    if not settings.configured:
        return DatabaseStatus(False, "not configured (set PGHOST or DATABASE_URL)")
    try:
        with connect(settings) as conn:
            row = conn.execute("SELECT current_setting('server_version')").fetchone()
            schema = dbschema.status(conn)
    except psycopg.Error as exc:
        return DatabaseStatus(False, _first_line(exc))
    return DatabaseStatus(True, f"PostgreSQL {row[0] if row else '?'}", schema)


class App:
    """The WSGI application. `check` is the database probe (tests may pass their own)."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry | None = None,
        check: Callable[[Settings], DatabaseStatus] = check_database,
    ) -> None:
        self.settings = settings
        self.check = check
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "app_http_requests",
            "HTTP requests served, by method, path and status code.",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "app_http_request_duration_seconds",
            "Time spent serving HTTP requests, by method and path.",
            ["method", "path"],
            registry=self.registry,
        )
        self.database_up = Gauge(
            "app_database_up", "1 when the last database check answered, else 0.", registry=self.registry
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO") or "/")
        status, headers, body = self.route(method, path)
        label = path if path in PATHS else "other"
        self.requests.labels(method, label, status.split()[0]).inc()
        self.latency.labels(method, label).observe(time.perf_counter() - started)
        headers = [*headers, ("Content-Length", str(len(body))), ("Cache-Control", "no-store")]
        start_response(status, headers)
        return [b""] if method == "HEAD" else [body]

    def route(self, method: str, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
        if path not in PATHS:
            return "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")], b"not found\n"
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [("Allow", "GET, HEAD")], b"method not allowed\n"
        if path == METRICS_PATH:
            return "200 OK", [("Content-Type", CONTENT_TYPE_LATEST)], generate_latest(self.registry)
        database = self.check(self.settings)
        self.database_up.set(1 if database.ok else 0)
        if path == HEALTH_PATH:
            text = "ok\n" if database.ok else f"database does not answer: {database.detail}\n"
            if not database.ok:
                log.warning("health check failed: database does not answer: %s", database.detail)
            status = "200 OK" if database.ok else "503 Service Unavailable"
            return status, [("Content-Type", "text/plain; charset=utf-8")], text.encode()
        return "200 OK", [("Content-Type", "text/html; charset=utf-8")], self.page(database).encode()

    def page(self, database: DatabaseStatus) -> str:
        pr = f"PR #{self.settings.pr}" if self.settings.pr.isdigit() else (self.settings.pr or "local")
        answer = "answers" if database.ok else "does not answer"
        rows = [
            ("Preview", pr),
            ("Version", self.settings.version),
            ("Database", f"{answer}: {database.detail}"),
            ("Schema", database.schema or "unknown"),
        ]
        cells = "\n".join(
            f"<tr><th>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>" for key, value in rows
        )
        return (
            "<!doctype html>\n<html lang=en><meta charset=utf-8>"
            f"<title>{html.escape(pr)} - prenv preview</title>\n"
            f"<h1>{html.escape(pr)}</h1>\n<table>\n{cells}\n</table>\n"
            f'<p><a href="{HEALTH_PATH}">{HEALTH_PATH}</a> <a href="{METRICS_PATH}">{METRICS_PATH}</a></p>\n'
        )


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class Handler(WSGIRequestHandler):
    """One access-log line per request on stderr (CloudWatch), except successful health checks."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.path == HEALTH_PATH and str(code) == "200":
            return
        super().log_request(code, size)


def serve(app: App, host: str, port: int) -> ThreadingServer:
    """A server bound to host:port (port 0: a free one); call serve_forever() on it."""
    return make_server(host, port, app, server_class=ThreadingServer, handler_class=Handler)


def healthcheck(port: int) -> int:
    """Ask the local server's /healthz: 0 when it answers 200, else 1."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"unhealthy: {exc}\n")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="The example app of prenv previews.")
    parser.add_argument("--healthcheck", action="store_true", help="ask the running server's /healthz")
    steps = parser.add_subparsers(dest="step", metavar="{migrate,seed}")
    migrate = steps.add_parser("migrate", help="apply the pending migrations, then exit")
    seed = steps.add_parser("seed", help="load the seed data into a migrated database, then exit")
    for step in (migrate, seed):
        step.add_argument(
            "--migrations", type=Path, default=dbschema.MIGRATIONS, help="the folder of NNNN_name.sql files"
        )
    seed.add_argument("--seed-file", type=Path, default=dbschema.SEED, help="the seed's SQL")
    return parser


def run_step(
    step: str, settings: Settings, migrations: Path = dbschema.MIGRATIONS, seed_file: Path = dbschema.SEED
) -> int:
    """`migrate` or `seed`: 0 when done, 1 with one line `app <step>: <what failed>` on stderr."""

    def say(text: str) -> None:
        sys.stderr.write(f"app {step}: {text}\n")

    if not settings.configured:
        say("no database configured (set PGHOST or DATABASE_URL)")
        return 1
    try:
        found = dbschema.load(migrations)
        with connect(settings) as conn:
            if step == "migrate":
                applied = dbschema.migrate(conn, found, say)
                say(f"{len(applied)} applied; {dbschema.status(conn)}")
            else:
                dbschema.seed(conn, found, dbschema.read_seed(seed_file), say)
    except dbschema.SchemaError as exc:
        say(str(exc))
        return 1
    except psycopg.Error as exc:
        say(f"the database does not answer: {_first_line(exc)}")
        return 1
    return 0


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        port = _integer(env, "PORT", PORT)
        if args.healthcheck:
            return healthcheck(port)
        settings = Settings.from_env(env)
    except SettingsError as exc:
        sys.stderr.write(f"app: {exc}\n")
        return 2
    if args.step:
        return run_step(args.step, settings, args.migrations, getattr(args, "seed_file", dbschema.SEED))
    # 0.0.0.0: the container's port is published by ECS or compose; LISTEN_HOST narrows it.
    host = env.get("LISTEN_HOST", "0.0.0.0")  # noqa: S104
    server = serve(App(settings), host, port)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    where = f"{settings.host}:{settings.port}/{settings.dbname}" if settings.configured else "no database"
    log.info(
        "serving on %s:%d (preview %s, version %s, %s)",
        host,
        port,
        settings.pr or "-",
        settings.version,
        where,
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
