"""terraform/preview/sql/pr-database.sh against a real PostgreSQL: one database and one role per PR.

The admin is not a superuser, like the RDS master user: CREATEDB and CREATEROLE, and the owner of the
`postgres` maintenance database (template1 stays the bootstrap superuser's, as on RDS it is rdsadmin's).
The server logs every statement, so a test can show that no password reaches it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.app.pg import PgCluster, running_cluster
from tests.helpers import REPO_ROOT
from tests.roots_support.data_api import ADMIN, ADMIN_PASSWORD, make_rds_admin

SCRIPT = REPO_ROOT / "terraform" / "preview" / "sql" / "pr-database.sh"


@pytest.fixture(scope="module")
def server() -> Iterator[PgCluster]:
    for tool in ("psql", "setsid"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH")
    with running_cluster(settings={"log_statement": "all"}) as cluster:
        make_rds_admin(cluster)
        yield cluster


def _env(server: PgCluster, name: str, password: str | None, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **server.libpq_env(user=ADMIN, password=ADMIN_PASSWORD),
        "PRENV_DB_NAME": name,
        **extra,
    }
    if password is not None:
        env["PRENV_DB_PASSWORD"] = password
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The script as the one-off task runs it: `sh pr-database.sh ACTION`, settings in the environment."""
    return subprocess.run(
        ["/bin/sh", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False, timeout=60
    )


def _script(
    server: PgCluster, *args: str, name: str, password: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return _run(_env(server, name, password, **extra), *args)


def _create(server: PgCluster, name: str, password: str) -> subprocess.CompletedProcess[str]:
    done = _script(server, "create", name=name, password=password)
    assert done.returncode == 0, done.stderr
    return done


def _rows(server: PgCluster, query: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
    with server.connect(dbname) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _catalog(server: PgCluster) -> dict[str, list[tuple[Any, ...]]]:
    """What create may change, as the superuser sees it: roles (password verifiers too), memberships,
    databases with their owners and privileges."""
    return {
        "roles": _rows(server, "SELECT * FROM pg_authid ORDER BY rolname"),
        "members": _rows(
            server,
            "SELECT roleid::regrole::text, member::regrole::text, admin_option FROM pg_auth_members "
            "ORDER BY 1, 2",
        ),
        "databases": _rows(
            server, "SELECT datname, datdba::regrole::text, datacl::text FROM pg_database ORDER BY 1"
        ),
    }


def _connect_as(server: PgCluster, role: str, password: str, dbname: str) -> str:
    """'ok', or the first line of the server's refusal."""
    try:
        with server.connect(dbname, user=role, password=password):
            return "ok"
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0].split("FATAL:  ")[-1]


def test_create_makes_a_database_owned_by_a_role_that_can_log_in(server: PgCluster) -> None:
    done = _create(server, "pr_11", "pw-eleven")
    assert done.stdout == "pr-database: database pr_11 owned by role pr_11: ready (password set)\n"
    assert _rows(server, "SELECT datdba::regrole::text FROM pg_database WHERE datname = 'pr_11'") == [
        ("pr_11",)
    ]
    attributes = _rows(
        server,
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = 'pr_11'",
    )
    assert attributes == [(True, False, False, False, False, False)]
    with server.connect("pr_11", user="pr_11", password="pw-eleven") as conn:
        conn.execute("CREATE TABLE t (id int)")  # it owns the database, hence its public schema
        assert conn.execute("SELECT current_user, current_database()").fetchall() == [("pr_11", "pr_11")]


def test_a_second_create_changes_nothing(server: PgCluster) -> None:
    _create(server, "pr_12", "pw-twelve")
    before = _catalog(server)
    again = _create(server, "pr_12", "pw-twelve")
    assert again.stdout == "pr-database: database pr_12 owned by role pr_12: ready (password unchanged)\n"
    assert _catalog(server) == before


def test_a_new_password_replaces_the_old_one(server: PgCluster) -> None:
    _create(server, "pr_13", "first-password")
    assert _create(server, "pr_13", "second-password").stdout.endswith("(password set)\n")
    assert _connect_as(server, "pr_13", "second-password", "pr_13") == "ok"
    assert "password authentication failed" in _connect_as(server, "pr_13", "first-password", "pr_13")


def test_two_prs_are_isolated(server: PgCluster) -> None:
    _create(server, "pr_1", "pw-one")
    _create(server, "pr_2", "pw-two")
    with server.connect("pr_2", user="pr_2", password="pw-two") as conn:
        conn.execute("CREATE TABLE private (secret text)")
        conn.execute("INSERT INTO private VALUES ('pr 2 only')")

    assert _connect_as(server, "pr_1", "pw-one", "pr_2") == 'permission denied for database "pr_2"'
    # Even a role that could connect could not read it: nothing on it is granted to anyone but its owner.
    assert _rows(server, "SELECT has_table_privilege('pr_1', 'private', 'SELECT')", "pr_2") == [(False,)]
    assert _rows(server, "SELECT relacl FROM pg_class WHERE relname = 'private'", "pr_2") == [(None,)]

    # Where pr_1 may log in at all: its own database, and template1, which the admin does not own
    # (named in create's warning; on RDS template1 is rdsadmin's).
    databases = [row[0] for row in _rows(server, "SELECT datname FROM pg_database WHERE datallowconn")]
    reachable = sorted(db for db in databases if _connect_as(server, "pr_1", "pw-one", db) == "ok")
    assert reachable == ["pr_1", "template1"]
    assert _rows(server, "SELECT count(*) FROM pg_auth_members WHERE member = 'pr_1'::regrole") == [(0,)]


def test_create_warns_about_databases_it_cannot_close(server: PgCluster) -> None:
    done = _create(server, "pr_14", "pw")
    assert (
        "WARNING:  database template1 (owner app) stays open to every role: its owner can run "
        "REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC"
    ) in done.stderr


def test_with_a_superuser_admin_the_role_reaches_only_its_own_database() -> None:
    """The local stack's shape: the postgres image's admin is a superuser, so template1 is closed too."""
    if shutil.which("psql") is None or shutil.which("setsid") is None:
        pytest.skip("psql or setsid is not on PATH")
    with running_cluster(superuser="postgres") as local:
        env = {"PATH": os.environ.get("PATH", ""), **local.libpq_env(), "PRENV_DB_NAME": "app"}
        done = _run({**env, "PRENV_DB_PASSWORD": "local-pw"}, "create")
        assert (done.returncode, done.stderr) == (0, "")
        with local.connect() as conn:
            databases = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datallowconn")]
        reachable = [db for db in databases if _connect_as(local, "app", "local-pw", db) == "ok"]
        assert reachable == ["app"]


def test_drop_ends_open_connections_and_removes_both(server: PgCluster) -> None:
    _create(server, "pr_21", "pw")
    with server.connect("pr_21", user="pr_21", password="pw") as open_connection:
        open_connection.execute("CREATE TABLE busy (id int)")
        done = _script(server, "drop", name="pr_21")
        assert (done.returncode, done.stdout) == (0, "pr-database: database pr_21 and role pr_21 are gone\n")
        with pytest.raises(psycopg.OperationalError):
            open_connection.execute("SELECT 1")
    assert _rows(server, "SELECT count(*) FROM pg_database WHERE datname = 'pr_21'") == [(0,)]
    assert _rows(server, "SELECT count(*) FROM pg_roles WHERE rolname = 'pr_21'") == [(0,)]


def test_a_second_drop_finds_nothing_and_succeeds(server: PgCluster) -> None:
    _create(server, "pr_22", "pw")
    assert _script(server, "drop", name="pr_22").returncode == 0
    before = _catalog(server)
    again = _script(server, "drop", name="pr_22")
    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        "pr-database: database pr_22 and role pr_22 are gone\n",
        "",
    )
    assert _catalog(server) == before


def test_the_password_reaches_neither_the_server_log_nor_the_output(server: PgCluster) -> None:
    password = "never-logged-7f3a"
    done = _create(server, "pr_31", password)
    log = server.log.read_text(encoding="utf-8")
    assert "ALTER USER pr_31 PASSWORD 'SCRAM-SHA-256$4096:" in log  # what the server got: a verifier
    assert password not in log
    assert password not in done.stdout + done.stderr


def test_drop_refuses_a_database_that_is_not_the_roles(server: PgCluster) -> None:
    server.create_database("shared_data", owner=ADMIN)
    done = _script(server, "drop", name="shared_data")
    assert done.returncode == 1
    assert (
        "ERROR:  database shared_data belongs to prenv_admin, not to shared_data: not a pull request's "
        "database, left alone"
    ) in done.stderr
    assert done.stderr.endswith(
        "pr-database: could not drop database shared_data and role shared_data (psql's error above)\n"
    )
    assert _rows(server, "SELECT count(*) FROM pg_database WHERE datname = 'shared_data'") == [(1,)]


def test_create_refuses_an_existing_role_with_more_privileges(server: PgCluster) -> None:
    with server.connect() as conn:
        conn.execute("CREATE ROLE pr_41 LOGIN CREATEDB")
    done = _script(server, "create", name="pr_41", password="pw")
    assert done.returncode == 1
    assert (
        "ERROR:  role pr_41 exists with attributes a pull request's role must not have: drop it or use "
        "another PRENV_DB_ROLE"
    ) in done.stderr


@pytest.mark.parametrize(
    ("args", "name", "password", "code", "message"),
    [
        (
            (),
            "pr_1",
            "pw",
            2,
            "usage: pr-database.sh create|drop (settings in the environment: see the header of ",
        ),
        (("upgrade",), "pr_1", "pw", 2, "usage: pr-database.sh create|drop"),
        (("create",), "", "pw", 1, "pr-database: set PRENV_DB_NAME to the pull request's database name"),
        (
            ("create",),
            "pr_1",
            None,
            1,
            "pr-database: set PRENV_DB_PASSWORD to the role's password (create needs it)",
        ),
        (
            ("create",),
            'pr-1"; DROP DATABASE postgres; --',
            "pw",
            1,
            "pr-database: PRENV_DB_NAME 'pr-1\"; DROP DATABASE postgres; --' is not a database name prenv "
            "makes: a lowercase letter, then lowercase letters, digits or _",
        ),
        (
            ("drop",),
            "x" * 64,
            None,
            1,
            f"pr-database: PRENV_DB_NAME '{'x' * 64}' is longer than 63 characters",
        ),
        (
            ("drop",),
            "postgres",
            None,
            1,
            "pr-database: PRENV_DB_NAME 'postgres' is one of the server's own databases, never a pull "
            "request's",
        ),
    ],
)
def test_bad_usage_is_refused_before_connecting(
    server: PgCluster, args: tuple[str, ...], name: str, password: str | None, code: int, message: str
) -> None:
    done = _script(server, *args, name=name, password=password)
    assert done.returncode == code
    assert done.stderr.startswith(message)
    assert done.stdout == ""
