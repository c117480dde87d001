"""The sleep record: what cleanup keeps of a sleeping preview, read back by wake, status and cleanup."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from prenv.core.sleep import RDS_RESTARTS_AFTER, SleepRecord, SleepRecordError, from_record

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
RECORD = SleepRecord(
    slept_at=NOW,
    region="eu-west-1",
    cluster="prenv-abc123",
    service="prenv-abc123-pr7-app",
    desired_count=2,
    db_identifier="prenv-abc123-pr7-db",
    db_stopped_at=NOW,
    saves_per_day=Decimal("0.68022"),
    url="http://example.test:10007/",
)


def test_the_record_reads_back_as_written() -> None:
    document = json.loads(json.dumps(RECORD.to_record()))
    assert document["slept_at"] == "2026-12-02T12:00:00+00:00"
    assert document["saves_per_day"] == "0.68022"
    assert from_record(document) == RECORD


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"slept_at": "soon"}, "slept_at is not a time"),
        ({"cluster": ""}, "cluster is missing"),
        ({"service": None}, "service is missing"),
        ({"desired_count": -1}, "desired_count is not a whole number"),
        ({"desired_count": True}, "desired_count is not a whole number"),
        ({"saves_per_day": "lots"}, "saves_per_day is not a number"),
    ],
)
def test_a_record_prenv_cannot_use_says_which_field(change: dict[str, Any], error: str) -> None:
    with pytest.raises(SleepRecordError, match=f"^{error}$"):
        from_record(RECORD.to_record() | change)


def test_the_database_is_due_to_be_stopped_again_after_seven_days() -> None:
    assert timedelta(days=7) == RDS_RESTARTS_AFTER
    assert not RECORD.stop_due(NOW + timedelta(days=6, hours=23))
    assert RECORD.stop_due(NOW + timedelta(days=7))
    not_stopped = SleepRecord(**{**RECORD.__dict__, "db_stopped_at": None})
    assert not_stopped.stop_due(NOW)
    no_database = SleepRecord(**{**RECORD.__dict__, "db_identifier": "", "db_stopped_at": None})
    assert not no_database.stop_due(NOW + timedelta(days=30))


def test_waking_brings_back_at_least_one_task() -> None:
    assert RECORD.wake_count == 2
    assert SleepRecord(**{**RECORD.__dict__, "desired_count": 0}).wake_count == 1
