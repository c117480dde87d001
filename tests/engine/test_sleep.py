"""Sleep and wake of a preview's parts (prenv.engine.sleep) against the emulator, with the moments RDS
takes: moto stops and starts an instance at once, so the in-between states (stopping, starting, a
broken one) are set in moto's in-process model, as the troubleshooting tests plant what ECS writes.
Time is the test's: the waits get a clock and a sleep that advance it (no test waits for real)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from prenv.aws.client import Aws, AwsSettings, client_factory
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.naming import names_for
from prenv.core.sleep import SleepRecord
from prenv.engine.sleep import Waits, put_to_sleep, wake_up
from prenv.sandbox import emulator as emu
from tests.commands.troubleshoot import planting

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock that only moves when the code under test sleeps; `on_sleep` runs at each sleep."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] = lambda count: None

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.slept))

    def waits(self, **limits: Any) -> Waits:
        return Waits(sleep=self.sleep, clock=lambda: self.now, **limits)


def _db_model(identifier: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[planting.ACCOUNT]["us-east-1"].databases[identifier]


@pytest.fixture
def parts(boto: Any, moto_server: emu.Emulator, repository: str) -> tuple[Aws, SleepRecord]:
    names = names_for(9, repository)
    planting.plant_preview(
        boto,
        cluster=names.base,
        service=names.ecs_service,
        target_group=names.target_group,
        db_identifier=names.rds_identifier,
    )
    # Two tasks running (moto's service reports running what its desired count says once updated).
    boto("ecs").update_service(cluster=names.base, service=names.ecs_service, desiredCount=2)
    settings = AwsSettings(
        endpoint=moto_server.endpoint,
        credentials=dict.fromkeys(("aws_access_key_id", "aws_secret_access_key"), "testing"),
    )
    record = SleepRecord(
        slept_at=NOW,
        region="us-east-1",
        cluster=names.base,
        service=names.ecs_service,
        desired_count=2,
        db_identifier=names.rds_identifier,
    )
    return Aws(client_factory(settings, "us-east-1")), record


def test_sleep_then_wake_restores_the_count_and_the_database(
    boto: Any, parts: tuple[Aws, SleepRecord]
) -> None:
    aws, record = parts
    slept = put_to_sleep(aws, record, now=NOW)
    assert slept.done == (
        f"service {record.service} scaled from 2 to 0 tasks",
        f"database {record.db_identifier} stopped",
    )
    assert slept.record.db_stopped_at == NOW
    assert slept.pending == ""
    assert _db_model(record.db_identifier).status == "stopped"
    # Again: nothing left to do, and the stop time stays the first one.
    again = put_to_sleep(aws, slept.record, now=NOW + timedelta(hours=1))
    assert (again.done, again.record.db_stopped_at) == ((), NOW)

    clock = Clock()
    done = wake_up(aws, slept.record, clock.waits())
    assert done == [
        f"database {record.db_identifier} started",
        f"service {record.service} scaled from 0 to 2 tasks",
    ]
    assert clock.slept == []  # moto is instant: no wait was needed
    service = boto("ecs").describe_services(cluster=record.cluster, services=[record.service])["services"][0]
    assert (service["desiredCount"], service["runningCount"]) == (2, 2)
    assert _db_model(record.db_identifier).status == "available"


def test_a_busy_database_is_left_for_the_next_run(parts: tuple[Aws, SleepRecord]) -> None:
    aws, record = parts
    _db_model(record.db_identifier).status = "backing-up"
    slept = put_to_sleep(aws, record, now=NOW)
    assert (
        slept.pending
        == f"database {record.db_identifier} is backing-up: it is stopped on the next cleanup run"
    )
    assert slept.record.db_stopped_at is None  # so the next run's decision is "stop again"


def test_wake_waits_for_a_stopping_database_then_starts_it(parts: tuple[Aws, SleepRecord]) -> None:
    aws, record = parts
    model = _db_model(record.db_identifier)
    model.status = "stopping"

    def rds_moves(count: int) -> None:
        if count == 2:
            model.status = "stopped"  # stopped after two polls; then prenv starts it (moto: at once)

    clock = Clock(on_sleep=rds_moves)
    done = wake_up(aws, record, clock.waits(database_poll=15.0))
    assert clock.slept == [15.0, 15.0]
    assert done[0] == f"database {record.db_identifier} started"
    assert model.status == "available"


def test_wake_gives_up_on_a_database_that_does_not_start_in_time(parts: tuple[Aws, SleepRecord]) -> None:
    aws, record = parts
    _db_model(record.db_identifier).status = "starting"
    clock = Clock()
    with pytest.raises(PrenvError) as raised:
        wake_up(aws, record, clock.waits(database=timedelta(minutes=1), database_poll=15.0))
    assert raised.value.reason is FailureReason.WAKE_FAILED
    assert raised.value.one_line() == (
        f"the preview's database {record.db_identifier} was not available within 1 minutes (it is starting); "
        "RDS is still starting it: run `prenv wake` again in a few minutes"
    )
    assert clock.now <= 60


def test_wake_refuses_a_database_that_cannot_start(parts: tuple[Aws, SleepRecord]) -> None:
    aws, record = parts
    _db_model(record.db_identifier).status = "storage-full"
    with pytest.raises(PrenvError, match=r"is storage-full: it cannot be started") as raised:
        wake_up(aws, record, Clock().waits())
    assert raised.value.reason is FailureReason.WAKE_FAILED


def test_wake_of_a_service_that_is_gone_says_to_deploy_again(
    boto: Any, parts: tuple[Aws, SleepRecord]
) -> None:
    aws, record = parts
    boto("ecs").update_service(cluster=record.cluster, service=record.service, desiredCount=0)
    boto("ecs").delete_service(cluster=record.cluster, service=record.service)  # INACTIVE, as ECS keeps it
    with pytest.raises(PrenvError) as raised:
        wake_up(aws, SleepRecord(**{**record.__dict__, "db_identifier": ""}), Clock().waits())
    assert raised.value.one_line() == (
        f"the preview's ECS service {record.service} is not in cluster {record.cluster} of us-east-1; "
        "deploy the PR again (push a commit or comment `/prenv deploy`) to recreate it"
    )
