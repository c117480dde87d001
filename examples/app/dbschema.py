"""The example app's migrations and seed data: `python app.py migrate`, then `python app.py seed`.

Migrations are the files migrations/NNNN_name.sql, applied in the order of their numbers. Each runs in
its own transaction together with its row in the table schema_migrations (version, file name, SHA-256 of
the file, time), so a migration is applied completely or not at all, and a run applies only the files
that have no row yet: running it again changes nothing. Two runs at once (two tasks of one deploy, a
redeploy overlapping a restart) queue on a PostgreSQL advisory lock: the second waits, then finds
everything applied. A file changed after it was applied is an error: write a new migration instead.

The seed (seed.sql) runs under the same lock, only on a fully migrated database, and must itself be safe
to run again (INSERT ... ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"
SEED = HERE / "seed.sql"
TABLE = "schema_migrations"
# One advisory lock key for every migrate and seed run of this app. Advisory locks are per database, so
# apps in other databases of the same server never wait on it.
LOCK_KEY = 0x7072656E7601
# Waiting longer than this for another run means that run is stuck: fail rather than hang the deploy.
LOCK_TIMEOUT = "5min"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class SchemaError(Exception):
    """A migration or seed that cannot run; the message names the file and the reason."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str  # the file name
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load(directory: Path = MIGRATIONS) -> list[Migration]:
    """The migrations in `directory`, in version order; a misnamed or duplicated file is an error."""
    if not directory.is_dir():
        raise SchemaError(f"no migrations folder at {directory}")
    found: dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise SchemaError(
                f"{path.name}: a migration's file name is NNNN_name.sql (four digits, then lowercase "
                "letters, digits and _)"
            )
        version = match.group(1)
        if version in found:
            raise SchemaError(f"{path.name}: version {version} is also {found[version].name}")
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    if not found:
        raise SchemaError(f"no migrations in {directory}")
    return [found[version] for version in sorted(found)]


def read_seed(path: Path = SEED) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SchemaError(f"cannot read the seed {path}: {error.strerror}") from None


def _first_line(error: psycopg.Error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _locked(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold the app's advisory lock (session-level: released if the process dies) while inside."""
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    except psycopg.errors.LockNotAvailable:
        raise SchemaError(
            f"another migrate or seed run has held the lock for {LOCK_TIMEOUT}: find it in "
            f"pg_locks (locktype advisory, objid {LOCK_KEY & 0xFFFFFFFF}) and stop it"
        ) from None
    try:
        yield
    finally:
        # A broken connection has released the lock already (the session ended).
        with suppress(psycopg.OperationalError):
            conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def _applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """version -> checksum of every applied migration (none when the table does not exist yet)."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE]).fetchone()
    if not row or not row[0]:
        return {}
    return dict(conn.execute(f"SELECT version, checksum FROM {TABLE}").fetchall())  # noqa: S608 - a constant


def migrate(
    conn: psycopg.Connection[Any], migrations: list[Migration], say: Callable[[str], None]
) -> list[str]:
    """Apply the pending migrations in order; the names applied (none on a second run)."""
    with _locked(conn):
        applied = _applied(conn)
        for migration in migrations:
            if applied.get(migration.version, migration.checksum) != migration.checksum:
                raise SchemaError(
                    f"{migration.name} changed after it was applied: restore it and add a new migration"
                )
        pending = [migration for migration in migrations if migration.version not in applied]
        if pending and not applied:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (version text PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        for migration in pending:
            try:
                with conn.transaction():
                    conn.execute(migration.sql.encode("utf-8"))  # no parameters: several statements
                    conn.execute(
                        f"INSERT INTO {TABLE} (version, name, checksum) VALUES (%s, %s, %s)",  # noqa: S608
                        [migration.version, migration.name, migration.checksum],
                    )
            except psycopg.Error as error:
                raise SchemaError(f"{migration.name} failed: {_first_line(error)}") from error
            say(f"applied {migration.name}")
    return [migration.name for migration in pending]


def seed(
    conn: psycopg.Connection[Any], migrations: list[Migration], sql: str, say: Callable[[str], None]
) -> None:
    """Run the seed on a fully migrated database, in one transaction."""
    with _locked(conn):
        applied = _applied(conn)
        pending = [migration.name for migration in migrations if migration.version not in applied]
        if pending:
            raise SchemaError(
                f"the database is not migrated ({', '.join(pending)} pending): "
                "run `python app.py migrate` first"
            )
        try:
            with conn.transaction():
                conn.execute(sql.encode("utf-8"))
        except psycopg.Error as error:
            raise SchemaError(f"the seed failed: {_first_line(error)}") from error
    say("seed applied")


def status(conn: psycopg.Connection[Any]) -> str:
    """The schema's state for the app's page: the latest migration applied, or 'not migrated'."""
    applied = _applied(conn)
    if not applied:
        return "not migrated"
    return f"migrated to {max(applied)} ({len(applied)} migrations)"
