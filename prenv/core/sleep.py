"""Sleeping previews: what prenv records when it puts an idle preview to sleep (pure).

A sleeping preview's ECS service runs no task and, when it has a database instance of its own, that
instance is stopped. The sleep record (`prenv-sleeping.json` beside the workspace's state) says where
those parts are and how many tasks to bring back, so waking needs no Terraform run. AWS starts a stopped
RDS instance again after seven days; cleanup stops it again on its next run after that (`stop_due`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from prenv.core.ledger import format_time, parse_time

# "You can stop a DB instance for up to seven days. If you don't manually start your DB instance after
# seven days, your DB instance is automatically started":
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html
RDS_RESTARTS_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class SleepRecord:
    """Where a sleeping preview's parts are, and what waking it restores."""

    slept_at: datetime
    region: str
    cluster: str
    service: str
    desired_count: int  # the service's desired count before it slept: what waking restores
    db_identifier: str = ""  # the preview's own RDS instance ("": none, or not stopped by prenv)
    db_stopped_at: datetime | None = None  # when prenv last saw it stopped (None: not stopped yet)
    saves_per_day: Decimal | None = None  # what sleeping saves per day (None: not priced)
    url: str = ""

    def stop_due(self, now: datetime) -> bool:
        """The database must be stopped (again): not stopped yet, or AWS has restarted it by now."""
        if not self.db_identifier:
            return False
        return self.db_stopped_at is None or now - self.db_stopped_at >= RDS_RESTARTS_AFTER

    @property
    def wake_count(self) -> int:
        """The tasks waking brings back: the count before sleep, at least one."""
        return max(self.desired_count, 1)

    def to_record(self) -> dict[str, Any]:
        return {
            "slept_at": format_time(self.slept_at),
            "region": self.region,
            "cluster": self.cluster,
            "service": self.service,
            "desired_count": self.desired_count,
            "db_identifier": self.db_identifier,
            "db_stopped_at": format_time(self.db_stopped_at) if self.db_stopped_at else None,
            "saves_per_day": None if self.saves_per_day is None else str(self.saves_per_day),
            "url": self.url,
        }


class SleepRecordError(ValueError):
    """A sleep record prenv cannot use; the message says which field."""


def from_record(data: Mapping[str, Any]) -> SleepRecord:
    """The sleep record from its JSON; SleepRecordError names what is wrong."""
    slept_at = parse_time(data.get("slept_at"))
    if slept_at is None:
        raise SleepRecordError("slept_at is not a time")
    texts = {name: data.get(name) for name in ("region", "cluster", "service")}
    for name, value in texts.items():
        if not isinstance(value, str) or not value:
            raise SleepRecordError(f"{name} is missing")
    count = data.get("desired_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise SleepRecordError("desired_count is not a whole number")
    saves: Decimal | None = None
    if data.get("saves_per_day") is not None:
        try:
            saves = Decimal(str(data["saves_per_day"]))
        except InvalidOperation:
            raise SleepRecordError("saves_per_day is not a number") from None
    return SleepRecord(
        slept_at=slept_at,
        region=str(texts["region"]),
        cluster=str(texts["cluster"]),
        service=str(texts["service"]),
        desired_count=count,
        db_identifier=str(data.get("db_identifier") or ""),
        db_stopped_at=parse_time(data.get("db_stopped_at")),
        saves_per_day=saves,
        url=str(data.get("url") or ""),
    )


@dataclass(frozen=True)
class SleepNotice:
    """What the PR's comment says when cleanup puts its preview to sleep."""

    slept_at: datetime
    idle: str  # how long it had been idle, "2d 3h"
    sleep_after: str  # cleanup.sleep_after, "2d"
    saves_per_day: Decimal | None  # what sleeping saves (None: not priced)
    asleep_per_day: Decimal | None  # what it still costs per day asleep (None: not priced)
    database: str  # the stopped database ("": none)
    expires_at: datetime | None = None  # warned as idle: still destroyed then


@dataclass(frozen=True)
class WakeNotice:
    """What the PR's comment says when `prenv wake` has woken its preview."""

    slept_at: datetime
    woken_at: datetime
    done: tuple[str, ...]  # what the wake did, in words
