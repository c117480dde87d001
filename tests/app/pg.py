"""A throwaway PostgreSQL cluster in a temporary folder, from the server binaries on PATH.

initdb refuses to run as root, so when the tests run as root the server runs as the `postgres` user
(or `nobody`), in a folder that user owns.

One helper for every test that needs a real server: the example app's (tests/app), the per-PR database
script's (tests/terraform/test_pr_database.py) and the native compose replica's `db` (tests/compose).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from prenv.core import contract

USER = "app"
PASSWORD = "s3cret-for-tests"  # only for this throwaway cluster
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists for the server")


def binaries_missing() -> str:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if shutil.which(name) is None]
    return ", ".join(missing)


@dataclass
class PgCluster:
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="prenv-pg-")))
    port: int = field(default_factory=free_port)
    user: str | None = field(default_factory=_server_user)  # the OS user the server runs as
    superuser: str = USER  # initdb's bootstrap role (the postgres image's POSTGRES_USER)
    password: str = PASSWORD
    settings: Mapping[str, str] = field(default_factory=dict)  # extra `-c name=value` server settings

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "sock"

    @property
    def log(self) -> Path:
        return self.base / "log"

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(argv), user=self.user, capture_output=True, text=True, check=False, cwd=self.base, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def init(self) -> PgCluster:
        self.sockets.mkdir(parents=True)
        password_file = self.base / "pw"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.base, self.sockets, password_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "--pgdata", str(self.data), "--username", self.superuser,
            "--pwfile", str(password_file), "--auth", "scram-sha-256", "--encoding", "UTF8",
            "--no-instructions",
        )  # fmt: skip
        password_file.unlink()
        return self

    def start(self) -> PgCluster:
        settings = {"listen_addresses": LOOPBACK, "fsync": "off", **self.settings}
        options = " ".join(
            [f"-p {self.port} -k {self.sockets}", *(f"-c {k}={v}" for k, v in settings.items())]
        )
        self._run("pg_ctl", "--pgdata", str(self.data), "--wait", "--log", str(self.log),
                  "--options", options, "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "--pgdata", str(self.data), "--wait", "--mode", "fast", "stop")

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def connect(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None, **kwargs: Any
    ) -> psycopg.Connection[Any]:
        """A connection over TCP, as the superuser unless `user` is given; autocommit (for DDL)."""
        return psycopg.connect(
            host=LOOPBACK,
            port=self.port,
            dbname=dbname,
            user=user or self.superuser,
            password=self.password if password is None else password,
            connect_timeout=5,
            autocommit=True,
            **kwargs,
        )

    def create_database(self, name: str, owner: str | None = None) -> None:
        with self.connect() as conn:
            owner_clause = psycopg.sql.SQL(" OWNER {}").format(psycopg.sql.Identifier(owner)) if owner else ""
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}{}").format(psycopg.sql.Identifier(name), owner_clause)
            )

    def libpq_env(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> dict[str, str]:
        """libpq's variables for a TCP connection to this cluster (for psql and other clients)."""
        return {
            "PGHOST": LOOPBACK,
            "PGPORT": str(self.port),
            "PGDATABASE": dbname,
            "PGUSER": user or self.superuser,
            "PGPASSWORD": self.password if password is None else password,
        }

    def env(self, **extra: str) -> dict[str, str]:
        """The app's environment for this cluster in the app contract's names (prenv.core.contract)."""
        values = {
            "PGHOST": LOOPBACK,
            "PGPORT": str(self.port),
            "PGDATABASE": "postgres",
            "PGUSER": self.superuser,
            "PGPASSWORD": self.password,
        }
        values["DATABASE_URL"] = contract.database_url(
            user=self.superuser, host=LOOPBACK, port=self.port, database="postgres"
        )
        assert set(values) == set(contract.DATABASE_VARIABLE_NAMES)
        return {**values, **extra}


@contextmanager
def running_cluster(**options: Any) -> Iterator[PgCluster]:
    """A started cluster of its own (skips the test when the server binaries are missing); removed after."""
    missing = binaries_missing()
    if missing:
        pytest.skip(f"PostgreSQL server binaries not on PATH: {missing}")
    cluster = PgCluster(**options)
    try:
        cluster.init().start()
        yield cluster
    finally:
        cluster.cleanup()
