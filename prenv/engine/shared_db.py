"""database.mode shared: one database and one role per pull request on the repository's shared server,
made before the preview's plan and dropped after its destroy, through a transport that runs SQL where
the server is (the RDS Data API in AWS; any `SqlTransport` in tests).

The SQL is terraform/preview/sql/ (create.sql, drop.sql, password.sql, status.sql, databases.sql), the
same files pr-database.sh runs with psql for the local stack: `prenv.core.sqlscript` reads them for a
transport that is not psql.

The password: generated here, written to the pull request's secret (the task gets it by `valueFrom`),
and given to the server as a SCRAM verifier (`prenv.core.scram`). It is never in Terraform's state or
plan, a log, a comment or an SQL text. The role's comment records the secret version it was given
(password.sql), so a deploy can tell from metadata alone whether the two still agree:

- the secret exists, the role exists and carries the secret's current version: nothing changes;
- otherwise: a new password, written to the secret first, then to the role with the new version.
  A run that stops between the two leaves them disagreeing, and the next run writes both again.

Drop deletes the secret first, then the database and the role: a secret left behind would be found by
cleanup (it is tagged), a database left behind too (cleanup lists the server's databases).
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prenv.core import naming, scram, sqlscript
from prenv.core.errors import FailureReason, PrenvError

SCRIPTS = ("create.sql", "drop.sql", "password.sql", "status.sql", "databases.sql", "session.sql")


class SqlTransport(Protocol):
    """Runs one SQL statement where the server is, committed on its own; returns the rows."""

    def execute(self, sql: str) -> list[tuple[Any, ...]]: ...


class SecretStore(Protocol):
    def current_version(self, name: str) -> str | None: ...

    def write(
        self, name: str, value: str, version: str, *, create: bool, tags: Mapping[str, str]
    ) -> None: ...

    def delete(self, name: str) -> bool: ...


@dataclass(frozen=True)
class Scripts:
    """The SQL files, by name."""

    files: Mapping[str, str]

    @classmethod
    def read(cls, directory: Path) -> Scripts:
        try:
            return cls({name: (directory / name).read_text(encoding="utf-8") for name in SCRIPTS})
        except OSError as exc:
            raise PrenvError(
                f"cannot read the shared mode's SQL in {directory}: {exc.strerror or exc}",
                reason=FailureReason.CONFIG_INVALID,
                hint="database.mode shared runs the sql/ directory of prenv's terraform/preview; copy it "
                "next to your root's .tf files",
            ) from None


def run_script(
    transport: SqlTransport,
    scripts: Scripts,
    name: str,
    variables: Mapping[str, str],
    *,
    verifier: str = "",
) -> list[tuple[Any, ...]]:
    """Run script `name` step by step, as psql would; the rows of its last statement."""
    rows: list[tuple[Any, ...]] = []
    for step in sqlscript.steps(name, scripts.files, variables):
        if isinstance(step, sqlscript.SetPassword):
            if not verifier:
                raise ValueError(f"{name} sets a password and no verifier was given")
            rows = transport.execute(
                f"ALTER USER {sqlscript.identifier(step.role)} PASSWORD {sqlscript.literal(verifier)}"
            )
        elif isinstance(step, sqlscript.Generate):
            for row in transport.execute(step.sql):
                for cell in row:
                    if cell is not None:
                        transport.execute(str(cell))
            rows = []
        else:
            rows = transport.execute(step.sql)
    return rows


@dataclass(frozen=True)
class Provisioned:
    database: str
    password_changed: bool


@dataclass
class SharedDatabase:
    """A pull request's database, role and secret on the shared server at `host`:`port`."""

    transport: SqlTransport
    secrets: SecretStore
    scripts: Scripts
    host: str
    port: int
    new_password: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(32), repr=False)
    new_salt: Callable[[], bytes] = field(default=lambda: os.urandom(scram.SALT_LENGTH), repr=False)
    new_version: Callable[[], str] = field(default=lambda: str(uuid.uuid4()), repr=False)

    def wake(self) -> None:
        """One trivial statement: a paused server resumes (the transport waits for it)."""
        self.transport.execute("SELECT 1")

    def provision(self, names: naming.Names, tags: Mapping[str, str]) -> Provisioned:
        """Create (or bring back) the PR's database and role, and its password in its secret."""
        name = names.pr_database
        variables = {"db": name, "role": name}
        known = run_script(self.transport, self.scripts, "status.sql", variables)
        recorded = str(known[0][1]) if known and known[0][1] is not None else None
        current = self.secrets.current_version(names.database_secret)
        run_script(self.transport, self.scripts, "create.sql", variables)
        if current is not None and recorded == current:
            return Provisioned(name, password_changed=False)
        password, version = self.new_password(), self.new_version()
        value = {
            "engine": "postgres",
            "host": self.host,
            "port": self.port,
            "dbname": name,
            "username": name,
            "password": password,
        }
        self.secrets.write(
            names.database_secret, json.dumps(value), version, create=current is None, tags=tags
        )
        run_script(
            self.transport,
            self.scripts,
            "password.sql",
            {**variables, "password_version": version},
            verifier=scram.verifier(password, self.new_salt()),
        )
        return Provisioned(name, password_changed=True)

    def drop(self, names: naming.Names) -> None:
        """Delete the PR's secret, then drop its database (ending open connections) and role."""
        self.secrets.delete(names.database_secret)
        self.drop_database(names.pr_database)

    def drop_database(self, name: str) -> None:
        """Drop database `name` and its role of the same name (cleanup's orphans)."""
        run_script(self.transport, self.scripts, "drop.sql", {"db": name, "role": name})

    def databases(self) -> list[str]:
        """The pull requests' databases on the server (by name: `naming.PR_DATABASE_RE`)."""
        rows = run_script(self.transport, self.scripts, "databases.sql", {})
        return sorted(str(row[0]) for row in rows if naming.pr_number_from_database(str(row[0])))
