"""The RDS Data API of the in-process moto server, answered by a real PostgreSQL.

moto's rds-data ExecuteStatement runs nothing: it answers from a queue of canned results
(moto/rdsdata/models.py). For the shared database mode the SQL is the point, so the tests give a
cluster ARN a real server (`serve`): moto still parses the request (the tests/iam recorder sees every
call) and this module answers it the way the Data API does for Aurora PostgreSQL, one statement per
call on a connection of its own, committed on its own (no transaction id), as the cluster's master
user, with the records as Data API fields. A statement the server refuses is a DatabaseErrorException
carrying PostgreSQL's message, as the Data API reports SQL errors of Serverless v2 and provisioned
clusters (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html).

Calls for any other ARN keep moto's own behaviour. Every statement received is kept (`statements`),
so a test can show what reached the server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.app.pg import PgCluster


@dataclass
class Served:
    cluster: PgCluster
    user: str
    password: str
    statements: list[str] = field(default_factory=list)


_SERVED: dict[str, Served] = {}
_LOCK = threading.Lock()


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _answer(served: Served, sql: str, database: str) -> str:
    from moto.core.exceptions import JsonRESTError

    served.statements.append(sql)
    try:
        with served.cluster.connect(
            database or "postgres", user=served.user, password=served.password
        ) as conn:
            cursor = conn.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            updated = max(cursor.rowcount, 0)
    except psycopg.Error as exc:
        state = exc.sqlstate or ""
        message = str(exc.diag.message_primary or exc).strip()
        raise JsonRESTError("DatabaseErrorException", f"ERROR: {message}; SQLState: {state}") from None
    return json.dumps(
        {"records": [[_field(v) for v in row] for row in rows], "numberOfRecordsUpdated": updated}
    )


def _install() -> None:
    from moto.rdsdata import responses

    response_class = responses.RDSDataServiceResponse
    if getattr(response_class.execute_statement, "_prenv_served", False):
        return
    original = response_class.execute_statement

    def execute_statement(self: Any) -> str:
        served = _SERVED.get(self._get_param("resourceArn"))
        if served is None:
            return original(self)
        return _answer(served, self._get_param("sql"), self._get_param("database") or "")

    execute_statement._prenv_served = True  # type: ignore[attr-defined]
    response_class.execute_statement = execute_statement  # type: ignore[method-assign]


@contextmanager
def serve(cluster_arn: str, cluster: PgCluster, *, user: str, password: str) -> Iterator[Served]:
    """Answer the Data API calls for `cluster_arn` with `cluster`, signed in as `user`."""
    with _LOCK:
        _install()
        served = _SERVED[cluster_arn] = Served(cluster, user, password)
    try:
        yield served
    finally:
        with _LOCK:
            _SERVED.pop(cluster_arn, None)


ADMIN = "prenv_admin"
ADMIN_PASSWORD = "admin-password-for-tests"  # only for throwaway clusters


def make_rds_admin(cluster: PgCluster) -> tuple[str, str]:
    """An admin shaped like the RDS master user: CREATEDB and CREATEROLE, owner of the maintenance
    database, not a superuser (template1 stays the bootstrap superuser's, as on RDS it is rdsadmin's)."""
    with cluster.connect() as conn:
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE PASSWORD '{ADMIN_PASSWORD}'")
        conn.execute(f"ALTER DATABASE postgres OWNER TO {ADMIN}")
    return ADMIN, ADMIN_PASSWORD
