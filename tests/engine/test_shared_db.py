"""database.mode shared against a real PostgreSQL, through the RDS Data API path prenv uses in AWS.

prenv's Data API adapter (prenv/aws/shared_db.py) sends terraform/preview/sql/ step by step
(prenv/core/sqlscript.py) to the in-process moto server, whose rds-data answers from a real PostgreSQL
(tests/roots_support/data_api.py); the pull requests' secrets are moto's Secrets Manager. The admin is
shaped like the RDS master user (not a superuser). The same SQL over psql is tests/terraform/
test_pr_database.py; the last test here holds the two transports to the same result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg
import pytest

from prenv.aws.client import Aws
from prenv.aws.shared_db import DataApi, DatabaseError, PrSecrets, Server, find_server
from prenv.core.naming import Names, names_for
from prenv.engine.shared_db import Scripts, SharedDatabase
from prenv.sandbox.emulator import Emulator
from tests.app.pg import PgCluster, running_cluster
from tests.helpers import REPO_ROOT
from tests.roots_support.data_api import Served, make_rds_admin, serve

SQL = REPO_ROOT / "terraform" / "preview" / "sql"
REPOSITORY = "prenv-tests/shared-db"
TAGS = {"prenv:repository": REPOSITORY, "prenv:managed-by": "prenv"}


@dataclass
class Shared:
    pg: PgCluster
    served: Served
    server: Server
    aws: Aws

    def database(self, **overrides: Any) -> SharedDatabase:
        found = SharedDatabase(
            DataApi(self.aws, self.server),
            PrSecrets(self.aws),
            Scripts.read(SQL),
            host=self.server.endpoint,
            port=self.server.port,
        )
        return replace(found, **overrides)

    def secret(self, names: Names) -> dict[str, Any]:
        reply = self.aws.client("secretsmanager").get_secret_value(SecretId=names.database_secret)
        return dict(json.loads(reply["SecretString"]))

    def versions(self, names: Names) -> dict[str, list[str]]:
        reply = self.aws.client("secretsmanager").describe_secret(SecretId=names.database_secret)
        return dict(reply["VersionIdsToStages"])

    def rows(
        self, query: str, dbname: str = "postgres", params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        with self.pg.connect(dbname) as conn:
            return conn.execute(query, params or None).fetchall()

    def connect_as(self, names: Names, password: str, dbname: str | None = None) -> str:
        """'ok', or the server's refusal."""
        try:
            with self.pg.connect(dbname or names.pr_database, user=names.pr_database, password=password):
                return "ok"
        except psycopg.OperationalError as error:
            return str(error).strip().splitlines()[0].split("FATAL:  ")[-1]


@pytest.fixture(scope="module")
def shared(moto_server: Emulator) -> Iterator[Shared]:
    import boto3

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_server.endpoint,
            region_name=moto_server.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    identifier = f"prenv-{uuid.uuid4().hex[:6]}-shared"
    client("rds").create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="prenv_admin",
        ManageMasterUserPassword=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2},
    )
    aws = Aws(**{s: client(s) for s in ("rds", "rds-data", "secretsmanager")})
    server = find_server(aws, identifier)
    with running_cluster(settings={"log_statement": "all"}) as pg:
        admin, password = make_rds_admin(pg)
        with serve(server.arn, pg, user=admin, password=password) as served:
            yield Shared(pg, served, server, aws)


def names(pr: int) -> Names:
    return names_for(pr, REPOSITORY)


def catalog(shared: Shared) -> dict[str, list[tuple[Any, ...]]]:
    """What create may change, as the superuser sees it (password verifiers and comments too)."""
    return {
        "roles": shared.rows("SELECT * FROM pg_authid ORDER BY rolname"),
        "comments": shared.rows("SELECT objoid::regrole::text, description FROM pg_shdescription ORDER BY 1"),
        "members": shared.rows(
            "SELECT roleid::regrole::text, member::regrole::text FROM pg_auth_members ORDER BY 1, 2"
        ),
        "databases": shared.rows(
            "SELECT datname, datdba::regrole::text, datacl::text FROM pg_database ORDER BY 1"
        ),
    }


def test_provision_makes_the_database_the_role_and_the_secret(shared: Shared) -> None:
    pr = names(101)
    done = shared.database().provision(pr, TAGS)
    assert (done.database, done.password_changed) == ("prenv_pr101", True)
    secret = shared.secret(pr)
    assert {k: v for k, v in secret.items() if k != "password"} == {
        "engine": "postgres",
        "host": shared.server.endpoint,
        "port": 5432,
        "dbname": "prenv_pr101",
        "username": "prenv_pr101",
    }
    assert shared.connect_as(pr, secret["password"]) == "ok"
    owner = shared.rows("SELECT datdba::regrole::text FROM pg_database WHERE datname = 'prenv_pr101'")
    assert owner == [("prenv_pr101",)]
    attributes = shared.rows(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = 'prenv_pr101'"
    )
    assert attributes == [(True, False, False, False, False, False)]
    tags = shared.aws.client("secretsmanager").describe_secret(SecretId=pr.database_secret)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS


def test_a_second_provision_changes_nothing(shared: Shared) -> None:
    pr = names(102)
    shared.database().provision(pr, TAGS)
    before, versions, sent = catalog(shared), shared.versions(pr), len(shared.served.statements)
    again = shared.database().provision(pr, TAGS)
    assert again.password_changed is False
    assert catalog(shared) == before
    assert shared.versions(pr) == versions
    # status.sql and create.sql's queries, which found nothing to do (only template1's warning again)
    sent_again = shared.served.statements[sent:]
    assert [s for s in sent_again if not s.startswith(("SELECT", "SET ", "DO $$BEGIN RAISE WARNING"))] == []


def test_two_prs_are_isolated(shared: Shared) -> None:
    one, two = names(111), names(112)
    shared.database().provision(one, TAGS)
    shared.database().provision(two, TAGS)
    with shared.pg.connect(
        two.pr_database, user=two.pr_database, password=shared.secret(two)["password"]
    ) as conn:
        conn.execute("CREATE TABLE private (secret text)")
        conn.execute("INSERT INTO private VALUES ('pr 112 only')")
    password = shared.secret(one)["password"]
    assert shared.connect_as(one, password, two.pr_database) == 'permission denied for database "prenv_pr112"'
    assert shared.rows("SELECT has_table_privilege('prenv_pr111', 'private', 'SELECT')", two.pr_database) == [
        (False,)
    ]
    databases = [row[0] for row in shared.rows("SELECT datname FROM pg_database WHERE datallowconn")]
    reachable = sorted(db for db in databases if shared.connect_as(one, password, db) == "ok")
    assert reachable == ["prenv_pr111", "template1"]  # template1: rdsadmin's on RDS, named in a warning


def test_drop_ends_open_connections_and_removes_everything(shared: Shared) -> None:
    pr = names(121)
    shared.database().provision(pr, TAGS)
    password = shared.secret(pr)["password"]
    with shared.pg.connect(pr.pr_database, user=pr.pr_database, password=password) as open_connection:
        open_connection.execute("CREATE TABLE busy (id int)")
        shared.database().drop(pr)
        with pytest.raises(psycopg.OperationalError):
            open_connection.execute("SELECT 1")
    assert shared.rows("SELECT count(*) FROM pg_database WHERE datname = 'prenv_pr121'") == [(0,)]
    assert shared.rows("SELECT count(*) FROM pg_roles WHERE rolname = 'prenv_pr121'") == [(0,)]
    with pytest.raises(shared.aws.client("secretsmanager").exceptions.ResourceNotFoundException):
        shared.versions(pr)


def test_a_second_drop_finds_nothing_and_succeeds(shared: Shared) -> None:
    pr = names(122)
    shared.database().provision(pr, TAGS)
    shared.database().drop(pr)
    before = catalog(shared)
    shared.database().drop(pr)
    assert catalog(shared) == before


def test_the_password_reaches_no_statement_and_no_server_log(shared: Shared) -> None:
    pr = names(131)
    sent = len(shared.served.statements)
    shared.database().provision(pr, TAGS)
    password = shared.secret(pr)["password"]
    statements = shared.served.statements[sent:]
    (alter,) = [s for s in statements if s.startswith("ALTER USER")]
    assert alter.startswith('ALTER USER "prenv_pr131" PASSWORD \'SCRAM-SHA-256$4096:')
    assert not [s for s in statements if password in s]
    assert password not in shared.pg.log.read_text(encoding="utf-8")


def test_a_role_the_secret_does_not_match_gets_a_new_password(shared: Shared) -> None:
    """A run that stopped between the secret and the role leaves them disagreeing: the next one mends it."""
    pr = names(141)
    shared.database().provision(pr, TAGS)
    old = shared.secret(pr)["password"]
    with shared.pg.connect() as conn:
        conn.execute("COMMENT ON ROLE prenv_pr141 IS 'a version the secret never had'")
    mended = shared.database().provision(pr, TAGS)
    new = shared.secret(pr)["password"]
    assert mended.password_changed
    assert new != old
    assert shared.connect_as(pr, new) == "ok"
    assert "password authentication failed" in shared.connect_as(pr, old)


def test_a_failed_password_step_is_mended_by_the_next_run(shared: Shared) -> None:
    pr = names(142)

    def broken() -> bytes:
        raise RuntimeError("the run stops after writing the secret")

    with pytest.raises(RuntimeError):
        shared.database(new_salt=broken).provision(pr, TAGS)
    assert shared.versions(pr)  # the secret was written; the role has no password yet
    assert shared.database().provision(pr, TAGS).password_changed
    assert shared.connect_as(pr, shared.secret(pr)["password"]) == "ok"


def test_the_server_s_refusal_is_one_clear_error(shared: Shared) -> None:
    pr = names(151)
    shared.pg.create_database(pr.pr_database, owner="prenv_admin")
    with pytest.raises(DatabaseError) as caught:
        shared.database().provision(pr, TAGS)
    assert caught.value.one_line() == (
        f"the shared database server {shared.server.identifier} refused a statement: ERROR: database "
        "prenv_pr151 exists and belongs to prenv_admin, not to prenv_pr151: not a pull request's database; "
        "SQLState: P0001; see the error above; the preview's database and role were left as they were"
    )
    assert caught.value.reason == "database-failed"


def test_the_databases_of_pull_requests_are_listed(shared: Shared) -> None:
    shared.database().provision(names(161), TAGS)
    shared.pg.create_database("prenv_pr162", owner="prenv_admin")  # not the shape create.sql makes
    shared.pg.create_database("notes", owner=shared.pg.superuser)
    found = shared.database().databases()
    assert "prenv_pr161" in found
    assert "prenv_pr162" not in found
    assert "notes" not in found


def test_a_paused_server_is_asked_again_until_it_resumes() -> None:
    class Resuming:
        def __init__(self) -> None:
            self.calls = 0

        def execute_statement(self, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            self.calls += 1
            if self.calls < 3:
                error = {"Error": {"Code": "DatabaseResumingException", "Message": "resuming"}}
                raise ClientError(error, "ExecuteStatement")
            return {"records": [[{"longValue": 1}]]}

    client = Resuming()
    waits: list[float] = []
    api = DataApi(Aws(lambda service: client), Server("s", "arn", "secret", "host", 5432), sleep=waits.append)
    assert api.execute("SELECT 1") == [(1,)]
    assert (client.calls, waits) == (3, [1.0, 2.0])


def _psql_create(pg: PgCluster, name: str, password: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **pg.libpq_env(user="prenv_admin", password="admin-password-for-tests"),
        "PRENV_DB_NAME": name,
        "PRENV_DB_PASSWORD": password,
    }
    done = subprocess.run(
        ["/bin/sh", str(SQL / "pr-database.sh"), "create"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_both_transports_give_the_same_shape(shared: Shared) -> None:
    """pr-database.sh (psql) and prenv (the Data API path) make the same role and database."""
    if shutil.which("psql") is None or shutil.which("setsid") is None:
        pytest.skip("psql or setsid is not on PATH")
    _psql_create(shared.pg, "prenv_pr171", "a-password-of-sixteen-characters")
    shared.database().provision(names(172), TAGS)

    def shape(name: str) -> Callable[[], list[tuple[Any, ...]]]:
        def read() -> list[tuple[Any, ...]]:
            role = shared.rows(
                "SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, "
                "rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = %s",
                params=(name,),
            )
            database = shared.rows(
                "SELECT replace(datacl::text, %s, 'PR'), datdba::regrole::text = %s "
                "FROM pg_database WHERE datname = %s",
                params=(name, name, name),
            )
            members = shared.rows(
                "SELECT roleid::regrole::text = %s, member::regrole::text FROM pg_auth_members "
                "WHERE %s IN (roleid::regrole::text, member::regrole::text)",
                params=(name, name),
            )
            return role + database + members

        return read

    assert shape("prenv_pr171")() == shape("prenv_pr172")()
