"""The AWS calls of sleep and wake: an ECS service's desired count, an RDS instance's stop and start.

One AWS call per function; what to do with the answers is decided in `prenv.engine.sleep`. Errors are
`AwsError` (`prenv.aws.client`), with AWS's error code.
"""

from __future__ import annotations

from dataclasses import dataclass

from prenv.aws.client import Aws

_HINT = "check that the preview still exists (`prenv status`) and the AWS credentials' permissions"


@dataclass(frozen=True)
class ServiceCounts:
    desired: int
    running: int
    pending: int
    deployments: int  # more than one: a rollout is under way


def service_counts(aws: Aws, cluster: str, service: str) -> ServiceCounts | None:
    """The service's task counts, or None when the cluster has no such active service."""
    found = aws.ecs_service(cluster, service)
    if found is None or found.get("status") not in (None, "ACTIVE"):
        return None
    return ServiceCounts(
        desired=int(found.get("desiredCount") or 0),
        running=int(found.get("runningCount") or 0),
        pending=int(found.get("pendingCount") or 0),
        deployments=len(found.get("deployments") or []),
    )


def scale_service(aws: Aws, cluster: str, service: str, count: int) -> None:
    aws.call(
        f"ECS UpdateService of {service} (desired count {count})",
        "ecs",
        "update_service",
        hint=_HINT,
        cluster=cluster,
        service=service,
        desiredCount=count,
    )


def db_status(aws: Aws, identifier: str) -> str | None:
    """The RDS instance's status (available, stopping, stopped, starting, ...), or None when it is gone."""
    found = aws.db_instance(identifier)
    return None if found is None else str(found.get("DBInstanceStatus", ""))


def stop_db(aws: Aws, identifier: str) -> None:
    aws.call(
        f"RDS StopDBInstance of {identifier}",
        "rds",
        "stop_db_instance",
        hint=_HINT,
        DBInstanceIdentifier=identifier,
    )


def start_db(aws: Aws, identifier: str) -> None:
    aws.call(
        f"RDS StartDBInstance of {identifier}",
        "rds",
        "start_db_instance",
        hint=_HINT,
        DBInstanceIdentifier=identifier,
    )
