"""What a preview has cost since its first deploy: a running ledger kept in its deploy record (pure).

Each `prenv deploy` (and `prenv wake`) settles the ledger: what the preview cost since the last
settlement, at the rate it ran at (awake until it was put to sleep, asleep after), is added to `spent`,
and the rates of the new deploy replace the old. So "cost so far" at any moment is `spent` plus the
current rate times the time since. The rates are prenv's estimates from the price table
(`prenv.core.cost`): list prices while running, without the charges that follow traffic.

The record is JSON beside the workspace's state (`prenv-deployed.json`, key `cost`); Decimals are kept as
strings, times as ISO 8601. A malformed ledger is no ledger (the figures are then unknown, never guessed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from prenv.core.cost import Estimate, PlanCost, per_day, usd

_PLACES = Decimal("0.000001")  # what the record keeps of a dollar figure
_SECONDS_PER_DAY = Decimal(86400)


def _days(start: datetime, end: datetime) -> Decimal:
    seconds = max((end - start).total_seconds(), 0.0)
    return Decimal(int(seconds)) / _SECONDS_PER_DAY


def _money(value: Decimal) -> str:
    return str(value.quantize(_PLACES))


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from a record (naive times are UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str | int):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


@dataclass(frozen=True)
class Ledger:
    """A preview's running cost: its rates and what it had cost by `since`."""

    first_deployed_at: datetime
    per_day: Decimal  # its own resources while awake
    asleep_per_day: Decimal  # its own resources while asleep (storage, secrets: what sleep does not stop)
    share_per_day: Decimal  # its share of the base, as of the last deploy (0: the base was not priced)
    spent: Decimal  # what it had cost by `since`
    since: datetime
    checked: str = ""  # the price table's date
    region: str = ""  # the price table's region
    not_priced: int = 0  # resources the estimate could not price (left out of the figures)

    def rate(self, *, asleep: bool) -> Decimal:
        """Its cost per day, with its share of the base, awake or asleep."""
        return (self.asleep_per_day if asleep else self.per_day) + self.share_per_day

    def so_far(self, now: datetime, *, slept_at: datetime | None = None) -> Decimal:
        """What it has cost since its first deploy, by `now`; asleep from `slept_at` on (if given)."""
        if slept_at is None or slept_at >= now:
            return self.spent + self.rate(asleep=False) * _days(self.since, now)
        awake_until = max(slept_at, self.since)
        return (
            self.spent
            + self.rate(asleep=False) * _days(self.since, awake_until)
            + self.rate(asleep=True) * _days(awake_until, now)
        )

    def settled(self, now: datetime, *, slept_at: datetime | None = None) -> Ledger:
        """The same rates, with what was spent by `now` carried into `spent`."""
        return replace(self, spent=self.so_far(now, slept_at=slept_at), since=now)

    def to_record(self) -> dict[str, Any]:
        return {
            "first_deployed_at": format_time(self.first_deployed_at),
            "per_day": _money(self.per_day),
            "asleep_per_day": _money(self.asleep_per_day),
            "share_per_day": _money(self.share_per_day),
            "spent": _money(self.spent),
            "since": format_time(self.since),
            "checked": self.checked,
            "region": self.region,
            "not_priced": self.not_priced,
        }


def from_record(record: Mapping[str, Any] | None) -> Ledger | None:
    """The ledger of a deploy record (its `cost`), or None when it has none or it is malformed."""
    cost = (record or {}).get("cost")
    if not isinstance(cost, Mapping):
        return None
    first, since = parse_time(cost.get("first_deployed_at")), parse_time(cost.get("since"))
    figures = [_decimal(cost.get(name)) for name in ("per_day", "asleep_per_day", "share_per_day", "spent")]
    not_priced = cost.get("not_priced", 0)
    if first is None or since is None or not isinstance(not_priced, int) or isinstance(not_priced, bool):
        return None
    per_day, asleep, share, spent = figures
    if per_day is None or asleep is None or share is None or spent is None:
        return None
    return Ledger(
        first_deployed_at=first,
        per_day=per_day,
        asleep_per_day=asleep,
        share_per_day=share,
        spent=spent,
        since=since,
        checked=str(cost.get("checked", "")),
        region=str(cost.get("region", "")),
        not_priced=not_priced,
    )


def first_deployed(record: Mapping[str, Any] | None, now: datetime) -> datetime:
    """When the preview was first deployed: the record's `first_deployed_at`; for a record written
    before prenv kept it, its `deployed_at` (the earliest deploy it knows of); with no record, `now`."""
    record = record or {}
    return parse_time(record.get("first_deployed_at")) or parse_time(record.get("deployed_at")) or now


def after_deploy(
    record: Mapping[str, Any] | None,
    cost: PlanCost,
    *,
    share_per_day: Decimal,
    now: datetime,
    slept_at: datetime | None = None,
) -> Ledger:
    """The ledger after a deploy whose plan is priced by `cost`, given the previous deploy record.

    What the preview cost since the last settlement is settled at the old rates (asleep from
    `slept_at`, when this deploy woke it). A record without a ledger (written before prenv kept one)
    is settled at the plan's "before" side, from that record's deploy time.
    """
    first = first_deployed(record, now)
    previous = from_record(record)
    if previous is None:
        before = cost.before
        previous = Ledger(
            first_deployed_at=first,
            per_day=before.own_per_day,
            asleep_per_day=before.own_per_day - before.sleeping_saves_per_day,
            share_per_day=Decimal(0),
            spent=Decimal(0),
            since=parse_time((record or {}).get("deployed_at")) or now,
        )
    spent = previous.so_far(now, slept_at=slept_at)
    after = cost.after
    return Ledger(
        first_deployed_at=min(first, previous.first_deployed_at),
        per_day=after.own_per_day,
        asleep_per_day=after.own_per_day - after.sleeping_saves_per_day,
        share_per_day=share_per_day,
        spent=spent,
        since=now,
        checked=after.checked,
        region=after.region,
        not_priced=len(after.not_priced),
    )


@dataclass(frozen=True)
class PreviewCost:
    """What the ready comment and the job summary say about a preview's cost after a deploy."""

    estimate: Estimate  # the preview's own lines, and its share of the base as a line when known
    ledger: Ledger
    change: Decimal  # how much this deploy changed its own cost per day
    existed: bool  # it existed before this deploy (else this is its first deploy)
    base_found: bool  # the base was found and priced, so the share is in the figures
    now: datetime

    @property
    def so_far(self) -> Decimal:
        return self.ledger.so_far(self.now)

    @property
    def running_for(self) -> timedelta:
        return self.now - self.ledger.first_deployed_at

    def line(self) -> str:
        """The cost in one line of plain text (the terminal's)."""
        estimate = self.estimate
        text = f"Cost: about {per_day(estimate.per_day)} while running"
        if self.base_found:
            own, share = per_day(estimate.own_per_day), per_day(estimate.shared_per_day)
            text += f" ({own} own + {share} share of the base)"
        text += f"; {usd(self.so_far)} so far"
        if self.existed and self.change.quantize(Decimal("0.01")):
            sign = "+" if self.change > 0 else "-"
            text += f"; this deploy changed it by {sign}{per_day(abs(self.change))}"
        return text
