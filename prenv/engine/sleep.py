"""Putting a preview to sleep and waking it: the order of the AWS calls, and the bounded waits of a wake.

Sleep: the ECS service is scaled to zero tasks, then the preview's own RDS instance is stopped when it
is available (one that is busy is stopped by the next cleanup run: the record says it is not stopped
yet). Wake: the RDS instance is started and waited for (the app answers its health check only with its
database), then the service is scaled back to its count before sleep and waited for until its tasks
run. No Terraform runs: the sleep record says where the parts are (`prenv.core.sleep`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from prenv.aws import sleep as calls
from prenv.aws.client import Aws
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.sleep import SleepRecord

# RDS statuses from which an instance does not become available by waiting:
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html#Overview.DBInstance.Status
_BROKEN = frozenset(
    {
        "deleting",
        "failed",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
        "insufficient-capacity",
        "restore-error",
        "storage-full",
    }
)


@dataclass(frozen=True)
class Waits:
    """How long a wake waits for each part, and how (tests pass their own sleep and clock)."""

    database: timedelta = timedelta(minutes=20)  # RDS takes minutes to start
    service: timedelta = timedelta(minutes=10)
    database_poll: float = 15.0
    service_poll: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Slept:
    """What a sleep did: the record as it now stands, and what to say about it."""

    record: SleepRecord
    done: tuple[str, ...]  # what was done, in words
    pending: str = ""  # what is left for the next cleanup run ("": nothing)


def put_to_sleep(aws: Aws, record: SleepRecord, *, now: datetime) -> Slept:
    """Scale the service to zero and stop the database (again). Safe to repeat."""
    done: list[str] = []
    counts = calls.service_counts(aws, record.cluster, record.service)
    if counts is None:
        raise PrenvError(
            f"the preview's ECS service {record.service} is not in cluster {record.cluster} of "
            f"{record.region}",
            reason=FailureReason.SLEEP_FAILED,
            hint="check it with `prenv status`; the next deploy creates it again",
        )
    if counts.desired:
        calls.scale_service(aws, record.cluster, record.service, 0)
        done.append(f"service {record.service} scaled from {counts.desired} to 0 tasks")
    if not record.db_identifier:
        return Slept(record, tuple(done))
    status = calls.db_status(aws, record.db_identifier)
    if status is None:
        done.append(f"database {record.db_identifier} not found")
        return Slept(replace(record, db_identifier="", db_stopped_at=None), tuple(done))
    if status == "available":
        calls.stop_db(aws, record.db_identifier)
        done.append(f"database {record.db_identifier} stopped")
        return Slept(replace(record, db_stopped_at=now), tuple(done))
    if status in ("stopped", "stopping"):
        # First seen stopped: from now on AWS's seven days count. Seen stopped again when due: AWS has
        # not started it yet, so the next run looks again.
        stopped_at = record.db_stopped_at or now
        return Slept(replace(record, db_stopped_at=stopped_at), tuple(done))
    pending = f"database {record.db_identifier} is {status}: it is stopped on the next cleanup run"
    return Slept(record, tuple(done), pending)


def wake_up(aws: Aws, record: SleepRecord, waits: Waits) -> list[str]:
    """Start the database and wait until it is available, then scale the service back and wait until its
    tasks run. Returns what was done, in words."""
    done: list[str] = []
    if record.db_identifier:
        done += _start_database(aws, record.db_identifier, waits)
    counts = calls.service_counts(aws, record.cluster, record.service)
    if counts is None:
        raise PrenvError(
            f"the preview's ECS service {record.service} is not in cluster {record.cluster} of "
            f"{record.region}",
            reason=FailureReason.WAKE_FAILED,
            hint="deploy the PR again (push a commit or comment `/prenv deploy`) to recreate it",
        )
    if counts.desired < record.wake_count:
        calls.scale_service(aws, record.cluster, record.service, record.wake_count)
        done.append(f"service {record.service} scaled from {counts.desired} to {record.wake_count} tasks")
    _wait_running(aws, record, waits)
    return done


def _start_database(aws: Aws, identifier: str, waits: Waits) -> list[str]:
    deadline = waits.clock() + waits.database.total_seconds()
    started = False
    while True:
        status = calls.db_status(aws, identifier)
        if status is None:
            raise PrenvError(
                f"the preview's database {identifier} does not exist",
                reason=FailureReason.WAKE_FAILED,
                hint="deploy the PR again (push a commit or comment `/prenv deploy`) to recreate it",
            )
        if status == "available":
            return [f"database {identifier} started"] if started else []
        if status in _BROKEN:
            raise PrenvError(
                f"the preview's database {identifier} is {status}: it cannot be started",
                reason=FailureReason.WAKE_FAILED,
                hint="see the RDS console's events for it; destroy and deploy the preview again if need be",
            )
        if status == "stopped" and not started:
            calls.start_db(aws, identifier)
            started = True
            continue
        if waits.clock() + waits.database_poll > deadline:
            raise PrenvError(
                f"the preview's database {identifier} was not available within "
                f"{_minutes(waits.database)} (it is {status})",
                reason=FailureReason.WAKE_FAILED,
                hint="RDS is still starting it: run `prenv wake` again in a few minutes",
            )
        waits.sleep(waits.database_poll)


def _wait_running(aws: Aws, record: SleepRecord, waits: Waits) -> None:
    deadline = waits.clock() + waits.service.total_seconds()
    while True:
        counts = calls.service_counts(aws, record.cluster, record.service)
        if counts is not None and counts.running >= max(counts.desired, 1) and counts.deployments <= 1:
            return
        if waits.clock() + waits.service_poll > deadline:
            running = counts.running if counts else 0
            raise PrenvError(
                f"the preview's service {record.service} runs {running} of {record.wake_count} tasks "
                f"after {_minutes(waits.service)}",
                reason=FailureReason.WAKE_FAILED,
                hint="see why with `prenv status` and `prenv logs`, then run `prenv wake` again",
            )
        waits.sleep(waits.service_poll)


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"
