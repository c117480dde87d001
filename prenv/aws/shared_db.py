"""database.mode shared, the AWS side: the repository's shared Aurora cluster, SQL sent to it through the
RDS Data API, and the pull requests' secrets in Secrets Manager.

The Data API runs each statement inside AWS, on the cluster's writer, with the credentials of the
master user secret RDS manages (the caller needs `rds-data:ExecuteStatement` on the cluster and
`secretsmanager:GetSecretValue` on that secret: the Data API reads it with the caller's credentials,
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html). So prenv needs no
network path to the database and no task in the VPC. A statement without a transaction is committed
on its own (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html),
which CREATE DATABASE and DROP DATABASE need.

A paused Aurora Serverless v2 instance (0 ACU) answers the first call with DatabaseResumingException
and resumes; the call is repeated until it answers (within `resume_timeout`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prenv.aws.client import Aws, AwsError
from prenv.core.errors import FailureReason, PrenvError

MAINTENANCE_DATABASE = "postgres"
# Data API errors that carry the database's own refusal (an SQL error, a RAISE EXCEPTION).
_SQL_REFUSED = {"BadRequestException", "DatabaseErrorException"}
# Answers of a server that is waking up or briefly unavailable: asked again.
_WAKING = {"DatabaseResumingException", "DatabaseUnavailableException"}
_BASE_HINT = (
    "database.mode shared needs terraform/base applied with shared_database = true (an Aurora "
    "PostgreSQL cluster with the Data API on); see docs/setup.md, Databases"
)


class DatabaseError(PrenvError):
    """The shared server refused a statement, or cannot be used."""

    def __init__(self, message: str, *, hint: str = "", detail: str = "") -> None:
        super().__init__(message, reason=FailureReason.DATABASE_FAILED, hint=hint, detail=detail)


@dataclass(frozen=True)
class Server:
    """The shared cluster, as RDS describes it."""

    identifier: str
    arn: str
    secret_arn: str  # the master user secret RDS manages
    endpoint: str
    port: int


def find_server(aws: Aws, identifier: str) -> Server:
    """The shared cluster `identifier` (DescribeDBClusters), or DatabaseError saying how to make it."""
    try:
        reply = aws.call(
            "RDS DescribeDBClusters", "rds", "describe_db_clusters", DBClusterIdentifier=identifier
        )
    except AwsError as exc:
        if exc.code == "DBClusterNotFoundFault":
            raise DatabaseError(
                f"the shared database server {identifier} does not exist", hint=_BASE_HINT
            ) from None
        raise
    (cluster,) = reply["DBClusters"]
    secret = (cluster.get("MasterUserSecret") or {}).get("SecretArn", "")
    if not secret:
        raise DatabaseError(
            f"the shared database server {identifier} has no master user secret managed by RDS",
            hint="terraform/base creates it with manage_master_user_password = true; the Data API "
            "signs in with it",
        )
    return Server(
        identifier=identifier,
        arn=str(cluster["DBClusterArn"]),
        secret_arn=str(secret),
        endpoint=str(cluster.get("Endpoint", "")),
        port=int(cluster.get("Port") or 5432),
    )


def _value(field: Mapping[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "booleanValue", "doubleValue", "blobValue"):
        if key in field:
            return field[key]
    return None


@dataclass
class DataApi:
    """SQL through the RDS Data API: one statement per call, committed on its own, rows as tuples."""

    aws: Aws
    server: Server
    database: str = MAINTENANCE_DATABASE
    resume_timeout: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    calls: int = 0

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        deadline = self.clock() + self.resume_timeout
        delay = 1.0
        while True:
            self.calls += 1
            try:
                reply = self.aws.call(
                    "RDS Data API ExecuteStatement",
                    "rds-data",
                    "execute_statement",
                    resourceArn=self.server.arn,
                    secretArn=self.server.secret_arn,
                    database=self.database,
                    sql=sql,
                    continueAfterTimeout=True,  # AWS advises it for DDL: a cut-off DDL can leave damage
                )
            except AwsError as exc:
                if exc.code in _WAKING and self.clock() + delay < deadline:
                    self.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
                raise self._classify(exc) from None
            return [tuple(_value(f) for f in record) for record in reply.get("records") or []]

    def _classify(self, exc: AwsError) -> PrenvError:
        server = self.server.identifier
        if exc.code in _SQL_REFUSED:
            # Keep only the database's own words (the Data API prefixes its own).
            said = exc.message.split(": ", 2)[-1]
            return DatabaseError(
                f"the shared database server {server} refused a statement: {said}",
                hint="see the error above; the preview's database and role were left as they were",
            )
        if exc.code in _WAKING:
            return DatabaseError(
                f"the shared database server {server} did not resume within {self.resume_timeout:.0f}s",
                hint="run the job again; Aurora Serverless v2 usually resumes from a pause in about "
                "15 seconds",
            )
        if "HttpEndpoint" in exc.message or "Data API" in exc.message:
            return DatabaseError(f"the Data API is not enabled on {server}: {exc.message}", hint=_BASE_HINT)
        return exc


@dataclass
class PrSecrets:
    """The pull requests' database secrets (`prenv/<hash6>/pr<N>/database`), which prenv makes itself: the
    password is generated in this process and goes from here to Secrets Manager only, never through
    Terraform (its state and plan hold the secret's ARN, never its value)."""

    aws: Aws

    def current_version(self, name: str) -> str | None:
        """The version id of the secret's current value (DescribeSecret: metadata only), or None."""
        try:
            reply = self.aws.call(
                "Secrets Manager DescribeSecret", "secretsmanager", "describe_secret", SecretId=name
            )
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        if reply.get("DeletedDate"):
            raise DatabaseError(
                f"the secret {name} is scheduled for deletion",
                hint="restore it (aws secretsmanager restore-secret) or delete it for good, then deploy "
                "again",
            )
        stages: Mapping[str, list[str]] = reply.get("VersionIdsToStages") or {}
        return next((version for version, names in stages.items() if "AWSCURRENT" in names), None)

    def write(self, name: str, value: str, version: str, *, create: bool, tags: Mapping[str, str]) -> None:
        """Create the secret with `value`, or make `value` its current value; either as `version`."""
        if create:
            self.aws.call(
                "Secrets Manager CreateSecret",
                "secretsmanager",
                "create_secret",
                Name=name,
                SecretString=value,
                ClientRequestToken=version,
                Description="prenv: the password of a pull request's role on the shared database server",
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
        else:
            self.aws.call(
                "Secrets Manager PutSecretValue",
                "secretsmanager",
                "put_secret_value",
                SecretId=name,
                SecretString=value,
                ClientRequestToken=version,
            )

    def delete(self, name: str) -> bool:
        """Delete the secret at once (no recovery window: the role it opened is gone). False: none."""
        try:
            self.aws.call(
                "Secrets Manager DeleteSecret",
                "secretsmanager",
                "delete_secret",
                SecretId=name,
                ForceDeleteWithoutRecovery=True,
            )
        except AwsError as exc:
            if exc.code == "ResourceNotFoundException":
                return False
            raise
        return True
